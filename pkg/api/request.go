package api

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/redlease/redlease/pkg/lease"
)

// MaxBodyBytes is the largest request body the lease contract accepts
// (16 KiB). The Handler reads at most MaxBodyBytes+1 bytes, so that it can
// tell "too large" without holding more.
const MaxBodyBytes = 16 << 10

// HeaderRequestID carries the request id on every response.
const HeaderRequestID = "X-Request-Id"

// Face is one protocol served over the lease service: it answers a
// Request with a Response. Handler is the JSON lease API; the RedDB object
// protocol is another face with the same shape. The transport adapters
// (apigw, httpserver) take a Face, so they serve either, or a Mux of both.
// A Face must be safe for concurrent use and must not panic.
type Face interface {
	Serve(ctx context.Context, req Request) Response
}

// Request is one HTTP request, whatever carried it.
type Request struct {
	Method string
	// Path is the request path as sent, still percent-encoded, without an
	// API Gateway stage prefix.
	Path string
	// Route is the route template the gateway matched, as it names it
	// ("/v1/leases/{database_key+}"), with its parameters in PathParams.
	// Empty when no gateway routed the request (the local server, a
	// $default route). A face uses a Route it knows and otherwise Path, so
	// adapters pass both on without knowing which routes exist.
	Route      string
	PathParams map[string]string
	// Query is the raw query string, without the '?' ("list=a%2Fb").
	Query  string
	Header http.Header
	// Body is read by the face, which alone knows how much of it it
	// accepts: the JSON API reads at most MaxBodyBytes+1 bytes, the object
	// face streams large bodies through. nil is an empty body. A read error
	// answers as an invalid body; a *BodyError says why.
	Body io.Reader
	// ContentLength is the body's declared length, UnknownLength when the
	// transport does not know it (a chunked upload). A face that stores
	// bodies holds them to it, so a cut-off upload never lands.
	ContentLength int64
	// RequestID identifies the request in the response and every log line;
	// the face makes one when empty.
	RequestID string
	// Principal is the caller, established by the entry point: the
	// transport (apigw: the IAM identity in API Gateway's request
	// context) or an Authenticator (Authenticate: a bearer token, or
	// lease.Anonymous on an open server). Never read from the body. A face
	// refuses a request without one with 401, before anything else.
	Principal lease.Principal
	// AuthError is why no principal was established (an error matching
	// lease.ErrUnauthorized), for the 401; nil when nothing was tried.
	AuthError error
}

// UnknownLength is Request.ContentLength when the length is not declared.
const UnknownLength int64 = -1

// Response is what the transport sends back. Its body is bytes: every
// answer of the JSON API is small. An object face streams large bodies
// instead, through Stream. (Requests are readers because their size is the
// client's choice.)
type Response struct {
	Status int
	Header map[string]string
	Body   []byte
	// Stream, when not nil, is the body instead of Body, StreamLength bytes
	// long; the transport copies it to the client and closes it. The local
	// server streams it; the Lambda adapter reads it whole, which the face
	// bounds to what a Lambda response can carry.
	Stream       io.ReadCloser
	StreamLength int64
}

// BodyError is a transport's reason why the request body cannot be read,
// in words for the client ("is marked base64-encoded but is not valid
// base64"); adapters return it from Request.Body.
type BodyError struct {
	Reason string
}

func (e *BodyError) Error() string { return "body " + e.Reason }

// bodyUnreadable is the reason given for a read error that is no BodyError.
const bodyUnreadable = "could not be read completely"

// readRequestBody reads at most limit bytes of body. A read error comes back as
// the reason the body is invalid, alongside what was read before it.
func readRequestBody(body io.Reader, limit int64) ([]byte, string) {
	if body == nil {
		return nil, ""
	}
	b, err := io.ReadAll(io.LimitReader(body, limit))
	if err == nil {
		return b, ""
	}
	if be, ok := errors.AsType[*BodyError](err); ok {
		return b, be.Reason
	}
	return b, bodyUnreadable
}
