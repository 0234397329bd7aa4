package api

import (
	"context"
	"net/http"

	"github.com/redlease/redlease/pkg/lease"
)

// Authenticator establishes the principal of a request from the
// credentials in its headers (a bearer token, pkg/auth), or refuses with
// an error matching lease.ErrUnauthorized (an *lease.UnauthorizedError
// says why). It must be safe for concurrent use and must never log or
// return the credential itself.
type Authenticator interface {
	Authenticate(ctx context.Context, h http.Header) (lease.Principal, error)
}

// AuthenticatorFunc adapts a function to an Authenticator.
type AuthenticatorFunc func(ctx context.Context, h http.Header) (lease.Principal, error)

// Authenticate implements Authenticator.
func (f AuthenticatorFunc) Authenticate(ctx context.Context, h http.Header) (lease.Principal, error) {
	return f(ctx, h)
}

// Open is the Authenticator of an open server (redlease serve without
// tokens): every request is lease.Anonymous, whatever it sends.
func Open() Authenticator {
	return AuthenticatorFunc(func(context.Context, http.Header) (lease.Principal, error) {
		return lease.Anonymous, nil
	})
}

// Authenticate returns a Face that establishes each request's principal
// with auth before face serves it, unless the transport already did (an
// IAM identity from API Gateway's request context, which no header can
// override). A request that auth refuses reaches face without a principal
// and with the refusal in Request.AuthError, so that every face answers
// 401 in its own format and logs it like any other request, before it
// reads the body or touches storage.
func Authenticate(face Face, auth Authenticator) Face {
	if face == nil || auth == nil {
		panic("api: Authenticate needs a face and an authenticator")
	}
	return authenticated{face: face, auth: auth}
}

type authenticated struct {
	face Face
	auth Authenticator
}

func (a authenticated) Serve(ctx context.Context, req Request) Response {
	if req.Principal.Name == "" {
		p, err := a.auth.Authenticate(ctx, req.Header)
		switch {
		case err != nil:
			req.Principal, req.AuthError = lease.Principal{}, err
		case p.Name == "":
			req.AuthError = &lease.UnauthorizedError{Reason: "the credentials name no principal"}
		default:
			req.Principal = p
		}
	}
	return a.face.Serve(ctx, req)
}

// Unauthenticated is the refusal of a request without a principal, for
// any face to answer 401 with (BearerChallenge as its WWW-Authenticate):
// the authenticator's reason, or that no credentials were established at
// all. It matches lease.ErrUnauthorized.
func Unauthenticated(req Request) error {
	if req.AuthError != nil {
		return req.AuthError
	}
	return &lease.UnauthorizedError{Reason: "the request carries no credentials"}
}

// BearerChallenge is the WWW-Authenticate value of a 401 (RFC 6750): a
// bearer token is wanted, and error="invalid_token" when one was sent but
// refused.
func BearerChallenge(presented bool) string {
	const challenge = `Bearer realm="redlease"`
	if presented {
		return challenge + `, error="invalid_token"`
	}
	return challenge
}
