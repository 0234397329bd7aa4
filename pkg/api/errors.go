package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/objects"
)

// The error codes of the contract, plus method_not_allowed (an extension).
const (
	CodeInvalidRequest     = "invalid_request"
	CodeNotFound           = "not_found"
	CodeHeld               = "held"
	CodeFenced             = "fenced"
	CodeStale              = "stale"
	CodeLostRace           = "lost_race"
	CodeTooLarge           = "too_large"
	CodeBackendUnavailable = "backend_unavailable"
	CodeClockSkew          = "clock_skew"
	CodeInternal           = "internal"
	CodeMethodNotAllowed   = "method_not_allowed"
	CodeForbidden          = "forbidden"
	CodeUnauthorized       = "unauthorized"
	// The RedDB face's (pkg/api/reddb): a compare-and-swap or lease intent
	// that does not hold, a write without the condition it needs, and the
	// data fence's refusals.
	CodePreconditionFailed   = "precondition_failed"
	CodePreconditionRequired = "precondition_required"
	CodeLeaseNotHeld         = "lease_not_held"
	CodeHeldByOther          = "held_by_other"
	CodeLeaseRequired        = "lease_required"
	// CodeStorageCorrupt: storage holds an object that is not what it must
	// be (a record RedDB cannot read, a symlink or special file where a
	// record or lock file belongs). Retrying does not help; an operator
	// must repair it.
	CodeStorageCorrupt = "storage_corrupt"
)

// The codes a transport answers for a request that no face saw: net/http
// refused to parse it (httpserver.Listener), the API Gateway event is not
// a request (apigw), or the local server is at its connection cap.
const (
	CodeMalformedRequest        = "malformed_request"
	CodeHeadersTooLarge         = "headers_too_large"
	CodeNotImplemented          = "not_implemented"
	CodeHTTPVersionNotSupported = "http_version_not_supported"
	CodeOverloaded              = "overloaded"
)

// CodeOK is the outcome logged and counted for a success.
const CodeOK = "ok"

// errorTable is the one place that maps the domain's sentinel errors to a
// status and code; the first entry that errors.Is matches wins. Anything not
// listed (ErrExhausted, bugs) is 500 internal.
var errorTable = []struct {
	target error
	status int
	code   string
}{
	{lease.ErrUnauthorized, http.StatusUnauthorized, CodeUnauthorized},
	{lease.ErrForbidden, http.StatusForbidden, CodeForbidden},
	{lease.ErrInvalid, http.StatusBadRequest, CodeInvalidRequest},
	{lease.ErrNotFound, http.StatusNotFound, CodeNotFound},
	{lease.ErrHeld, http.StatusConflict, CodeHeld},
	{lease.ErrFenced, http.StatusConflict, CodeFenced},
	{lease.ErrStale, http.StatusConflict, CodeStale},
	{lease.ErrLostRace, http.StatusConflict, CodeLostRace},
	{lease.ErrUnavailable, http.StatusServiceUnavailable, CodeBackendUnavailable},
	{lease.ErrClockSkew, http.StatusServiceUnavailable, CodeClockSkew},
	{lease.ErrPrecondition, http.StatusPreconditionFailed, CodePreconditionFailed},
	{lease.ErrCorrupt, http.StatusInternalServerError, CodeStorageCorrupt},
}

// transportCodes are the status of each code a transport answers itself
// (ProtocolError).
var transportCodes = map[string]int{
	CodeMalformedRequest:        http.StatusBadRequest,
	CodeHeadersTooLarge:         http.StatusRequestHeaderFieldsTooLarge,
	CodeNotImplemented:          http.StatusNotImplemented,
	CodeHTTPVersionNotSupported: http.StatusHTTPVersionNotSupported,
	CodeOverloaded:              http.StatusServiceUnavailable,
}

// ErrorCodes returns every error code the JSON API answers, with its
// status: the error table's, those the Handler answers itself and those a
// transport answers (a fresh map, the caller's). docs/api.md and api/openapi.yaml are held to it.
func ErrorCodes() map[string]int {
	codes := map[string]int{
		CodeNotFound:         http.StatusNotFound, // also an unknown route
		CodeMethodNotAllowed: http.StatusMethodNotAllowed,
		CodeTooLarge:         http.StatusRequestEntityTooLarge,
		CodeInternal:         http.StatusInternalServerError,
		// The RedDB face's own refusals.
		CodePreconditionRequired: http.StatusPreconditionRequired,
		CodeHeldByOther:          http.StatusForbidden,
		CodeLeaseNotHeld:         http.StatusForbidden,
		CodeLeaseRequired:        http.StatusForbidden,
	}
	for _, row := range errorTable {
		codes[row.code] = row.status
	}
	for code, status := range transportCodes {
		codes[code] = status
	}
	return codes
}

