package badinput

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/api/apitest"
	"github.com/redlease/redlease/pkg/api/httpserver"
	"github.com/redlease/redlease/pkg/backend/memory"
)

// FuzzBadInputNeverChangesTheStore sends any method, path and body to the
// local server's handler on a freshly seeded memory store. A 2xx may write;
// anything else must be a 4xx with a contract code and leave every stored
// byte as it was. More seeds are in testdata/fuzz.
func FuzzBadInputNeverChangesTheStore(f *testing.F) {
	f.Add("POST", "/v1/acquire", []byte(j(kHeld, holder("reddb-9"), ttl)))
	f.Add("POST", "/v1/refresh", []byte(j(kHeld, hHeld, `"generation":2`, ttl)))
	f.Add("POST", "/v1/release", []byte(j(kHeld, hHeld, `"generation":0`)))
	f.Add("DELETE", "/v1/leases/clusters/dev/data.rdb", []byte(nil))
	f.Add("GET", "/v1/leases/clusters/%2E%2E/dev", []byte(nil))
	for _, r := range rows() { // the table is a corpus too
		f.Add(r.req.method, r.req.path, []byte(r.req.body))
	}
	f.Fuzz(func(t *testing.T, method, path string, body []byte) {
		req, ok := parseLikeTheServer(method, path, body)
		if !ok {
			return // net/http refuses it before any handler runs
		}
		e := seededMemoryEnv(t)
		before := rawRecords(t, e.Memory)
		rec := httptest.NewRecorder()
		httpserver.Handler(e.Handler).ServeHTTP(rec, req)
		if rec.Code >= 200 && rec.Code <= 299 {
			return
		}
		apitest.CheckContractAnswer(t, rec.Code, rec.Body.Bytes()) // fails on a 5xx
		if rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get(api.HeaderRequestID) == "" {
			t.Fatalf("%d without the JSON content type or a request id: %v", rec.Code, rec.Header())
		}
		if after := rawRecords(t, e.Memory); !maps.Equal(before, after) {
			t.Fatalf("%s %q answered %d %s and changed the store:\nbefore %q\nafter  %q",
				method, path, rec.Code, rec.Body.Bytes(), before, after)
		}
	})
}

// parseLikeTheServer builds the request net/http's server would hand the
// handler for this request line, or reports that it would refuse it. The
// method and target must not break the request line itself.
func parseLikeTheServer(method, path string, body []byte) (*http.Request, bool) {
	if method == "" || strings.ContainsAny(method, " \r\n") || strings.ContainsAny(path, " \r\n") {
		return nil, false
	}
	head := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: redlease.test\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
		method, path, len(body))
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(append([]byte(head), body...))))
	if err != nil {
		return nil, false
	}
	return req, true
}

// seededMemoryEnv is a fresh handler on a memory store holding the same
// leases as the table's data directory, written through the API. A fresh
// store per input keeps every input independent of the ones before.
func seededMemoryEnv(t *testing.T) *apitest.Env {
	t.Helper()
	e := apitest.New(t, apitest.Options{})
	h := httpserver.Handler(e.Handler)
	for _, s := range []struct{ path, body string }{
		{api.PathAcquire, j(kHeld, hHeld, `"ttl_ms":86400000`)},
		{api.PathAcquire, j(key(releasedKey), holder("reddb-old"), ttl, `"term":3`)},
		{api.PathRelease, j(key(releasedKey), holder("reddb-old"), gen1)},
		{api.PathAcquire, j(key(fencedKey), holder("reddb-5"), `"ttl_ms":86400000`, `"term":5`)},
	} {
		req := httptest.NewRequest(http.MethodPost, s.path, strings.NewReader(s.body))
		req.Header.Set("Content-Type", ctJSON)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("seed %s %s: %d %s", s.path, s.body, rec.Code, rec.Body)
		}
	}
	return e
}

// rawRecords maps every stored key, readable or not, to its raw bytes.
func rawRecords(t *testing.T, m *memory.Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	for cursor := ""; ; {
		page, err := m.List(context.Background(), cursor, 100)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, u := range page.Unreadable {
			keys = append(keys, u.Key)
		}
		for _, e := range page.Entries {
			keys = append(keys, e.Key)
		}
		for _, k := range keys {
			data, _ := m.Raw(k)
			out[k] = string(data)
		}
		if page.Next == "" {
			return out
		}
		cursor = page.Next
	}
}

// TestFuzzHarness keeps the fuzz target honest: its model of the server's
// parser agrees with what the table saw the real server do, and its store
// comparison notices a write.
func TestFuzzHarness(t *testing.T) {
	for _, r := range rows() {
		_, ok := parseLikeTheServer(r.req.method, r.req.path, []byte(r.req.body))
		if refused := r.local != nil && r.local.preHandler; ok == refused {
			t.Errorf("%s: parseLikeTheServer ok = %v, but the server refuses it = %v", r.name, ok, refused)
		}
	}
	e := seededMemoryEnv(t)
	before := rawRecords(t, e.Memory)
	if len(before) != 3 {
		t.Fatalf("seeded store holds %d records, want 3: %q", len(before), before)
	}
	req, ok := parseLikeTheServer(http.MethodPost, api.PathRefresh, []byte(j(kHeld, hHeld, gen1, `"ttl_ms":1000`)))
	if !ok {
		t.Fatal("a valid refresh does not parse")
	}
	rec := httptest.NewRecorder()
	httpserver.Handler(e.Handler).ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || maps.Equal(before, rawRecords(t, e.Memory)) {
		t.Fatalf("valid refresh: %d %s, store changed = %v; want 200 and a change",
			rec.Code, rec.Body, !maps.Equal(before, rawRecords(t, e.Memory)))
	}
}
