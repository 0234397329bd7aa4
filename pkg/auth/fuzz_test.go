package auth_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/redlease/redlease/pkg/auth"
	"github.com/redlease/redlease/pkg/lease"
)

// FuzzParse: never a panic; an accepted document's principals all have a
// name, prefixes, and prefixes that are "" or end in "/".
func FuzzParse(f *testing.F) {
	f.Add([]byte(document()))
	f.Add([]byte(`{"tokens":[]}`))
	f.Add([]byte(`{"tokens":[{"name":"a","sha256":"` + auth.Hash("a") + `","prefixes":["x/"]}]}`))
	f.Add([]byte(`{"tokens":[{"name":"a","sha256":"` + auth.Hash("a") + `","prefixes":["x"]}]}`))
	f.Add([]byte(`{"tokens":null}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		set, err := auth.Parse(doc)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "tokens document") {
				t.Fatalf("error %q does not say it is about the tokens document", err)
			}
			return
		}
		if set.Len() > strings.Count(string(doc), "{") {
			t.Fatalf("%d tokens from %q", set.Len(), doc)
		}
	})
}

// FuzzBearerToken: never a panic; an accepted token is what followed the
// scheme, of token characters only, and the refusals are unauthorized.
func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer a.b-c_d~e+f/g==", "Bearer ", "Basic x", "Bearer a b", "Bearer \x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		token, err := auth.BearerToken(http.Header{"Authorization": {value}})
		if err != nil {
			if !errors.Is(err, lease.ErrUnauthorized) {
				t.Fatalf("BearerToken(%q) error %v is not unauthorized", value, err)
			}
			return
		}
		if token == "" || !strings.HasSuffix(value, " "+token) || strings.ContainsAny(token, " \t\"\x00") {
			t.Fatalf("BearerToken(%q) = %q", value, token)
		}
	})
}
