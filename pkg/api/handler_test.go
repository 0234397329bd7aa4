package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/api/apitest"
	"github.com/redlease/redlease/pkg/lease"
)

const key = "clusters/dev/data.rdb"

func jsonHeader() http.Header {
	return http.Header{"Content-Type": []string{"application/json"}}
}

func post(path, body string) api.Request {
	return api.Request{Method: http.MethodPost, Path: path, Header: jsonHeader(), Body: strings.NewReader(body)}
}

func get(path string) api.Request {
	return api.Request{Method: http.MethodGet, Path: path, Header: http.Header{}}
}

// check asserts the whole response: status, body byte for byte, and the
// headers every response carries.
func check(t *testing.T, step string, got api.Response, wantStatus int, wantBody string) {
	t.Helper()
	if got.Status != wantStatus || string(got.Body) != wantBody {
		t.Errorf("%s:\n got  %d %s\n want %d %s", step, got.Status, got.Body, wantStatus, wantBody)
	}
	if got.Header["Content-Type"] != "application/json" || got.Header["Cache-Control"] != "no-store" ||
		got.Header[api.HeaderRequestID] == "" {
		t.Errorf("%s: headers %v lack Content-Type, Cache-Control or X-Request-Id", step, got.Header)
	}
	if !json.Valid(got.Body) {
		t.Errorf("%s: body is not JSON: %s", step, got.Body)
	}
}

// TestLifecycle walks one key through every success and domain refusal of
// the contract, with the service's clock moved by the test.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, apitest.Options{})
	ctx := context.Background()
	at := func(ms int64) { e.Clock.Set(apitest.Epoch.Add(time.Duration(ms) * time.Millisecond)) }
	serve := func(r api.Request) api.Response { return e.Handler.Serve(ctx, r) }

	lease1 := `{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-0-1","term":1,"generation":1,"acquired_at_ms":1767225600000,"expires_at_ms":1767225660000}`
	resp := serve(post("/v1/acquire", `{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-0-1","ttl_ms":60000}`))
	check(t, "first acquire", resp, 200, `{"lease":`+lease1+`}`)
	if resp.Header[api.HeaderRequestID] != "req-1" {
		t.Errorf("request id header = %q, want req-1", resp.Header[api.HeaderRequestID])
	}

	at(10000)
	check(t, "acquire by another holder while live",
		serve(post("/v1/acquire", `{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-1-1","ttl_ms":60000}`)),
		409, `{"error":{"code":"held","message":"the lease is held by \"reddb-0-1\" (generation 1) for another 50000 ms","current":`+lease1+`,"retry_after_ms":50000}}`)

	at(20012)
	refreshed := `{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-0-1","term":1,"generation":1,"acquired_at_ms":1767225600000,"expires_at_ms":1767225680012}`
	check(t, "refresh by the holder",
		serve(post("/v1/refresh", `{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-0-1","generation":1,"ttl_ms":60000,"current_term":1}`)),
		200, `{"lease":`+refreshed+`}`)
	check(t, "read while held", serve(get("/v1/leases/clusters/dev/data.rdb")),
		200, `{"lease":`+refreshed+`,"state":"held","expires_in_ms":60000}`)

	at(80012) // expires_at_ms <= now: expired
	check(t, "read once expired", serve(get("/v1/leases/clusters/dev/data.rdb")),
		200, `{"lease":`+refreshed+`,"state":"expired","expires_in_ms":0}`)

	lease2 := `{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-1-1","term":2,"generation":2,"acquired_at_ms":1767225680012,"expires_at_ms":1767225740012}`
	check(t, "takeover at term 2",
		serve(post("/v1/acquire", `{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-1-1","ttl_ms":60000,"term":2}`)),
		200, `{"lease":`+lease2+`}`)
	check(t, "acquire at an older term is fenced",
		serve(post("/v1/acquire", `{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-2-1","ttl_ms":60000}`)),
		409, `{"error":{"code":"fenced","message":"term 1 is behind the current term 2","current_term":2}}`)
	check(t, "refresh of the old generation is stale",
		serve(post("/v1/refresh", `{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-0-1","generation":1,"ttl_ms":60000}`)),
		409, `{"error":{"code":"stale","message":"holder \"reddb-0-1\" generation 1 is no longer the lease's","current":`+lease2+`}}`)
	check(t, "refresh behind current_term is fenced before I/O",
		serve(post("/v1/refresh", `{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-1-1","generation":2,"ttl_ms":60000,"term":2,"current_term":3}`)),
		409, `{"error":{"code":"fenced","message":"term 2 is behind the current term 3","current_term":3}}`)
	check(t, "refresh with a term that does not match is stale",
		serve(post("/v1/refresh", `{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-1-1","generation":2,"ttl_ms":60000,"term":1}`)),
		409, `{"error":{"code":"stale","message":"holder \"reddb-1-1\" generation 2 is no longer the lease's","current":`+lease2+`}}`)

	at(90000)
	released := `{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-1-1","term":2,"generation":2,"acquired_at_ms":1767225680012,"expires_at_ms":1767225690000,"released_at_ms":1767225690000}`
	check(t, "release", serve(post("/v1/release", `{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-1-1","generation":2}`)),
		200, `{"lease":`+released+`}`)
	at(91000)
	check(t, "release twice answers the same record",
		serve(post("/v1/release", `{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-1-1","generation":2}`)),
		200, `{"lease":`+released+`}`)
	check(t, "release by another holder is stale",
		serve(post("/v1/release", `{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-0-1","generation":2}`)),
		409, `{"error":{"code":"stale","message":"holder \"reddb-0-1\" generation 2 is no longer the lease's","current":`+released+`}}`)
	check(t, "refresh of a released lease is stale",
		serve(post("/v1/refresh", `{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-1-1","generation":2,"ttl_ms":60000}`)),
		409, `{"error":{"code":"stale","message":"holder \"reddb-1-1\" generation 2 is no longer the lease's","current":`+released+`}}`)
	check(t, "read after release", serve(get("/v1/leases/clusters/dev/data.rdb")),
		200, `{"lease":`+released+`,"state":"released","expires_in_ms":0}`)
	check(t, "acquire after release takes the next generation",
		serve(post("/v1/acquire", `{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-2-1","ttl_ms":1000,"term":2}`)),
		200, `{"lease":{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-2-1","term":2,"generation":3,"acquired_at_ms":1767225691000,"expires_at_ms":1767225692000}}`)

	check(t, "read of a key never written", serve(get("/v1/leases/main")),
		404, `{"error":{"code":"not_found","message":"no lease record exists for this database_key"}}`)
	check(t, "refresh of a key never written is stale without current",
		serve(post("/v1/refresh", `{"database_key":"main","holder_id":"reddb-0-1","generation":1,"ttl_ms":60000}`)),
		409, `{"error":{"code":"stale","message":"holder \"reddb-0-1\" generation 1 is no longer the lease's"}}`)

	stored, _ := e.Memory.Raw(key)
	want := `{"acquired_at_ms":1767225691000,"database_key":"clusters/dev/data.rdb","expires_at_ms":1767225692000,"generation":3,"holder_id":"reddb-2-1","term":2}`
	if string(stored) != want {
		t.Errorf("stored object = %s, want RedDB's bytes %s", stored, want)
	}
}

