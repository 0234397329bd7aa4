package auth_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/redlease/redlease/pkg/auth"
	"github.com/redlease/redlease/pkg/lease"
)

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	set, err := auth.Parse([]byte(document()))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		header    http.Header
		principal string // "" when refused
		reason    string
		presented bool
	}{
		{"valid token", bearer(tokenA), "tenant-a-reddb", "", false},
		{"scheme in another case", http.Header{"Authorization": {"bearer " + tokenOps}}, "ops", "", false},
		{"no Authorization header", http.Header{}, "", auth.ReasonMissing, false},
		{"unknown token", bearer("not-issued-0123456789"), "", auth.ReasonUnknown, true},
		{"a token's hash sent as the token", bearer(auth.Hash(tokenA)), "", auth.ReasonUnknown, true},
		{"Basic scheme", http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}}, "", auth.ReasonMalformed, true},
		{"scheme only", http.Header{"Authorization": {"Bearer"}}, "", auth.ReasonMalformed, true},
		{"empty token", http.Header{"Authorization": {"Bearer "}}, "", auth.ReasonMalformed, true},
		{"two spaces", http.Header{"Authorization": {"Bearer  " + tokenA}}, "", auth.ReasonMalformed, true},
		{"token with a space", http.Header{"Authorization": {"Bearer " + tokenA + " x"}}, "", auth.ReasonMalformed, true},
		{"token with a quote", http.Header{"Authorization": {`Bearer "` + tokenA + `"`}}, "", auth.ReasonMalformed, true},
		{"only padding", http.Header{"Authorization": {"Bearer ==="}}, "", auth.ReasonMalformed, true},
		{"padding inside", http.Header{"Authorization": {"Bearer ab=cd"}}, "", auth.ReasonMalformed, true},
		{"two headers", http.Header{"Authorization": {"Bearer " + tokenA, "Bearer " + tokenB}}, "", auth.ReasonMalformed, true},
		{"too long", bearer(strings.Repeat("a", auth.MaxTokenBytes+1)), "", auth.ReasonMalformed, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := set.Authenticate(context.Background(), tc.header)
			if tc.principal != "" {
				if err != nil || p.Name != tc.principal {
					t.Fatalf("Authenticate = %+v, %v; want %q", p, err, tc.principal)
				}
				return
			}
			var un *lease.UnauthorizedError
			if !errors.Is(err, lease.ErrUnauthorized) || !errors.As(err, &un) || un.Reason != tc.reason || un.Presented != tc.presented || p.Name != "" {
				t.Fatalf("Authenticate = %+v, %v; want unauthorized: %q (presented %v)", p, err, tc.reason, tc.presented)
			}
		})
	}
}
