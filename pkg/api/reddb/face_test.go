package reddb_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/api/reddb"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/objects"
	"github.com/redlease/redlease/pkg/objects/objectstest"
)

// The face's Objects and the conformance suite's Store are one interface.
var _ reddb.Objects = objectstest.Store(nil)
var _ objectstest.Store = reddb.Objects(nil)

// RedDB's lease life cycle through the face, request by request, as
// docs/reddb-protocol.md records it: acquire, refresh, release, and the
// next acquire at generation + 1; the stored times are the service's.
func TestLeaseLifeCycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	etag := e.acquire(t, red1, "red-a")
	get := e.do(t, call{method: http.MethodGet, path: leaseURL})
	rec, err := lease.DecodeRecord(get.body)
	if err != nil || get.header["ETag"] != etag || get.header["Content-Type"] != "application/json" {
		t.Fatalf("GET lease object: %v, ETag %q, type %q", err, get.header["ETag"], get.header["Content-Type"])
	}
	if rec.HolderID != "red-a" || rec.Generation != 1 || rec.AcquiredAtMs != e.nowMs() || rec.TTLMs != 3000 || rec.Principal != "red-1" {
		t.Fatalf("stored %+v, want red-a generation 1 at the service's now with ttl 3000 as red-1", rec)
	}

	// Refresh: HEAD, GET, HEAD, PUT If-Match, HEAD; RedDB's body is its
	// in-memory lease (its own clock, 40 s ahead here) with a new expiry.
	e.advance(time.Second)
	body := e.redLease("red-a", 1, 40*time.Second, 3*time.Second)
	put := e.do(t, call{method: http.MethodPut, path: leaseURL, header: ifMatch(etag), body: body})
	want(t, "refresh", put, http.StatusOK, "")
	after, _ := lease.DecodeRecord(e.do(t, call{method: http.MethodGet, path: leaseURL}).body)
	if after.ExpiresAtMs != e.nowMs()+3000 || after.AcquiredAtMs != rec.AcquiredAtMs {
		t.Fatalf("refreshed %+v, want expiry now + 3000 by the service's clock", after)
	}
	if stale := e.do(t, call{method: http.MethodPut, path: leaseURL, header: ifMatch(etag), body: body}); stale.status != http.StatusPreconditionFailed {
		t.Fatalf("refresh at the old ETag: %d %s, want 412", stale.status, stale.body)
	}

	// Release: DELETE If-Match writes the released marker; 204.
	etag = e.do(t, call{method: http.MethodHead, path: leaseURL}).header["ETag"]
	want(t, "DELETE of another principal", e.do(t, call{method: http.MethodDelete, path: leaseURL, header: ifMatch(etag), principal: red2}),
		http.StatusPreconditionFailed, api.CodePreconditionFailed)
	want(t, "DELETE", e.do(t, call{method: http.MethodDelete, path: leaseURL, header: ifMatch(etag)}), http.StatusNoContent, "")
	marker := e.do(t, call{method: http.MethodGet, path: leaseURL})
	var generic map[string]any
	if err := jsonUnmarshal(marker.body, &generic); err != nil || generic["holder_id"] != "" || generic["generation"] != float64(1) {
		t.Fatalf("after DELETE the object reads %s; want a released marker with holder_id \"\" keeping generation 1", marker.body)
	}

	// The next RedDB takes generation 2 over the marker (HEAD, GET, HEAD,
	// PUT If-Match, HEAD, GET).
	e.advance(time.Second)
	etag = e.do(t, call{method: http.MethodHead, path: leaseURL}).header["ETag"]
	put = e.do(t, call{method: http.MethodPut, path: leaseURL, header: ifMatch(etag), body: e.redLease("red-c", 2, 0, 3*time.Second), principal: red2})
	want(t, "acquire over the marker", put, http.StatusOK, "")
	next, _ := lease.DecodeRecord(e.do(t, call{method: http.MethodGet, path: leaseURL}).body)
	if next.HolderID != "red-c" || next.Generation != 2 || next.Principal != "red-2" {
		t.Fatalf("after the release the next acquire stored %+v, want red-c at generation 2", next)
	}
}