func TestRoutingAndMethods(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, apitest.Options{})
	tests := []struct {
		name       string
		req        api.Request
		wantStatus int
		wantBody   string
		wantAllow  string
	}{
		{"unknown route", get("/v1/nope"), 404, `{"error":{"code":"not_found","message":"no such route"}}`, ""},
		{"leases without key prefix", get("/v1/leases"), 404, `{"error":{"code":"not_found","message":"no such route"}}`, ""},
		{"root", get("/"), 404, `{"error":{"code":"not_found","message":"no such route"}}`, ""},
		{"GET on acquire", get("/v1/acquire"), 405,
			`{"error":{"code":"method_not_allowed","message":"method GET is not allowed here; use POST"}}`, "POST"},
		{"POST on a lease", post("/v1/leases/main", `{}`), 405,
			`{"error":{"code":"method_not_allowed","message":"method POST is not allowed here; use GET"}}`, "GET"},
		{"HEAD on a lease", api.Request{Method: "HEAD", Path: "/v1/leases/main"}, 405,
			`{"error":{"code":"method_not_allowed","message":"method HEAD is not allowed here; use GET"}}`, "GET"},
		{"DELETE on release", api.Request{Method: "DELETE", Path: "/v1/release"}, 405,
			`{"error":{"code":"method_not_allowed","message":"method DELETE is not allowed here; use POST"}}`, "POST"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := e.Handler.Serve(context.Background(), tc.req)
			check(t, tc.name, got, tc.wantStatus, tc.wantBody)
			if got.Header["Allow"] != tc.wantAllow {
				t.Errorf("Allow = %q, want %q", got.Header["Allow"], tc.wantAllow)
			}
		})
	}
}

func TestOpsRestrictTheRoutesServed(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, apitest.Options{Ops: []api.Op{api.OpAcquire}})
	got := e.Handler.Serve(context.Background(), get("/v1/leases/main"))
	check(t, "read on the acquire function", got, 404, `{"error":{"code":"not_found","message":"no such route"}}`)
	got = e.Handler.Serve(context.Background(), post("/v1/acquire", `{"database_key":"main","holder_id":"h","ttl_ms":1000}`))
	if got.Status != 200 {
		t.Errorf("acquire on the acquire function = %d %s, want 200", got.Status, got.Body)
	}
	if _, err := api.New(api.Config{Service: &lease.Service{}, Ops: []api.Op{"delete"}}); err == nil {
		t.Error("api.New accepted an unknown operation")
	}
}

