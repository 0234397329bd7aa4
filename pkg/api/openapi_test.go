package api_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/api/apitest"
	"github.com/redlease/redlease/pkg/lease"
)

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(filepath.Join("..", "..", "api", "openapi.yaml"))
	if err != nil {
		t.Fatalf("load api/openapi.yaml: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("api/openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi = %q, want 3.1", doc.OpenAPI)
	}
	return doc
}

// specRoute is the spec's operation for a request the handler served.
func specRoute(t *testing.T, doc *openapi3.T, req api.Request) (*routers.Route, map[string]string) {
	t.Helper()
	path, params := req.Path, map[string]string{}
	for _, r := range api.Routes() {
		prefix, name, greedy := r.Param()
		if rest, ok := strings.CutPrefix(req.Path, prefix); greedy && ok {
			// OpenAPI has no greedy parameter: {database_key+} is {database_key}.
			path, params[name] = strings.ReplaceAll(r.Path, "+}", "}"), rest
			break
		}
	}
	item := doc.Paths.Value(path)
	if item == nil {
		t.Fatalf("spec has no path %s", path)
	}
	op := item.GetOperation(req.Method)
	if op == nil {
		// A 405: validate against a documented operation of the path,
		// which lists the 405 response.
		for _, o := range item.Operations() {
			op = o
		}
	}
	return &routers.Route{Spec: doc, Path: path, PathItem: item, Method: req.Method, Operation: op}, params
}