// Another holder is refused while the lease is live by the server's clock,
// whatever its own clock says, and nothing is written.
func TestLiveLeaseRefusesOtherHolders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	etag := e.acquire(t, red1, "red-a")
	stored := e.do(t, call{method: http.MethodGet, path: leaseURL}).body
	// RedDB B, its clock 30 s ahead, thinks the lease expired and tries.
	put := e.do(t, call{method: http.MethodPut, path: leaseURL, header: ifMatch(etag),
		body: e.redLease("red-b", 2, 30*time.Second, 3*time.Second), principal: red2})
	want(t, "takeover of a live lease", put, http.StatusPreconditionFailed, api.CodePreconditionFailed)
	if !strings.Contains(string(put.body), `held by \"red-a\"`) {
		t.Errorf("refusal %s does not say who holds the lease", put.body)
	}
	if got := e.do(t, call{method: http.MethodGet, path: leaseURL}).body; !bytes.Equal(got, stored) {
		t.Fatalf("refused takeover changed the record:\n%s\nwas\n%s", got, stored)
	}
	e.advance(3 * time.Second)
	want(t, "takeover after expiry", e.do(t, call{method: http.MethodPut, path: leaseURL, header: ifMatch(etag),
		body: e.redLease("red-b", 2, 30*time.Second, 3*time.Second), principal: red2}), http.StatusOK, "")
}

// Data writes are fenced by the database's lease: only its principal
// writes while it is live; nothing changes on a refusal.
func TestDataWritesAreFenced(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	put := func(p lease.Principal, data string) answer {
		return e.do(t, call{method: http.MethodPut, path: dataURL, body: []byte(data), principal: p})
	}
	want(t, "write without any lease record", put(red2, "before"), http.StatusOK, "")
	e.acquire(t, red1, "red-a")
	want(t, "holder writes", put(red1, "mine"), http.StatusOK, "")
	for _, u := range []string{dataURL, "/v1/reddb/clusters/dev/snapshots/000000000001-1767225600000.snapshot",
		"/v1/reddb/clusters/dev/MANIFEST.json", "/v1/reddb/clusters/dev/manifests/head.json", "/v1/reddb/clusters/dev/wal/x.wal"} {
		a := e.do(t, call{method: http.MethodPut, path: u, body: []byte("theirs"), principal: red2})
		want(t, "another principal writes "+u, a, http.StatusForbidden, api.CodeHeldByOther)
		want(t, "another principal deletes "+u, e.do(t, call{method: http.MethodDelete, path: u, principal: red2}), http.StatusForbidden, api.CodeHeldByOther)
	}
	if got := e.do(t, call{method: http.MethodGet, path: dataURL, principal: red2}); string(got.body) != "mine" {
		t.Fatalf("data after refused writes: %q, want the holder's", got.body)
	}
	// Another database is not fenced by this lease.
	want(t, "other database", e.do(t, call{method: http.MethodPut, path: "/v1/reddb/clusters/other/data.rdb", body: []byte("x"), principal: red2}), http.StatusOK, "")
	// Within the margin, and after expiry: nobody writes.
	e.advance(2500 * time.Millisecond)
	want(t, "holder within the fence margin", put(red1, "late"), http.StatusForbidden, api.CodeLeaseNotHeld)
	e.advance(time.Second)
	want(t, "holder after expiry", put(red1, "late"), http.StatusForbidden, api.CodeLeaseNotHeld)
	want(t, "other after expiry", put(red2, "late"), http.StatusForbidden, api.CodeLeaseNotHeld)
	if got := e.do(t, call{method: http.MethodGet, path: dataURL}); string(got.body) != "mine" {
		t.Fatalf("data after refused writes: %q, want the holder's", got.body)
	}
}

func TestRequireLease(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *reddb.Config) { c.RequireLease = true })
	want(t, "write without a lease record", e.do(t, call{method: http.MethodPut, path: dataURL, body: []byte("x")}),
		http.StatusForbidden, api.CodeLeaseRequired)
	if _, err := e.objects.Head(context.Background(), dbKey); !errors.Is(err, lease.ErrNotFound) {
		t.Fatalf("refused write stored something: %v", err)
	}
	e.acquire(t, red1, "red-a")
	want(t, "write under the lease", e.do(t, call{method: http.MethodPut, path: dataURL, body: []byte("x")}), http.StatusOK, "")
}