// The key in the read path is decoded exactly once, and keys that could
// alias or escape are refused before any storage access.
func TestReadPathKeys(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, apitest.Options{})
	ctx := context.Background()
	for _, k := range []string{"a%2Fb", "clusters/dev/data.rdb", "ünïcode/kéy"} {
		body, _ := json.Marshal(map[string]any{"database_key": k, "holder_id": "h", "ttl_ms": 1000})
		if r := e.Handler.Serve(ctx, post("/v1/acquire", string(body))); r.Status != 200 {
			t.Fatalf("acquire %q = %d %s", k, r.Status, r.Body)
		}
	}
	tests := []struct {
		path      string
		wantKey   string // when 200
		wantField string // when 400
	}{
		{path: "/v1/leases/clusters/dev/data.rdb", wantKey: "clusters/dev/data.rdb"},
		{path: "/v1/leases/clusters%2Fdev%2Fdata.rdb", wantKey: "clusters/dev/data.rdb"},
		{path: "/v1/leases/a%252Fb", wantKey: "a%2Fb"},
		{path: "/v1/leases/%C3%BCn%C3%AFcode/k%C3%A9y", wantKey: "ünïcode/kéy"},
		{path: "/v1/leases/", wantField: "database_key"},
		{path: "/v1/leases/a/../b", wantField: "database_key"},
		{path: "/v1/leases/a/./b", wantField: "database_key"},
		{path: "/v1/leases/%2e%2e/b", wantField: "database_key"},
		{path: "/v1/leases/a//b", wantField: "database_key"},
		{path: "/v1/leases//a", wantField: "database_key"},
		{path: "/v1/leases/a/", wantField: "database_key"},
		{path: "/v1/leases/a%zz", wantField: "database_key"},
		{path: "/v1/leases/a%00b", wantField: "database_key"},
		{path: "/v1/leases/" + strings.Repeat("k", 513), wantField: "database_key"},
	}
	for _, tc := range tests {
		got := e.Handler.Serve(ctx, get(tc.path))
		var body struct {
			Lease struct {
				DatabaseKey string `json:"database_key"`
			} `json:"lease"`
			Error struct {
				Code, Field string
			} `json:"error"`
		}
		if err := json.Unmarshal(got.Body, &body); err != nil {
			t.Fatalf("GET %s: body %s: %v", tc.path, got.Body, err)
		}
		switch {
		case tc.wantKey != "" && (got.Status != 200 || body.Lease.DatabaseKey != tc.wantKey):
			t.Errorf("GET %s = %d %s, want 200 with key %q", tc.path, got.Status, got.Body, tc.wantKey)
		case tc.wantField != "" && (got.Status != 400 || body.Error.Code != "invalid_request" || body.Error.Field != tc.wantField):
			t.Errorf("GET %s = %d %s, want 400 invalid_request field %s", tc.path, got.Status, got.Body, tc.wantField)
		}
	}
}