// ProtocolError is the answer of a transport to a request it could not
// take as one: status is 400 (malformed_request), 431, 501, 505 or 503
// (overloaded; retryAfter is then its hint); any other status is answered
// as 400. reason is for people and must carry no internal error text.
func ProtocolError(requestID string, status int, reason string, retryAfter time.Duration) Response {
	code := CodeMalformedRequest
	for c, s := range transportCodes {
		if s == status {
			code = c
		}
	}
	if code == CodeMalformedRequest {
		status = http.StatusBadRequest
	}
	if requestID == "" {
		requestID = randomID()
	}
	e := &apiError{status: status, detail: errorDetail{Code: code, Message: reason}}
	if code == CodeOverloaded {
		e.detail.RetryAfterMs = ceilMs(retryAfter)
	}
	return errorResponse(requestID, e)
}

// defaultUnavailableRetry is the hint sent when a backend gave none.
const defaultUnavailableRetry = time.Second

// errorDetail is the body's "error" member.
type errorDetail struct {
	Code         string       `json:"code"`
	Message      string       `json:"message"`
	Field        string       `json:"field,omitempty"`
	Current      *lease.Lease `json:"current,omitempty"`
	CurrentTerm  uint64       `json:"current_term,omitempty"`
	RetryAfterMs uint64       `json:"retry_after_ms,omitempty"`
}

// apiError is a refusal ready to be written.
type apiError struct {
	status    int
	detail    errorDetail
	allow     string // Allow header of a 405
	challenge string // WWW-Authenticate header of a 401
}

// toAPIError classifies err. Messages are written for people and never
// carry a storage or internal error's text; that goes to the log only.
func toAPIError(err error) *apiError {
	e := &apiError{status: http.StatusInternalServerError,
		detail: errorDetail{Code: CodeInternal, Message: "internal error; the request id identifies it in the service's logs"}}
	for _, row := range errorTable {
		if errors.Is(err, row.target) {
			e.status, e.detail.Code = row.status, row.code
			break
		}
	}
	d := &e.detail
	switch d.Code {
	case CodeUnauthorized:
		d.Message, e.challenge = "the request carries no credentials", BearerChallenge(false)
		var un *lease.UnauthorizedError
		if errors.As(err, &un) {
			d.Message, e.challenge = un.Reason, BearerChallenge(un.Presented)
		}
	case CodeForbidden:
		// Never the owner's name, never whether the key exists.
		d.Message = "this principal may not do this"
		var (
			fe *lease.ForbiddenError
			dw *lease.DataWriteError
		)
		switch {
		case errors.As(err, &dw): // the RedDB face's data fence
			d.Code, d.Message = dataWriteCode(dw.Reason), dw.Reason
		case errors.As(err, &fe):
			d.Message = fe.Reason
		}
	case CodeInvalidRequest:
		var (
			inv  *lease.InvalidError
			body *objects.BodyError
		)
		switch {
		case errors.As(err, &inv):
			d.Field, d.Message = inv.Field, inv.Field+" "+inv.Reason
		case errors.As(err, &body):
			d.Field, d.Message = fieldBody, fieldBody+" "+body.Reason
		default:
			d.Field, d.Message = fieldBody, "the request is invalid"
		}
	case CodePreconditionFailed:
		d.Message = "the precondition of the request does not hold; nothing was written"
		var ie *lease.IntentError
		if errors.As(err, &ie) {
			d.Message = ie.Reason
		}
	case CodeNotFound:
		d.Message = "no lease record exists for this database_key"
	case CodeHeld:
		var held *lease.HeldError
		if errors.As(err, &held) {
			cur := held.Current
			d.Current, d.RetryAfterMs = &cur, ceilMs(held.RetryAfter)
			d.Message = fmt.Sprintf("the lease is held by %q (generation %d) for another %d ms",
				cur.HolderID, cur.Generation, d.RetryAfterMs)
		} else {
			d.Message = "the lease is held by another holder"
		}
	case CodeFenced:
		var fenced *lease.FencedError
		if errors.As(err, &fenced) {
			d.CurrentTerm = fenced.CurrentTerm
			d.Message = fmt.Sprintf("term %d is behind the current term %d", fenced.AttemptedTerm, fenced.CurrentTerm)
		} else {
			d.Message = "the caller's term is behind the current term"
		}
	case CodeStale:
		d.Message = "this holder's generation is no longer the lease's"
		var stale *lease.StaleError
		if errors.As(err, &stale) {
			if stale.Current != nil {
				cur := *stale.Current
				d.Current = &cur
			}
			d.Message = fmt.Sprintf("holder %q generation %d is no longer the lease's", stale.HolderID, stale.Generation)
		}
	case CodeLostRace:
		d.Message = "a concurrent writer won; the request is safe to retry"
		d.RetryAfterMs = 100
		var race *lease.LostRaceError
		if errors.As(err, &race) {
			d.RetryAfterMs = ceilMs(race.RetryAfter)
		}
	case CodeClockSkew:
		// Nothing was written; another instance, or this one once its
		// clock is right, may answer. The clock readings go to the log.
		d.Message = "this service instance's clock reads earlier than the stored lease record's last change; nothing was written; retry"
		d.RetryAfterMs = ceilMs(defaultUnavailableRetry)
		var skew *lease.ClockSkewError
		if errors.As(err, &skew) && skew.RetryAfter > 0 {
			d.RetryAfterMs = ceilMs(skew.RetryAfter)
		}
	case CodeStorageCorrupt:
		d.Message = "lease storage holds an object that is not a valid lease record or lock file; " +
			"retrying will not help until an operator repairs it (the request id identifies it in the service's logs)"
	case CodeBackendUnavailable:
		d.Message = "lease storage is unavailable; retry later"
		d.RetryAfterMs = ceilMs(defaultUnavailableRetry)
		var un *lease.UnavailableError
		if errors.As(err, &un) && un.RetryAfter > 0 {
			d.RetryAfterMs = ceilMs(un.RetryAfter)
		}
	}
	return e
}

