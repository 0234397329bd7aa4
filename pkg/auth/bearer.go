package auth

import (
	"context"
	"net/http"
	"strings"

	"github.com/redlease/redlease/pkg/lease"
)

// MaxTokenBytes bounds a bearer token; longer ones are malformed.
const MaxTokenBytes = 4096

// The reasons a bearer request is refused, as the client reads them: none
// echoes the token, none tells a near miss from a wild guess.
const (
	ReasonMissing   = "the request carries no bearer token: send Authorization: Bearer <token>"
	ReasonMalformed = "the Authorization header is not one \"Bearer <token>\" with a token of RFC 6750 characters"
	ReasonUnknown   = "the bearer token is not one this service issued"
)

// BearerToken returns the token of the request's one Authorization header,
// "Bearer <token>" (the scheme in any case, RFC 6750's token characters).
// The error is an *lease.UnauthorizedError.
func BearerToken(h http.Header) (string, error) {
	values := h.Values("Authorization")
	switch {
	case len(values) == 0:
		return "", &lease.UnauthorizedError{Reason: ReasonMissing}
	case len(values) > 1:
		return "", &lease.UnauthorizedError{Reason: ReasonMalformed, Presented: true}
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || !isB64Token(token) {
		return "", &lease.UnauthorizedError{Reason: ReasonMalformed, Presented: true}
	}
	return token, nil
}

// isB64Token checks RFC 6750's b64token: 1*( ALPHA / DIGIT / "-" / "." /
// "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" || len(s) > MaxTokenBytes {
		return false
	}
	for i := range len(body) {
		c := body[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && strings.IndexByte("-._~+/", c) < 0 {
			return false
		}
	}
	return true
}

// Authenticate establishes the principal of a bearer request: the entry
// whose sha256 is the token's. It implements api.Authenticator.
func (s *Set) Authenticate(_ context.Context, h http.Header) (lease.Principal, error) {
	token, err := BearerToken(h)
	if err != nil {
		return lease.Principal{}, err
	}
	p, ok := s.Lookup(token)
	if !ok {
		return lease.Principal{}, &lease.UnauthorizedError{Reason: ReasonUnknown, Presented: true}
	}
	return p, nil
}