func TestStorageFailures(t *testing.T) {
	t.Parallel()
	secret := "dial tcp 10.9.8.7:443: i/o timeout; arn:aws:iam::123456789012:role/secret"
	tests := []struct {
		name        string
		store       *apitest.Broken
		req         api.Request
		wantStatus  int
		wantBody    string
		wantRetry   string
		wantLogPart string
	}{
		{
			name:       "lost race: every conditional write fails its precondition",
			store:      &apitest.Broken{WriteErr: &lease.PreconditionError{}},
			req:        post("/v1/acquire", `{"database_key":"k","holder_id":"h","ttl_ms":1000}`),
			wantStatus: 409,
			wantBody:   `{"error":{"code":"lost_race","message":"a concurrent writer won; the request is safe to retry","retry_after_ms":100}}`,
		},
		{
			name:        "backend unavailable with the backend's hint",
			store:       &apitest.Broken{LoadErr: lease.Unavailable(errors.New(secret), 1500*time.Millisecond)},
			req:         post("/v1/refresh", `{"database_key":"k","holder_id":"h","generation":1,"ttl_ms":1000}`),
			wantStatus:  503,
			wantBody:    `{"error":{"code":"backend_unavailable","message":"lease storage is unavailable; retry later","retry_after_ms":1500}}`,
			wantRetry:   "2",
			wantLogPart: "i/o timeout",
		},
		{
			name:       "backend unavailable without a hint",
			store:      &apitest.Broken{LoadErr: lease.Unavailable(errors.New(secret), 0)},
			req:        get("/v1/leases/k"),
			wantStatus: 503,
			wantBody:   `{"error":{"code":"backend_unavailable","message":"lease storage is unavailable; retry later","retry_after_ms":1000}}`,
			wantRetry:  "1",
		},
		{
			name:        "unknown storage error is internal and not echoed",
			store:       &apitest.Broken{LoadErr: errors.New(secret)},
			req:         post("/v1/release", `{"database_key":"k","holder_id":"h","generation":1}`),
			wantStatus:  500,
			wantBody:    `{"error":{"code":"internal","message":"internal error; the request id identifies it in the service's logs"}}`,
			wantLogPart: "arn:aws:iam",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := apitest.New(t, apitest.Options{Wrap: func(s lease.ListingStore) lease.ListingStore {
				tc.store.ListingStore = s
				return tc.store
			}})
			got := e.Handler.Serve(context.Background(), tc.req)
			check(t, tc.name, got, tc.wantStatus, tc.wantBody)
			if got.Header["Retry-After"] != tc.wantRetry {
				t.Errorf("Retry-After = %q, want %q", got.Header["Retry-After"], tc.wantRetry)
			}
			if strings.Contains(string(got.Body), "10.9.8.7") || strings.Contains(string(got.Body), "arn:") {
				t.Errorf("response leaks the storage error: %s", got.Body)
			}
			if !strings.Contains(e.Logs.String(), tc.wantLogPart) {
				t.Errorf("log %q lacks %q", e.Logs.String(), tc.wantLogPart)
			}
		})
	}
}

func TestCorruptRecordIsStorageCorrupt(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, apitest.Options{})
	e.Memory.PutRaw("main", []byte(`{"database_key":"main","holder_id":"h","generation":1.5}`))
	got := e.Handler.Serve(context.Background(), get("/v1/leases/main"))
	check(t, "corrupt record", got, 500,
		`{"error":{"code":"storage_corrupt","message":"lease storage holds an object that is not a valid lease record or lock file; `+
			`retrying will not help until an operator repairs it (the request id identifies it in the service's logs)"}}`)
	if !strings.Contains(e.Logs.String(), "corrupt lease record") {
		t.Errorf("log lacks the cause: %s", e.Logs.String())
	}
}

type panicStore struct{ lease.ListingStore }

func (panicStore) Load(context.Context, string) (lease.Versioned, error) { panic("boom") }

func TestPanicIsInternal(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, apitest.Options{Wrap: func(s lease.ListingStore) lease.ListingStore { return panicStore{s} }})
	got := e.Handler.Serve(context.Background(), get("/v1/leases/main"))
	check(t, "panicking store", got, 500,
		`{"error":{"code":"internal","message":"internal error; the request id identifies it in the service's logs"}}`)
	if !strings.Contains(e.Logs.String(), "panic: boom") {
		t.Errorf("log lacks the panic: %s", e.Logs.String())
	}
}

// One JSON log line per request with the fields operators search by, and
// never a header value or the body.
func TestLogLineAndMetrics(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, apitest.Options{})
	req := post("/v1/acquire", `{"database_key":"main","holder_id":"reddb-0-1","ttl_ms":60000,"term":7}`)
	req.Header.Set("Authorization", "Bearer s3cr3t-token")
	req.RequestID = "gw-123"
	e.Handler.Serve(context.Background(), req)

	lines := strings.Split(strings.TrimSpace(e.Logs.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("got %d log lines, want 1: %q", len(lines), lines)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatalf("log line is not JSON: %v", err)
	}
	want := map[string]any{"msg": "request", "request_id": "gw-123", "route": "acquire", "key": "main",
		"holder": "reddb-0-1", "outcome": "ok", "status": 200.0, "generation": 1.0, "storage_calls": 2.0}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("log %s = %v, want %v", k, rec[k], v)
		}
	}
	if _, ok := rec["latency_ms"]; !ok {
		t.Error("log line lacks latency_ms")
	}
	if strings.Contains(lines[0], "s3cr3t") || strings.Contains(lines[0], `"ttl_ms"`) {
		t.Errorf("log line leaks a header or the body: %s", lines[0])
	}

	var emf map[string]any
	if err := json.Unmarshal([]byte(e.Metrics.String()), &emf); err != nil {
		t.Fatalf("metrics line %q is not one JSON object: %v", e.Metrics.String(), err)
	}
	if emf["Operation"] != "acquire" || emf["Outcome"] != "ok" || emf["Requests"] != 1.0 {
		t.Errorf("EMF line = %v, want Operation=acquire Outcome=ok Requests=1", emf)
	}
	if _, ok := emf["StorageLatency"]; !ok {
		t.Errorf("EMF line lacks StorageLatency: %v", emf)
	}
}
