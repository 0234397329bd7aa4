package httpserver_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/api/httpserver"
)

// reader is a face that reads n bytes of the body (all of it when n < 0).
type reader struct {
	n   int64
	got int64
}

func (f *reader) Serve(_ context.Context, req api.Request) api.Response {
	src := req.Body
	if f.n >= 0 {
		src = io.LimitReader(src, f.n)
	}
	f.got, _ = io.Copy(io.Discard, src)
	return api.Response{Status: 200, Header: map[string]string{"ETag": `"v1"`}, Body: []byte(req.Path)}
}

// The face reads the body as a stream, as far as it wants; the adapter
// closes the connection only when the face left part of it unread.
func TestFaceReadsTheBodyAsAStream(t *testing.T) {
	t.Parallel()
	const size = 8 << 20 // far more than any buffer on the way
	tests := []struct {
		name      string
		n         int64
		wantClose bool
	}{
		{"read to the end", -1, false},
		{"read in part", 1 << 10, true},
	}
	for _, tc := range tests {
		f := &reader{n: tc.n}
		req := httptest.NewRequest("PUT", "/v1/reddb/a%2Fb", strings.NewReader(strings.Repeat("x", size)))
		rec := httptest.NewRecorder()
		httpserver.Handler(f).ServeHTTP(rec, req)
		want := int64(size)
		if tc.n >= 0 {
			want = tc.n
		}
		if f.got != want || rec.Code != 200 || rec.Body.String() != "/v1/reddb/a%2Fb" || rec.Header().Get("ETag") != `"v1"` {
			t.Errorf("%s: face read %d bytes, answer %d %q %v; want %d bytes read and the face's answer",
				tc.name, f.got, rec.Code, rec.Body.String(), rec.Header(), want)
		}
		if got := rec.Header().Get("Connection") == "close"; got != tc.wantClose {
			t.Errorf("%s: Connection: close = %v, want %v", tc.name, got, tc.wantClose)
		}
	}
	rec := httptest.NewRecorder()
	httpserver.Handler(&reader{n: 0}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/leases/k", nil))
	if rec.Header().Get("Connection") != "" {
		t.Errorf("a request without a body answered Connection %q", rec.Header().Get("Connection"))
	}
}
