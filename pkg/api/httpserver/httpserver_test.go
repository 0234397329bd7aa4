package httpserver_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/redlease/redlease/pkg/api/apitest"
	"github.com/redlease/redlease/pkg/api/httpserver"
)

func TestServesTheContractOverHTTP(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, apitest.Options{})
	srv := httptest.NewServer(httpserver.Handler(e.Handler)) // 127.0.0.1 only
	t.Cleanup(srv.Close)

	do := func(method, path, contentType, body string) (int, http.Header, string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, resp.Header, string(b)
	}
	lease1 := `{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-0-1","term":1,"generation":1,"acquired_at_ms":1767225600000,"expires_at_ms":1767225660000}`
	tests := []struct {
		name, method, path, ctype, body string
		status                          int
		want                            string
		header                          string // name=value that must be present
	}{
		{"acquire", "POST", "/v1/acquire", "application/json",
			`{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-0-1","ttl_ms":60000}`, 200, `{"lease":` + lease1 + `}`, "X-Request-Id=req-1"},
		{"read with slashes", "GET", "/v1/leases/clusters/dev/data.rdb", "", "", 200,
			`{"lease":` + lease1 + `,"state":"held","expires_in_ms":60000}`, "Cache-Control=no-store"},
		{"read with an encoded key", "GET", "/v1/leases/clusters%2Fdev%2Fdata.rdb", "", "", 200,
			`{"lease":` + lease1 + `,"state":"held","expires_in_ms":60000}`, "Content-Type=application/json"},
		{"traversal is refused, not redirected", "GET", "/v1/leases/clusters/../dev", "", "", 400,
			`{"error":{"code":"invalid_request","message":"database_key must not contain '.' or '..' segments","field":"database_key"}}`, ""},
		{"double slash is refused, not redirected", "GET", "/v1/leases/clusters//dev", "", "", 400,
			`{"error":{"code":"invalid_request","message":"database_key must not contain empty segments ('//' or a trailing '/')","field":"database_key"}}`, ""},
		{"body over 16 KiB", "POST", "/v1/refresh", "application/json", strings.Repeat(" ", 17<<10), 413,
			`{"error":{"code":"too_large","message":"the request body exceeds 16384 bytes"}}`, ""},
		{"form content type", "POST", "/v1/release", "application/x-www-form-urlencoded", "a=b", 400,
			`{"error":{"code":"invalid_request","message":"content-type must be application/json","field":"content-type"}}`, ""},
		{"wrong method", "PUT", "/v1/acquire", "", "", 405,
			`{"error":{"code":"method_not_allowed","message":"method PUT is not allowed here; use POST"}}`, "Allow=POST"},
		{"unknown route", "GET", "/healthz", "", "", 404, `{"error":{"code":"not_found","message":"no such route"}}`, ""},
	}
	for _, tc := range tests { // in order: the read needs the acquire
		status, header, body := do(tc.method, tc.path, tc.ctype, tc.body)
		if status != tc.status || body != tc.want {
			t.Errorf("%s: got %d %s\nwant %d %s", tc.name, status, body, tc.status, tc.want)
		}
		if name, value, ok := strings.Cut(tc.header, "="); ok && header.Get(name) != value {
			t.Errorf("%s: header %s = %q, want %q", tc.name, name, header.Get(name), value)
		}
		if header.Get("X-Request-Id") == "" {
			t.Errorf("%s: no X-Request-Id", tc.name)
		}
	}
}
