package reddb_test

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/redlease/redlease/pkg/api"
)

// Real answers of the face, one per kind, conform to api/openapi.yaml's
// /v1/reddb/{key}: statuses, headers (ETag, Content-Length: 0 on HEAD,
// X-Redlease-Error) and error bodies.
func TestResponsesConformToOpenAPI(t *testing.T) {
	t.Parallel()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(filepath.Join("..", "..", "..", "api", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatal(err)
	}
	item := doc.Paths.Value("/v1/reddb/{key}")
	if item == nil {
		t.Fatal("api/openapi.yaml has no /v1/reddb/{key}")
	}
	e := newEnv(t)
	etag := e.acquire(t, red1, "red-a")
	steps := []struct {
		name   string
		c      call
		status int
	}{
		{"HEAD lease", call{method: http.MethodHead, path: leaseURL}, 200},
		{"GET lease", call{method: http.MethodGet, path: leaseURL}, 200},
		{"refresh", call{method: http.MethodPut, path: leaseURL, header: ifMatch(etag), body: e.redLease("red-a", 1, 0, 3*time.Second)}, 200},
		{"stale refresh", call{method: http.MethodPut, path: leaseURL, header: ifMatch(etag), body: e.redLease("red-a", 1, 0, 3*time.Second)}, 412},
		{"no condition", call{method: http.MethodPut, path: leaseURL, body: e.redLease("red-a", 1, 0, 3*time.Second)}, 428},
		{"PUT data", call{method: http.MethodPut, path: dataURL, body: []byte("\x00\xff")}, 200},
		{"PUT data fenced", call{method: http.MethodPut, path: dataURL, body: []byte("x"), principal: red2}, 403},
		{"GET data", call{method: http.MethodGet, path: dataURL}, 200},
		{"list", call{method: http.MethodGet, path: "/v1/reddb/", query: "list=clusters/"}, 200},
		{"HEAD absent", call{method: http.MethodHead, path: "/v1/reddb/clusters/none"}, 404},
		{"HEAD forbidden", call{method: http.MethodHead, path: "/v1/reddb/x/data.rdb"}, 403},
		{"GET absent", call{method: http.MethodGet, path: "/v1/reddb/clusters/none"}, 404},
		{"bad key", call{method: http.MethodGet, path: "/v1/reddb/a//b"}, 400},
		{"POST", call{method: http.MethodPost, path: dataURL}, 405},
		{"DELETE data", call{method: http.MethodDelete, path: dataURL}, 204},
	}
	ctx := context.Background()
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}
	for _, s := range steps {
		a := e.do(t, s.c)
		if a.status != s.status {
			t.Errorf("%s: status %d %s, want %d", s.name, a.status, a.body, s.status)
			continue
		}
		op := item.GetOperation(s.c.method)
		if op == nil {
			op = item.Get // a 405: check against an operation that lists it
		}
		route := &routers.Route{Spec: doc, Path: "/v1/reddb/{key}", PathItem: item, Method: s.c.method, Operation: op}
		httpReq, err := http.NewRequest(s.c.method, "http://127.0.0.1:8080"+s.c.path, bytes.NewReader(s.c.body))
		if err != nil {
			t.Fatal(err)
		}
		reqIn := &openapi3filter.RequestValidationInput{Request: httpReq, Route: route, Options: opts,
			PathParams: map[string]string{"key": strings.TrimPrefix(s.c.path, api.PathRedDB)}}
		header := http.Header{}
		for k, v := range a.header {
			header.Set(k, v)
		}
		in := &openapi3filter.ResponseValidationInput{RequestValidationInput: reqIn, Status: a.status, Header: header, Options: opts}
		in.SetBodyBytes(a.body)
		if err := openapi3filter.ValidateResponse(ctx, in); err != nil {
			t.Errorf("%s: response %d %v %s does not conform to api/openapi.yaml: %v", s.name, a.status, a.header, a.body, err)
		}
	}
}
