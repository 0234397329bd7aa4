package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/redlease/redlease/pkg/lease"
)

// Client-side sentinels for answers that have no pkg/lease counterpart.
// Service refusals match the pkg/lease sentinels (lease.ErrHeld,
// lease.ErrFenced, lease.ErrStale, lease.ErrLostRace, lease.ErrUnavailable,
// lease.ErrInvalid, lease.ErrNotFound) exactly as they do inside the service.
var (
	// ErrOutcomeUnknown: a write (acquire, refresh, release) may or may not
	// have been applied — the connection broke after the request was sent,
	// or the service or gateway answered 500/502/503/504 — and no later
	// attempt settled it. See the package doc for what each method
	// guarantees then.
	ErrOutcomeUnknown = errors.New("outcome unknown")
	// ErrUnauthorized: the service or API Gateway refused the caller's
	// credentials (401, or API Gateway's own 403): a missing, unknown or
	// malformed bearer token, a missing or wrong SigV4 signature, or an
	// IAM policy that does not allow the route (or the key, on the routes
	// with the key in the path). It is lease.ErrUnauthorized. The
	// service's 403 forbidden (the key outside the principal's prefixes,
	// another principal's lease) is lease.ErrForbidden.
	ErrUnauthorized = lease.ErrUnauthorized
	// ErrInternal: the service failed with a bug (500 internal).
	ErrInternal = errors.New("internal service error")
	// ErrUnexpected: an answer the contract does not describe.
	ErrUnexpected = errors.New("unexpected response")
)

// APIError is a refusal answered by the service (or the gateway in front of
// it). It unwraps to the typed pkg/lease error of its code, so that
// errors.Is(err, lease.ErrHeld) and errors.As(err, &heldErr) work on it.
type APIError struct {
	Op         string // "acquire", "refresh", "release", "get"
	StatusCode int
	Code       string // the contract's error code; "" when the body had none
	Message    string
	RequestID  string
	// RetryAfter is the service's hint (retry_after_ms, else Retry-After).
	RetryAfter time.Duration
	// Field names the refused request field (invalid_request).
	Field string
	// Err is the typed error: *lease.HeldError, *lease.FencedError,
	// *lease.StaleError, *lease.LostRaceError, *lease.UnavailableError,
	// *lease.InvalidError, lease.ErrNotFound or a client sentinel.
	Err error
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d", e.Op, e.StatusCode)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	msg := e.Message
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	if msg != "" {
		b.WriteString(": " + msg)
	}
	if e.RequestID != "" {
		b.WriteString(" (request id " + e.RequestID + ")")
	}
	return b.String()
}

// Unwrap exposes the typed error.
func (e *APIError) Unwrap() error { return e.Err }

// OutcomeUnknownError marks a failed write whose effect is unknown. It
// unwraps to the last attempt's error.
type OutcomeUnknownError struct {
	Op  string
	Err error
}

func (e *OutcomeUnknownError) Error() string {
	return e.Op + ": outcome unknown, the request may have been applied: " + e.Err.Error()
}

// Unwrap exposes the last attempt's error.
func (e *OutcomeUnknownError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrOutcomeUnknown) true.
func (e *OutcomeUnknownError) Is(target error) bool { return target == ErrOutcomeUnknown }

// errorBody is the contract's error document.
type errorBody struct {
	Error struct {
		Code         string       `json:"code"`
		Message      string       `json:"message"`
		Field        string       `json:"field"`
		Current      *lease.Lease `json:"current"`
		RetryAfterMs *uint64      `json:"retry_after_ms"`
		CurrentTerm  uint64       `json:"current_term"`
		RequestID    string       `json:"request_id"`
	} `json:"error"`
	// API Gateway's own refusals ({"message":"Forbidden"}).
	Message string `json:"message"`
}

// requestFacts are what the client sent, to fill the typed errors the way
// the service does.
type requestFacts struct {
	holderID   string
	generation uint64
	term       uint64
}

