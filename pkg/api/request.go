package api

import (
	"net/http"
	"net/url"
	"strings"
)

// MaxBodyBytes is the largest request body the contract accepts (16 KiB).
// Adapters read at most MaxBodyBytes+1 bytes, so that the core can tell
// "too large" without holding more.
const MaxBodyBytes = 16 << 10

// Request is one HTTP request, already read, whatever carried it.
type Request struct {
	Method string
	// Path is either a route template as API Gateway names it (for example
	// "/v1/leases/{database_key+}", with the key in PathParams) or the
	// request path as sent, still percent-encoded.
	Path       string
	PathParams map[string]string
	Header     http.Header
	Body       []byte
	// BodyInvalid, when not empty, says why the transport could not
	// produce the body (an API Gateway body that is not valid base64).
	BodyInvalid string
	// RequestID identifies the request in the response and every log line;
	// the Handler makes one when empty.
	RequestID string
}

// Response is what the transport sends back.
type Response struct {
	Status int
	Header map[string]string
	Body   []byte
}

// Op names one operation of the contract; it is also the route's name in
// logs and metrics.
type Op string

// The operations of the contract.
const (
	OpAcquire Op = "acquire"
	OpRefresh Op = "refresh"
	OpRelease Op = "release"
	OpGet     Op = "get"
)

// Ops lists every operation.
var Ops = []Op{OpAcquire, OpRefresh, OpRelease, OpGet}

// Route paths. KeyParam is the greedy path parameter of the read route,
// PathGetRoute the read route's template as API Gateway names it.
const (
	PathAcquire  = "/v1/acquire"
	PathRefresh  = "/v1/refresh"
	PathRelease  = "/v1/release"
	PathLeases   = "/v1/leases/"
	KeyParam     = "database_key"
	PathGetRoute = PathLeases + "{" + KeyParam + "+}"
)

// HeaderRequestID carries the request id on every response.
const HeaderRequestID = "X-Request-Id"

// Method returns the HTTP method of op.
func (op Op) Method() string {
	if op == OpGet {
		return http.MethodGet
	}
	return http.MethodPost
}

// route resolves a path to an operation and, for the read, the database
// key percent-decoded once. ok is false for an unknown route.
func route(path string, params map[string]string) (op Op, key string, ok bool, err error) {
	switch path {
	case PathAcquire:
		return OpAcquire, "", true, nil
	case PathRefresh:
		return OpRefresh, "", true, nil
	case PathRelease:
		return OpRelease, "", true, nil
	case PathGetRoute:
		key, err = unescapeKey(params[KeyParam])
		return OpGet, key, true, err
	}
	if rest, found := strings.CutPrefix(path, PathLeases); found {
		key, err = unescapeKey(rest)
		return OpGet, key, true, err
	}
	return "", "", false, nil
}

func unescapeKey(raw string) (string, error) {
	key, err := url.PathUnescape(raw)
	if err != nil {
		return "", invalidField(KeyParam, "is not a valid percent-encoded path")
	}
	return key, nil
}