// ceilMs rounds a hint up to whole milliseconds, at least 1: a hint of 0
// would invite a busy retry loop.
func ceilMs(d time.Duration) uint64 {
	ms := (d + time.Millisecond - 1) / time.Millisecond
	return uint64(max(ms, 1))
}

// retryAfterSeconds renders a Retry-After header: whole seconds, rounded up.
func retryAfterSeconds(ms uint64) string {
	return fmt.Sprint((ms + 999) / 1000)
}

func tooLarge() *apiError {
	return &apiError{status: http.StatusRequestEntityTooLarge, detail: errorDetail{
		Code: CodeTooLarge, Message: fmt.Sprintf("the request body exceeds %d bytes", MaxBodyBytes)}}
}

func notFoundRoute() *apiError {
	return &apiError{status: http.StatusNotFound, detail: errorDetail{
		Code: CodeNotFound, Message: "no such route"}}
}

func methodNotAllowed(method string, methods []string) *apiError {
	allow := strings.Join(methods, ", ")
	return &apiError{status: http.StatusMethodNotAllowed, allow: allow, detail: errorDetail{
		Code: CodeMethodNotAllowed, Message: fmt.Sprintf("method %s is not allowed here; use %s", method, allow)}}
}

// dataWriteCode is the code of a data fence refusal.
func dataWriteCode(reason string) string {
	switch reason {
	case lease.DataHeldByOther:
		return CodeHeldByOther
	case lease.DataNoLease:
		return CodeLeaseRequired
	}
	return CodeLeaseNotHeld
}

// ErrorResponse is the answer to err as the contract writes errors
// (`{"error":{"code","message",...}}`, the status and code from the one
// error table), for faces beside the JSON API. It never carries an
// internal error's text. It also returns the code, for the face's log.
func ErrorResponse(requestID string, err error) (Response, string) {
	e := toAPIError(err)
	return errorResponse(requestID, e), e.detail.Code
}

// RefusalResponse is an error answer a face decides itself (a method it
// does not serve, a body over its limit, a missing precondition), in the
// same shape as ErrorResponse. allow is the Allow header of a 405.
func RefusalResponse(requestID string, status int, code, message, allow string) Response {
	return errorResponse(requestID, &apiError{status: status, allow: allow, detail: errorDetail{Code: code, Message: message}})
}