// decodeAPIError turns a non-2xx answer into an *APIError.
func decodeAPIError(op string, status int, header http.Header, body []byte, facts requestFacts) *APIError {
	var eb errorBody
	_ = json.Unmarshal(body, &eb) // a body that is not the contract's still yields an APIError
	e := &APIError{
		Op:         op,
		StatusCode: status,
		Code:       eb.Error.Code,
		Message:    eb.Error.Message,
		Field:      eb.Error.Field,
		RequestID:  requestID(header, eb.Error.RequestID),
		RetryAfter: retryAfter(header, eb.Error.RetryAfterMs),
	}
	if e.Message == "" {
		e.Message = eb.Message
	}
	if e.Message == "" {
		e.Message = strings.TrimSpace(string(body[:min(len(body), 200)]))
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	switch e.Code {
	case "invalid_request":
		e.Err = &lease.InvalidError{Field: e.Field, Reason: e.Message}
	case "too_large":
		e.Err = &lease.InvalidError{Field: "body", Reason: e.Message}
	case "not_found":
		e.Err = lease.ErrNotFound
	case "held":
		he := &lease.HeldError{RetryAfter: e.RetryAfter}
		if eb.Error.Current != nil {
			he.Current = *eb.Error.Current
		}
		e.Err = he
	case "fenced":
		e.Err = &lease.FencedError{AttemptedTerm: facts.term, CurrentTerm: eb.Error.CurrentTerm}
	case "stale":
		e.Err = &lease.StaleError{HolderID: facts.holderID, Generation: facts.generation, Current: eb.Error.Current}
	case "lost_race":
		e.Err = &lease.LostRaceError{RetryAfter: e.RetryAfter}
	case "backend_unavailable":
		e.Err = lease.Unavailable(errors.New(e.Message), e.RetryAfter)
	case "clock_skew":
		e.Err = &lease.ClockSkewError{RetryAfter: e.RetryAfter}
	case "internal":
		e.Err = ErrInternal
	case "storage_corrupt":
		e.Err = fmt.Errorf("%w: %s", lease.ErrCorrupt, e.Message)
	case "unauthorized":
		e.Err = &lease.UnauthorizedError{Reason: e.Message, Presented: true}
	case "forbidden":
		e.Err = &lease.ForbiddenError{Reason: e.Message}
	default:
		e.Err = statusError(status, e)
	}
	return e
}

// statusError classifies answers without a contract code, typically API
// Gateway's own (403 for a bad signature, 429 throttling, 502/504 when the
// Lambda failed or timed out).
func statusError(status int, e *APIError) error {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return ErrUnauthorized
	case http.StatusNotFound:
		return lease.ErrNotFound
	case http.StatusRequestEntityTooLarge:
		return &lease.InvalidError{Field: "body", Reason: e.Message}
	case http.StatusBadRequest:
		return &lease.InvalidError{Field: e.Field, Reason: e.Message}
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return lease.Unavailable(errors.New(e.Message), e.RetryAfter)
	case http.StatusInternalServerError:
		return ErrInternal
	}
	return ErrUnexpected
}

// requestID finds the id a person can quote when asking about a request:
// the service's own, else API Gateway's.
func requestID(h http.Header, fromBody string) string {
	if fromBody != "" {
		return fromBody
	}
	for _, k := range []string{"X-Request-Id", "X-Amzn-Requestid", "Apigw-Requestid"} {
		if v := h.Get(k); v != "" {
			return v
		}
	}
	return ""
}

// retryAfter prefers the body's millisecond hint and falls back to the
// Retry-After header (seconds or an HTTP date).
func retryAfter(h http.Header, ms *uint64) time.Duration {
	if ms != nil {
		return msDuration(*ms)
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// msDuration converts the contract's milliseconds, saturating instead of
// overflowing on absurd values.
func msDuration(ms uint64) time.Duration {
	const maxMs = uint64(math.MaxInt64 / int64(time.Millisecond))
	return time.Duration(min(ms, maxMs)) * time.Millisecond
}
