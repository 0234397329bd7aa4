package auth_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/redlease/redlease/pkg/auth"
	"github.com/redlease/redlease/pkg/lease"
)

// The tokens the tests issue, and a document naming them.
const (
	tokenA   = "tenant-a-secret-0123456789abcdef"
	tokenB   = "tenant-b-secret-0123456789abcdef"
	tokenOps = "ops-secret-0123456789abcdef"
)

func document() string {
	return `{"tokens":[
		{"name":"tenant-a-reddb","sha256":"` + auth.Hash(tokenA) + `","prefixes":["tenants/a/"]},
		{"name":"tenant-b-reddb","sha256":"` + strings.ToUpper(auth.Hash(tokenB)) + `","prefixes":["tenants/b/","shared/"]},
		{"name":"ops","sha256":"` + auth.Hash(tokenOps) + `","prefixes":[""],"admin":true}
	]}`
}

func bearer(token string) http.Header { return http.Header{"Authorization": {"Bearer " + token}} }

func TestParseAndLookup(t *testing.T) {
	t.Parallel()
	set, err := auth.Parse([]byte(document()))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if set.Len() != 3 {
		t.Fatalf("Len = %d, want 3", set.Len())
	}
	tests := []struct {
		token string
		want  lease.Principal
	}{
		{tokenA, lease.Principal{Name: "tenant-a-reddb", Prefixes: []string{"tenants/a/"}}},
		{tokenB, lease.Principal{Name: "tenant-b-reddb", Prefixes: []string{"tenants/b/", "shared/"}}},
		{tokenOps, lease.Principal{Name: "ops", Prefixes: []string{""}, Admin: true}},
	}
	for _, tc := range tests {
		got, ok := set.Lookup(tc.token)
		if !ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Lookup(%q) = %+v, %v; want %+v", tc.token, got, ok, tc.want)
		}
		got.Prefixes[0] = "changed/" // the caller's copy
	}
	if again, _ := set.Lookup(tokenA); again.Prefixes[0] != "tenants/a/" {
		t.Error("a caller changed the set through its principal")
	}
	if _, ok := set.Lookup(auth.Hash(tokenA)); ok {
		t.Error("the hash itself authenticated: only the token may")
	}
}

// Every way a document can be wrong is an error that names the entry.
func TestParseRefusesBadDocuments(t *testing.T) {
	t.Parallel()
	h := auth.Hash(tokenA)
	entry := func(fields string) string {
		return `{"tokens":[{"name":"x","sha256":"` + h + `","prefixes":[""]},` + fields + `]}`
	}
	tests := []struct{ name, doc, want string }{
		{"not JSON", `{"tokens":`, "tokens document"},
		{"no tokens", `{}`, `no "tokens" array`},
		{"unknown top-level member", `{"tokens":[],"token":[]}`, `unknown field "token"`},
		{"trailing data", `{"tokens":[]} {}`, "data after"},
		{"null entry", `{"tokens":[null]}`, "tokens[0]"},
		{"misspelt member", entry(`{"name":"y","sha256":"` + auth.Hash("y") + `","prefix":["a/"]}`), `tokens[1] "y": unknown field "prefix"`},
		{"missing name", entry(`{"sha256":"` + auth.Hash("y") + `","prefixes":[""]}`), `tokens[1] "": name is required`},
		{"name with a colon", entry(`{"name":"arn:aws:iam::1:root","sha256":"` + auth.Hash("y") + `","prefixes":[""]}`), `tokens[1] "arn:aws:iam::1:root": name must`},
		{"name with a space", entry(`{"name":"a b","sha256":"` + auth.Hash("y") + `","prefixes":[""]}`), `tokens[1] "a b": name must`},
		{"reserved name", entry(`{"name":"anonymous","sha256":"` + auth.Hash("y") + `","prefixes":[""]}`), "reserved"},
		{"duplicate name", entry(`{"name":"x","sha256":"` + auth.Hash("y") + `","prefixes":[""]}`), `tokens[1] "x": name already used by tokens[0]`},
		{"duplicate hash", entry(`{"name":"y","sha256":"` + strings.ToUpper(h) + `","prefixes":[""]}`), `tokens[1] "y": sha256 already used by "x"`},
		{"short hash", entry(`{"name":"y","sha256":"abc","prefixes":[""]}`), "64 hex digits"},
		{"non-hex hash", entry(`{"name":"y","sha256":"` + strings.Repeat("g", 64) + `","prefixes":[""]}`), "hex digits only"},
		{"the token instead of its hash", entry(`{"name":"y","sha256":"` + tokenB + `","prefixes":[""]}`), "64 hex digits"},
		{"no prefixes", entry(`{"name":"y","sha256":"` + auth.Hash("y") + `"}`), "prefixes is required"},
		{"empty prefixes", entry(`{"name":"y","sha256":"` + auth.Hash("y") + `","prefixes":[]}`), "prefixes is required"},
		{"prefix without a slash", entry(`{"name":"y","sha256":"` + auth.Hash("y") + `","prefixes":["tenants/a"]}`), `"tenants/a" must end in "/"`},
		{"prefix with a leading slash", entry(`{"name":"y","sha256":"` + auth.Hash("y") + `","prefixes":["/tenants/"]}`), "not a valid key prefix"},
		{"prefix with dot-dot", entry(`{"name":"y","sha256":"` + auth.Hash("y") + `","prefixes":["tenants/../"]}`), "not a valid key prefix"},
		{"prefix with an empty segment", entry(`{"name":"y","sha256":"` + auth.Hash("y") + `","prefixes":["tenants//"]}`), "not a valid key prefix"},
		{"prefix in NFD", entry(`{"name":"y","sha256":"` + auth.Hash("y") + `","prefixes":["cafe\u0301/"]}`), "NFC"},
		{"prefix with a look-alike slash", entry(`{"name":"y","sha256":"` + auth.Hash("y") + `","prefixes":["tenants\uff0fa/"]}`), "U+FF0F"},
		{"admin not a boolean", entry(`{"name":"y","sha256":"` + auth.Hash("y") + `","prefixes":[""],"admin":"yes"}`), `tokens[1]`},
		{"too large", `{"tokens":[]}` + strings.Repeat(" ", auth.MaxDocumentBytes), "at most"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := auth.Parse([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse = %v, want an error containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), tokenB) {
				t.Fatalf("the error echoes a token: %v", err)
			}
		})
	}
	if set, err := auth.Parse([]byte(`{"tokens":[]}`)); err != nil || set.Len() != 0 {
		t.Fatalf("an empty document = %v, %v; want an empty set", set, err)
	}
}