// Binary bodies are stored and served byte for byte, with curl's form
// content type; HEAD gives the ETag with Content-Length: 0.
func TestDataObjectsRoundTrip(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	data := []byte("\x00\x01\xff\xfe\r\n binary \x80")
	put := e.do(t, call{method: http.MethodPut, path: dataURL, body: data})
	want(t, "PUT", put, http.StatusOK, "")
	head := e.do(t, call{method: http.MethodHead, path: dataURL})
	get := e.do(t, call{method: http.MethodGet, path: dataURL})
	if head.header["ETag"] != put.header["ETag"] || get.header["ETag"] != put.header["ETag"] || !bytes.Equal(get.body, data) {
		t.Fatalf("HEAD ETag %q, GET ETag %q body %q; want %q and the bytes written", head.header["ETag"], get.header["ETag"], get.body, put.header["ETag"])
	}
	want(t, "HEAD absent", e.do(t, call{method: http.MethodHead, path: "/v1/reddb/clusters/dev/none"}), http.StatusNotFound, api.CodeNotFound)
	want(t, "GET absent", e.do(t, call{method: http.MethodGet, path: "/v1/reddb/clusters/dev/none"}), http.StatusNotFound, api.CodeNotFound)
	want(t, "DELETE", e.do(t, call{method: http.MethodDelete, path: dataURL}), http.StatusNoContent, "")
	want(t, "DELETE absent", e.do(t, call{method: http.MethodDelete, path: dataURL}), http.StatusNoContent, "")
	want(t, "a conditional write", e.do(t, call{method: http.MethodPut, path: dataURL, header: ifNoneMatch(), body: data}), http.StatusOK, "")
	want(t, "a conditional write that fails", e.do(t, call{method: http.MethodPut, path: dataURL, header: ifNoneMatch(), body: data}),
		http.StatusPreconditionFailed, api.CodePreconditionFailed)
}

// A listing names keys relative to its directory, including the
// sub-prefix, never lease objects, and only within the principal's
// prefixes.
func TestList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, k := range []string{"clusters/dev/snapshots/000000000001-1.snapshot", "clusters/dev/snapshots/000000000001-1.snapshot.manifest.json",
		"clusters/dev/data.rdb", "t/a/clusters/dev/snapshots/x"} {
		want(t, "PUT "+k, e.do(t, call{method: http.MethodPut, path: "/v1/reddb/" + k, body: []byte("x"),
			principal: lease.Principal{Name: "all", Prefixes: []string{""}}}), http.StatusOK, "")
	}
	e.acquire(t, red1, "red-a")
	got := e.do(t, call{method: http.MethodGet, path: "/v1/reddb/", query: "list=clusters/dev/snapshots/"})
	wantBody := "clusters/dev/snapshots/000000000001-1.snapshot\nclusters/dev/snapshots/000000000001-1.snapshot.manifest.json\n"
	if got.status != http.StatusOK || string(got.body) != wantBody {
		t.Fatalf("list: %d %q, want %q", got.status, got.body, wantBody)
	}
	if got := e.do(t, call{method: http.MethodGet, path: "/v1/reddb/t/a", query: "list=clusters%2Fdev%2Fsnapshots%2F",
		principal: lease.Principal{Name: "t", Prefixes: []string{"t/a/"}}}); string(got.body) != "clusters/dev/snapshots/x\n" {
		t.Fatalf("list under an http prefix: %d %q", got.status, got.body)
	}
	if got := e.do(t, call{method: http.MethodGet, path: "/v1/reddb/", query: "list=cl"}); strings.Contains(string(got.body), "lease") {
		t.Fatalf("list names lease objects: %q", got.body)
	}
	want(t, "list outside the prefixes", e.do(t, call{method: http.MethodGet, path: "/v1/reddb/", query: "list=t/",
		principal: red1}), http.StatusForbidden, api.CodeForbidden)
}

