package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/api/apitest"
	"github.com/redlease/redlease/pkg/auth"
	"github.com/redlease/redlease/pkg/lease"
)

// The tokens of the HTTP core's tests: tenant a (two principals), tenant
// b, and an admin.
const (
	tokenA   = "tenant-a-0123456789abcdef"
	tokenA2  = "tenant-a-batch-0123456789"
	tokenB   = "tenant-b-0123456789abcdef"
	tokenOps = "ops-0123456789abcdef0123"
)

func tokenSet(t testing.TB) *auth.Set {
	t.Helper()
	set, err := auth.Parse([]byte(`{"tokens":[
		{"name":"tenant-a","sha256":"` + auth.Hash(tokenA) + `","prefixes":["tenants/a/"]},
		{"name":"tenant-a-batch","sha256":"` + auth.Hash(tokenA2) + `","prefixes":["tenants/a/"]},
		{"name":"tenant-b","sha256":"` + auth.Hash(tokenB) + `","prefixes":["tenants/b/"]},
		{"name":"ops","sha256":"` + auth.Hash(tokenOps) + `","prefixes":[""],"admin":true}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// tokenEnv is the JSON API behind the bearer tokens of tokenSet.
func tokenEnv(t *testing.T) *apitest.Env {
	t.Helper()
	return apitest.New(t, apitest.Options{Auth: tokenSet(t)})
}

// as sends r with a bearer token; "" sends none.
func as(token string, r api.Request) api.Request {
	h := r.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	r.Header = h
	return r
}

// errorCode is the code of an error answer ("" for a success).
func errorCode(t *testing.T, body []byte) string {
	t.Helper()
	var eb struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(body, &eb); err != nil {
		t.Fatalf("answer %s: %v", body, err)
	}
	return eb.Error.Code
}

// Every rule of principals through the HTTP core, behind bearer tokens:
// each row says its status and code and whether it may write, and the
// whole store is hashed before and after.
func TestPrincipalRulesThroughTheCore(t *testing.T) {
	t.Parallel()
	e := tokenEnv(t)
	ctx := context.Background()
	serve := func(r api.Request) api.Response { return e.Handler.Serve(ctx, r) }
	// Seeds: tenant a's live lease, a lease recorded before principals,
	// and tenant a's released lease.
	if r := serve(as(tokenA, post("/v1/acquire/tenants/a/db", `{"holder_id":"reddb-a","ttl_ms":60000}`))); r.Status != 200 {
		t.Fatalf("seed: %d %s", r.Status, r.Body)
	}
	now := uint64(apitest.Epoch.UnixMilli())
	e.Memory.PutRaw("tenants/a/legacy", lease.EncodeLease(lease.Lease{DatabaseKey: "tenants/a/legacy", HolderID: "reddb-old",
		Term: 1, Generation: 4, AcquiredAtMs: now, ExpiresAtMs: now + 60_000}))
	for _, r := range []api.Request{
		as(tokenA, post("/v1/acquire/tenants/a/done", `{"holder_id":"reddb-a","ttl_ms":60000}`)),
		as(tokenA, post("/v1/release/tenants/a/done", `{"holder_id":"reddb-a","generation":1}`)),
	} {
		if got := serve(r); got.Status != 200 {
			t.Fatalf("seed: %d %s", got.Status, got.Body)
		}
	}
	refresh := `{"holder_id":"reddb-a","generation":1,"ttl_ms":60000}`
	release := `{"holder_id":"reddb-a","generation":1}`
	tests := []struct {
		name   string
		req    api.Request
		status int
		code   string
		writes bool
	}{
		// Outside the prefixes: 403 before any storage request, key or not.
		{"another tenant acquires", as(tokenB, post("/v1/acquire/tenants/a/db", `{"holder_id":"reddb-b","ttl_ms":60000}`)), 403, "forbidden", false},
		{"another tenant acquires a free key", as(tokenB, post("/v1/acquire/tenants/a/free", `{"holder_id":"reddb-b","ttl_ms":60000}`)), 403, "forbidden", false},
		{"another tenant acquires by the body route", as(tokenB, post("/v1/acquire", `{"database_key":"tenants/a/free","holder_id":"reddb-b","ttl_ms":60000}`)), 403, "forbidden", false},
		{"another tenant refreshes with the holder's values", as(tokenB, post("/v1/refresh/tenants/a/db", refresh)), 403, "forbidden", false},
		{"another tenant releases with the holder's values", as(tokenB, post("/v1/release/tenants/a/db", release)), 403, "forbidden", false},
		{"another tenant reads", as(tokenB, get("/v1/leases/tenants/a/db")), 403, "forbidden", false},
		{"another tenant reads a key without a record", as(tokenB, get("/v1/leases/tenants/a/none")), 403, "forbidden", false},
		{"another tenant refreshes a legacy lease", as(tokenB, post("/v1/refresh/tenants/a/legacy", `{"holder_id":"reddb-old","generation":4,"ttl_ms":60000}`)), 403, "forbidden", false},
		// Another principal of the prefix: the lease is not its own.
		{"another principal refreshes", as(tokenA2, post("/v1/refresh/tenants/a/db", refresh)), 403, "forbidden", false},
		{"another principal releases", as(tokenA2, post("/v1/release/tenants/a/db", release)), 403, "forbidden", false},
		{"another principal releases a released lease", as(tokenA2, post("/v1/release/tenants/a/done", release)), 403, "forbidden", false},
		{"another principal acquires with the holder id", as(tokenA2, post("/v1/acquire/tenants/a/db", `{"holder_id":"reddb-a","ttl_ms":60000}`)), 409, "held", false},
		{"another principal reads", as(tokenA2, get("/v1/leases/tenants/a/db")), 200, "", false},
		{"another principal takes a released lease", as(tokenA2, post("/v1/acquire/tenants/a/done", `{"holder_id":"reddb-a2","ttl_ms":60000}`)), 200, "", true},
		{"and its previous principal may not release it", as(tokenA, post("/v1/release/tenants/a/done", `{"holder_id":"reddb-a2","generation":2}`)), 403, "forbidden", false},
		// Records without a principal behave as before.
		{"a legacy lease is refreshed by anyone of the prefix", as(tokenA2, post("/v1/refresh/tenants/a/legacy", `{"holder_id":"reddb-old","generation":4,"ttl_ms":60000}`)), 200, "", true},
		{"a legacy lease is held against another holder", as(tokenA, post("/v1/acquire/tenants/a/legacy", `{"holder_id":"reddb-a","ttl_ms":60000}`)), 409, "held", false},
		// The holder's own principal.
		{"the holder refreshes", as(tokenA, post("/v1/refresh/tenants/a/db", refresh)), 200, "", true},
		{"the holder refreshes by the body route", as(tokenA, post("/v1/refresh", `{"database_key":"tenants/a/db","holder_id":"reddb-a","generation":1,"ttl_ms":60000}`)), 200, "", true},
		// Break glass.
		{"break glass without admin", as(tokenA, post("/v1/admin/release/tenants/a/db", ``)), 403, "forbidden", false},
		{"break glass", as(tokenOps, post("/v1/admin/release/tenants/a/db", ``)), 200, "", true},
		{"the holder's refresh after break glass", as(tokenA, post("/v1/refresh/tenants/a/db", refresh)), 409, "stale", false},
		{"the next acquire", as(tokenA2, post("/v1/acquire/tenants/a/db", `{"holder_id":"reddb-a2","ttl_ms":60000}`)), 200, "", true},
		// Credentials.
		{"no token", as("", post("/v1/refresh/tenants/a/db", refresh)), 401, "unauthorized", false},
		{"unknown token", as("nobody-0123456789", post("/v1/refresh/tenants/a/db", refresh)), 401, "unauthorized", false},
	}
	for _, tc := range tests {
		before := apitest.StoreHash(t, e.Memory)
		got := serve(tc.req)
		if got.Status != tc.status || (tc.code != "" && errorCode(t, got.Body) != tc.code) {
			t.Errorf("%s: %d %s, want %d %s", tc.name, got.Status, got.Body, tc.status, tc.code)
		}
		if changed := apitest.StoreHash(t, e.Memory) != before; changed != tc.writes {
			t.Errorf("%s: store changed = %v, want %v", tc.name, changed, tc.writes)
		}
		if got.Status == 401 && got.Header["WWW-Authenticate"] == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", tc.name)
		}
	}
}

// Two principals racing for one key through the HTTP core, with the same
// holder id: in no round do both get a 200, and the loser can release
// nothing of the winner's.
func TestTwoPrincipalsRaceThroughTheCore(t *testing.T) {
	t.Parallel()
	e := tokenEnv(t)
	ctx := context.Background()
	tokens := []string{tokenA, tokenA2}
	for round := range 100 {
		statuses := make([]int, 2)
		done := make(chan struct{})
		for i, tok := range tokens {
			go func() {
				defer func() { done <- struct{}{} }()
				r := e.Handler.Serve(ctx, as(tok, post("/v1/acquire/tenants/a/race", `{"holder_id":"reddb-0","ttl_ms":60000}`)))
				statuses[i] = r.Status
			}()
		}
		<-done
		<-done
		winners := 0
		for _, s := range statuses {
			switch s {
			case 200:
				winners++
			case 409:
			default:
				t.Fatalf("round %d: status %v", round, statuses)
			}
		}
		if winners > 1 {
			t.Fatalf("round %d: both principals hold the lease", round)
		}
		snap := e.Handler.Serve(ctx, as(tokenA, get("/v1/leases/tenants/a/race")))
		var body struct{ Lease lease.Lease }
		if err := json.Unmarshal(snap.Body, &body); err != nil {
			t.Fatal(err)
		}
		gen := body.Lease.Generation
		release := `{"holder_id":"reddb-0","generation":` + strconv.FormatUint(gen, 10) + `}`
		// Whoever lost cannot release it; the winner can.
		var released int
		for _, tok := range tokens {
			if r := e.Handler.Serve(ctx, as(tok, post("/v1/release/tenants/a/race", release))); r.Status == 200 {
				released++
			} else if r.Status != 403 {
				t.Fatalf("round %d: release = %d %s", round, r.Status, r.Body)
			}
		}
		if winners == 1 && released != 1 {
			t.Fatalf("round %d: %d releases succeeded, want the winner's alone", round, released)
		}
	}
}