// TestResponsesConformToOpenAPI serves one request per route and per error
// case and validates each real response (status, headers, body) against
// api/openapi.yaml; success requests are validated against it too.
func TestResponsesConformToOpenAPI(t *testing.T) {
	t.Parallel()
	doc := loadSpec(t)
	e := apitest.New(t, apitest.Options{})

	type step struct {
		name   string
		atMs   int64
		req    api.Request
		status int
		env    *apitest.Env // another handler (broken store) when set
	}
	broken := func(b *apitest.Broken) *apitest.Env {
		return apitest.New(t, apitest.Options{Wrap: func(s lease.ListingStore) lease.ListingStore {
			b.ListingStore = s
			return b
		}})
	}
	acquire := `{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-0-1","ttl_ms":60000}`
	tokens := tokenEnv(t)
	steps := []step{
		{"acquire", 0, post("/v1/acquire", acquire), 200, nil},
		{"read held", 1000, get("/v1/leases/clusters/dev/data.rdb"), 200, nil},
		{"held", 1000, post("/v1/acquire", `{"database_key":"clusters/dev/data.rdb","holder_id":"x","ttl_ms":60000}`), 409, nil},
		{"refresh", 2000, post("/v1/refresh", `{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-0-1","generation":1,"ttl_ms":60000,"current_term":1,"term":1}`), 200, nil},
		{"refresh stale", 2000, post("/v1/refresh", `{"database_key":"clusters/dev/data.rdb","holder_id":"x","generation":1,"ttl_ms":60000}`), 409, nil},
		{"refresh stale without record", 2000, post("/v1/refresh", `{"database_key":"none","holder_id":"x","generation":1,"ttl_ms":60000}`), 409, nil},
		{"refresh fenced", 2000, post("/v1/refresh", `{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-0-1","generation":1,"ttl_ms":60000,"current_term":5}`), 409, nil},
		{"read expired", 70000, get("/v1/leases/clusters/dev/data.rdb"), 200, nil},
		{"takeover at term 3", 70000, post("/v1/acquire", `{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-1-1","ttl_ms":60000,"term":3}`), 200, nil},
		{"acquire fenced", 70000, post("/v1/acquire", acquire), 409, nil},
		{"release stale", 70000, post("/v1/release", `{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-0-1","generation":1}`), 409, nil},
		{"release", 71000, post("/v1/release", `{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-1-1","generation":2}`), 200, nil},
		{"read released", 72000, get("/v1/leases/clusters/dev/data.rdb"), 200, nil},
		{"clock skew", 60000, post("/v1/acquire", `{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-2-1","ttl_ms":60000,"term":3}`), 503, nil},
		{"read missing", 72000, get("/v1/leases/main"), 404, nil},
		{"read bad key", 72000, get("/v1/leases/a/../b"), 400, nil},
		{"invalid body", 72000, post("/v1/acquire", `{"database_key":"k"}`), 400, nil},
		{"invalid content type", 72000, api.Request{Method: "POST", Path: "/v1/release", Header: http.Header{}, Body: strings.NewReader(`{}`)}, 400, nil},
		{"too large", 72000, post("/v1/refresh", strings.Repeat(" ", api.MaxBodyBytes+1)), 413, nil},
		{"method not allowed", 72000, get("/v1/release"), 405, nil},
		{"lost race", 0, post("/v1/acquire", acquire), 409, broken(&apitest.Broken{WriteErr: &lease.PreconditionError{}})},
		{"backend unavailable on write", 0, post("/v1/release", `{"database_key":"k","holder_id":"h","generation":1}`), 503,
			broken(&apitest.Broken{LoadErr: lease.Unavailable(errors.New("throttled"), 2500*time.Millisecond)})},
		{"backend unavailable on read", 0, get("/v1/leases/k"), 503, broken(&apitest.Broken{LoadErr: lease.Unavailable(errors.New("timeout"), 0)})},
		{"internal on write", 0, post("/v1/refresh", `{"database_key":"k","holder_id":"h","generation":1,"ttl_ms":1000}`), 500,
			broken(&apitest.Broken{LoadErr: errors.New("access denied")})},
		{"internal on read", 0, get("/v1/leases/k"), 500, broken(&apitest.Broken{LoadErr: errors.New("access denied")})},
		{"storage corrupt on read", 0, get("/v1/leases/k"), 500, broken(&apitest.Broken{LoadErr: fmt.Errorf("%w: lock file is a symlink", lease.ErrCorrupt)})},
		// The path-key routes, principals and the break-glass route.
		{"acquire by path", 80000, as(tokenA, post("/v1/acquire/tenants/a/db", `{"holder_id":"reddb-a","ttl_ms":60000}`)), 200, tokens},
		{"acquire by path with the same key in the body", 80000, as(tokenA, post("/v1/acquire/tenants/a/db", `{"database_key":"tenants/a/db","holder_id":"reddb-a","ttl_ms":60000}`)), 200, tokens},
		{"acquire by path, held", 80000, as(tokenA, post("/v1/acquire/tenants/a/db", `{"holder_id":"x","ttl_ms":60000}`)), 409, tokens},
		{"refresh by path", 81000, as(tokenA, post("/v1/refresh/tenants/a/db", `{"holder_id":"reddb-a","generation":2,"ttl_ms":60000}`)), 200, tokens},
		{"refresh by path, stale", 81000, as(tokenA, post("/v1/refresh/tenants/a/db", `{"holder_id":"reddb-a","generation":1,"ttl_ms":60000}`)), 409, tokens},
		{"refresh by path, another key in the body", 81000, as(tokenA, post("/v1/refresh/tenants/a/db", `{"database_key":"tenants/a/x","holder_id":"reddb-a","generation":2,"ttl_ms":60000}`)), 400, tokens},
		{"refresh by another principal", 81000, as(tokenA2, post("/v1/refresh/tenants/a/db", `{"holder_id":"reddb-a","generation":2,"ttl_ms":60000}`)), 403, tokens},
		{"read outside the prefixes", 81000, as(tokenB, get("/v1/leases/tenants/a/db")), 403, tokens},
		{"no token", 81000, as("", get("/v1/leases/tenants/a/db")), 401, tokens},
		{"unknown token", 81000, as("nobody-0123456789", post("/v1/release/tenants/a/db", `{"holder_id":"reddb-a","generation":2}`)), 401, tokens},
		{"break glass without admin", 82000, as(tokenA, post("/v1/admin/release/tenants/a/db", ``)), 403, tokens},
		{"break glass", 82000, as(tokenOps, post("/v1/admin/release/tenants/a/db", `{"reason":"stuck writer"}`)), 200, tokens},
		{"break glass again", 82000, as(tokenOps, api.Request{Method: "POST", Path: "/v1/admin/release/tenants/a/db", Header: http.Header{}}), 200, tokens},
		{"break glass on a key without a record", 82000, as(tokenOps, post("/v1/admin/release/tenants/a/none", ``)), 404, tokens},
		{"release by path, after break glass", 83000, as(tokenA, post("/v1/release/tenants/a/db", `{"holder_id":"reddb-a","generation":2}`)), 200, tokens},
		{"release by path, stale", 83000, as(tokenA, post("/v1/release/tenants/a/db", `{"holder_id":"reddb-a","generation":1}`)), 409, tokens},
		{"acquire by path, term jump", 83000, as(tokenA, post("/v1/acquire/tenants/a/db", `{"holder_id":"reddb-a","ttl_ms":60000,"term":5000}`)), 400, tokens},
	}
	ctx := context.Background()
	// Credentials are the service's to check; the spec names the schemes.
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
	for _, s := range steps {
		env := e
		if s.env != nil {
			env = s.env
		}
		env.Clock.Set(apitest.Epoch.Add(time.Duration(s.atMs) * time.Millisecond))
		var body []byte
		if s.req.Body != nil {
			body, _ = io.ReadAll(s.req.Body) // kept for the spec's check of the request
			s.req.Body = bytes.NewReader(body)
		}
		resp := env.Handler.Serve(ctx, s.req)
		if resp.Status != s.status {
			t.Errorf("%s: status %d %s, want %d", s.name, resp.Status, resp.Body, s.status)
			continue
		}
		route, params := specRoute(t, doc, s.req)
		httpReq, err := http.NewRequest(s.req.Method, "http://127.0.0.1:8080"+s.req.Path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		httpReq.Header = s.req.Header.Clone()
		if len(params) > 0 {
			httpReq.URL.RawPath, _ = url.PathUnescape(s.req.Path)
		}
		reqIn := &openapi3filter.RequestValidationInput{Request: httpReq, PathParams: params, Route: route, Options: opts}
		if resp.Status == 200 {
			if err := openapi3filter.ValidateRequest(ctx, reqIn); err != nil {
				t.Errorf("%s: the spec refuses a request the service accepts: %v", s.name, err)
			}
		}
		header := http.Header{}
		for k, v := range resp.Header {
			header.Set(k, v)
		}
		in := &openapi3filter.ResponseValidationInput{RequestValidationInput: reqIn, Status: resp.Status, Header: header, Options: opts}
		in.SetBodyBytes(resp.Body)
		if err := openapi3filter.ValidateResponse(ctx, in); err != nil {
			t.Errorf("%s: response %d %s does not conform to api/openapi.yaml: %v", s.name, resp.Status, resp.Body, err)
		}
	}
}

// The spec is strict where the service is: it must refuse what the
// service refuses, or clients generated from it would send such requests.
func TestSpecRefusesWhatTheServiceRefuses(t *testing.T) {
	t.Parallel()
	doc := loadSpec(t)
	ctx := context.Background()
	for _, body := range []string{
		`{"database_key":"k","holder_id":"h","ttl_ms":1000,"extra":1}`,
		`{"database_key":"k","holder_id":"h"}`,
		`{"database_key":"k","holder_id":"h","ttl_ms":1000.5}`,
		`{"database_key":"k","holder_id":"h","ttl_ms":1000,"term":0}`,
		`{"database_key":"","holder_id":"h","ttl_ms":1000}`,
		`{"database_key":"k","holder_id":"h","ttl_ms":999}`,
	} {
		req := post("/v1/acquire", body)
		route, params := specRoute(t, doc, req)
		httpReq, _ := http.NewRequest("POST", "http://127.0.0.1:8080/v1/acquire", strings.NewReader(body))
		httpReq.Header = jsonHeader()
		err := openapi3filter.ValidateRequest(ctx, &openapi3filter.RequestValidationInput{Request: httpReq, PathParams: params, Route: route})
		if err == nil {
			t.Errorf("spec accepts %s", body)
		}
	}
}