// Requests the protocol does not have are refused with a clear error, and
// change nothing.
func TestBadRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	etag := e.acquire(t, red1, "red-a")
	before := e.do(t, call{method: http.MethodGet, path: leaseURL}).body
	good := e.redLease("red-a", 1, 0, 3*time.Second)
	tests := []struct {
		name   string
		c      call
		status int
		code   string
	}{
		{"POST", call{method: http.MethodPost, path: dataURL}, 405, api.CodeMethodNotAllowed},
		{"lease PUT without a condition", call{method: http.MethodPut, path: leaseURL, body: good}, 428, api.CodePreconditionRequired},
		{"lease DELETE without If-Match", call{method: http.MethodDelete, path: leaseURL}, 428, api.CodePreconditionRequired},
		{"If-Match: *", call{method: http.MethodPut, path: leaseURL, header: ifMatch("*"), body: good}, 400, api.CodeInvalidRequest},
		{"If-Match unquoted", call{method: http.MethodPut, path: leaseURL, header: ifMatch("abc"), body: good}, 400, api.CodeInvalidRequest},
		{"If-None-Match not *", call{method: http.MethodPut, path: leaseURL, header: http.Header{"If-None-Match": {`"x"`}}, body: good}, 400, api.CodeInvalidRequest},
		{"both conditions", call{method: http.MethodPut, path: leaseURL, header: http.Header{"If-None-Match": {"*"}, "If-Match": {etag}}, body: good}, 400, api.CodeInvalidRequest},
		{"two If-Match", call{method: http.MethodPut, path: leaseURL, header: http.Header{"If-Match": {etag, etag}}, body: good}, 400, api.CodeInvalidRequest},
		{"weak If-Match never matches", call{method: http.MethodPut, path: leaseURL, header: ifMatch("W/" + etag), body: good}, 412, api.CodePreconditionFailed},
		{"conditional GET", call{method: http.MethodGet, path: leaseURL, header: ifMatch(etag)}, 400, api.CodeInvalidRequest},
		{"lease object outside the lease prefix", call{method: http.MethodPut, path: "/v1/reddb/tenant/leases/clusters/dev/data.rdb.lease.json", header: ifNoneMatch(), body: good}, 400, api.CodeInvalidRequest},
		{"other object under the lease prefix", call{method: http.MethodPut, path: "/v1/reddb/leases/notes.txt", body: []byte("x")}, 400, api.CodeInvalidRequest},
		{"lease key not a data file", call{method: http.MethodPut, path: "/v1/reddb/leases/clusters/dev/main.lease.json", header: ifNoneMatch(),
			body: []byte(`{"acquired_at_ms":1,"database_key":"clusters/dev/main","expires_at_ms":3001,"generation":1,"holder_id":"h","term":1}`)}, 400, api.CodeInvalidRequest},
		{"lease body not a record", call{method: http.MethodPut, path: leaseURL, header: ifMatch(etag), body: []byte("hello")}, 400, api.CodeInvalidRequest},
		{"lease body over 4 KiB", call{method: http.MethodPut, path: leaseURL, header: ifMatch(etag), body: append(good, make([]byte, 5000)...)}, 413, api.CodeTooLarge},
		{"traversal", call{method: http.MethodPut, path: "/v1/reddb/clusters/../leases/x", body: []byte("x")}, 400, api.CodeInvalidRequest},
		{"encoded traversal", call{method: http.MethodPut, path: "/v1/reddb/clusters/%2e%2e/x", body: []byte("x")}, 400, api.CodeInvalidRequest},
		{"bad percent-encoding", call{method: http.MethodGet, path: "/v1/reddb/a%zz"}, 400, api.CodeInvalidRequest},
		{"file backend's names", call{method: http.MethodPut, path: "/v1/reddb/.redlease-locks/x", body: []byte("x")}, 400, api.CodeInvalidRequest},
		{"no key", call{method: http.MethodGet, path: "/v1/reddb/"}, 400, api.CodeInvalidRequest},
		{"unknown query parameter", call{method: http.MethodGet, path: dataURL, query: "versionId=1"}, 400, api.CodeInvalidRequest},
		{"list twice", call{method: http.MethodGet, path: "/v1/reddb/", query: "list=a&list=b"}, 400, api.CodeInvalidRequest},
		{"list with PUT", call{method: http.MethodPut, path: "/v1/reddb/", query: "list=a", body: []byte("x")}, 400, api.CodeInvalidRequest},
		{"NFD key", call{method: http.MethodPut, path: "/v1/reddb/clusters/cafe\u0301/data.rdb", body: []byte("x")}, 400, api.CodeInvalidRequest},
		{"outside the prefixes", call{method: http.MethodGet, path: "/v1/reddb/tenants/b/data.rdb"}, 403, api.CodeForbidden},
		{"lease outside the prefixes", call{method: http.MethodHead, path: "/v1/reddb/leases/tenants/b/data.rdb.lease.json"}, 403, api.CodeForbidden},
	}
	for _, tc := range tests {
		a := e.do(t, tc.c)
		if a.status != tc.status || a.code() != tc.code {
			t.Errorf("%s: %d %q %s, want %d %q", tc.name, a.status, a.code(), a.body, tc.status, tc.code)
		}
		if tc.status == 405 && a.header["Allow"] != "HEAD, GET, PUT, DELETE" {
			t.Errorf("%s: Allow %q", tc.name, a.header["Allow"])
		}
	}
	if after := e.do(t, call{method: http.MethodGet, path: leaseURL}).body; !bytes.Equal(after, before) {
		t.Fatalf("bad requests changed the lease record:\n%s\nwas\n%s", after, before)
	}
	var keys []string
	_ = e.objects.List(context.Background(), "", func(k string) error { keys = append(keys, k); return nil })
	if len(keys) != 0 {
		t.Fatalf("bad requests stored objects: %q", keys)
	}
}

// With a size limit (the Lambda face), larger objects are refused with a
// message naming the limit and the alternative, both ways.
func TestObjectSizeLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *reddb.Config) {
		c.MaxObjectBytes = 100
		c.SizeAdvice = "serve this database with redlease serve"
	})
	a := e.do(t, call{method: http.MethodPut, path: dataURL, body: make([]byte, 101)})
	want(t, "PUT over the limit", a, http.StatusRequestEntityTooLarge, api.CodeTooLarge)
	if !strings.Contains(string(a.body), "101 bytes") || !strings.Contains(string(a.body), "100-byte limit") || !strings.Contains(string(a.body), "redlease serve") {
		t.Errorf("413 message %s does not name the size, the limit and the alternative", a.body)
	}
	want(t, "PUT at the limit", e.do(t, call{method: http.MethodPut, path: dataURL, body: make([]byte, 100)}), http.StatusOK, "")
	// A body longer than it said, or of unknown length, is cut at the limit.
	resp := e.face.Serve(context.Background(), api.Request{Method: http.MethodPut, Path: dataURL, Header: http.Header{},
		Body: bytes.NewReader(make([]byte, 500)), ContentLength: api.UnknownLength, Principal: red1})
	if resp.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("PUT of unknown length over the limit: %d %s, want 413", resp.Status, resp.Body)
	}
	// An object stored by another endpoint (redlease serve) is too large
	// to serve here.
	if _, err := e.objects.Put(context.Background(), "clusters/big/data.rdb", bytes.NewReader(make([]byte, 200)), 200, objects.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	want(t, "GET over the limit", e.do(t, call{method: http.MethodGet, path: "/v1/reddb/clusters/big/data.rdb"}), http.StatusRequestEntityTooLarge, api.CodeTooLarge)
	want(t, "HEAD over the limit", e.do(t, call{method: http.MethodHead, path: "/v1/reddb/clusters/big/data.rdb"}), http.StatusOK, "")
}

// A body shorter than its Content-Length (a cut-off upload) never lands.
func TestTruncatedUploadStoresNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	want(t, "PUT", e.do(t, call{method: http.MethodPut, path: dataURL, body: []byte("whole")}), http.StatusOK, "")
	resp := e.face.Serve(context.Background(), api.Request{Method: http.MethodPut, Path: dataURL, Header: http.Header{},
		Body: strings.NewReader("cut"), ContentLength: 10, Principal: red1})
	if resp.Status != http.StatusBadRequest {
		t.Fatalf("truncated PUT: %d %s, want 400", resp.Status, resp.Body)
	}
	if got := e.do(t, call{method: http.MethodGet, path: dataURL}); string(got.body) != "whole" {
		t.Fatalf("after a truncated upload the object holds %q", got.body)
	}
}
