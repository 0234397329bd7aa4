package reddb_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/redlease/redlease/internal/testclock"
	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/api/reddb"
	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/lease"
)

const (
	dbKey    = "clusters/dev/data.rdb"
	leaseURL = "/v1/reddb/leases/clusters/dev/data.rdb.lease.json"
	dataURL  = "/v1/reddb/clusters/dev/data.rdb"
)

var (
	red1 = lease.Principal{Name: "red-1", Prefixes: []string{"clusters/"}}
	red2 = lease.Principal{Name: "red-2", Prefixes: []string{"clusters/"}}
)

// env is one face on memory stores with a settable clock.
type env struct {
	face    *reddb.Face
	svc     *lease.Service
	leases  *memory.Store
	objects *memory.Objects
	clock   *testclock.Clock
}

func newEnv(t *testing.T, edit ...func(*reddb.Config)) *env {
	t.Helper()
	e := &env{leases: memory.New(memory.Options{}), objects: memory.NewObjects(memory.ObjectsOptions{Reserved: lease.DefaultPrefix}),
		clock: testclock.New(testclock.Epoch)}
	var err error
	if e.svc, err = lease.New(lease.Config{Store: e.leases, Now: e.clock.Now}); err != nil {
		t.Fatal(err)
	}
	cfg := reddb.Config{Service: e.svc, Objects: e.objects}
	for _, f := range edit {
		f(&cfg)
	}
	if e.face, err = reddb.New(cfg); err != nil {
		t.Fatal(err)
	}
	return e
}

// call is one request as RedDB's curl would send it.
type call struct {
	method, path, query string
	header              http.Header
	body                []byte
	principal           lease.Principal
}

type answer struct {
	status int
	header map[string]string
	body   []byte
}

// code is the error code of an error answer ("" if none).
func (a answer) code() string {
	var b struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(a.body, &b)
	if b.Error.Code == "" {
		return a.header["X-Redlease-Error"]
	}
	return b.Error.Code
}

func (e *env) do(t *testing.T, c call) answer {
	t.Helper()
	if c.principal.Name == "" {
		c.principal = red1
	}
	if c.header == nil {
		c.header = http.Header{}
	}
	if c.method == http.MethodPut && c.header.Get("Content-Type") == "" {
		c.header.Set("Content-Type", "application/x-www-form-urlencoded") // curl's default
	}
	resp := e.face.Serve(context.Background(), api.Request{Method: c.method, Path: c.path, Query: c.query,
		Header: c.header, Body: bytes.NewReader(c.body), ContentLength: int64(len(c.body)), Principal: c.principal})
	a := answer{status: resp.Status, header: resp.Header, body: resp.Body}
	if resp.Stream != nil {
		b, err := io.ReadAll(resp.Stream)
		resp.Stream.Close()
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(b)) != resp.StreamLength {
			t.Errorf("stream of %d bytes announced as %d", len(b), resp.StreamLength)
		}
		a.body = b
	}
	if c.method == http.MethodHead && (a.header["Content-Length"] != "0" || len(a.body) != 0) {
		t.Errorf("HEAD %s answered %d with Content-Length %q and %d body bytes; every HEAD answer needs Content-Length: 0 and no body",
			c.path, a.status, a.header["Content-Length"], len(a.body))
	}
	return a
}

func ifMatch(etag string) http.Header  { return http.Header{"If-Match": {etag}} }
func ifNoneMatch() http.Header         { return http.Header{"If-None-Match": {"*"}} }
func msAt(t time.Time) uint64          { return uint64(t.UnixMilli()) }
func (e *env) nowMs() uint64           { return msAt(e.clock.Now()) }
func (e *env) advance(d time.Duration) { e.clock.Advance(d) }
func want(t *testing.T, what string, a answer, status int, code string) {
	t.Helper()
	if a.status != status || (code != "" && a.code() != code) {
		t.Fatalf("%s: %d %q %s, want %d %q", what, a.status, a.code(), a.body, status, code)
	}
}

// redLease is the record RedDB builds with its own clock (skewed by skew).
func (e *env) redLease(holder string, generation uint64, skew, ttl time.Duration) []byte {
	at := msAt(e.clock.Now().Add(skew))
	return lease.EncodeLease(lease.Lease{DatabaseKey: dbKey, HolderID: holder, Term: 1, Generation: generation,
		AcquiredAtMs: at, ExpiresAtMs: at + uint64(ttl.Milliseconds())})
}

// acquire runs RedDB's acquire over no record (HEAD, PUT If-None-Match,
// HEAD, GET) as p, and returns the ETag.
func (e *env) acquire(t *testing.T, p lease.Principal, holder string) string {
	t.Helper()
	want(t, "HEAD before acquire", e.do(t, call{method: http.MethodHead, path: leaseURL, principal: p}), http.StatusNotFound, "")
	put := e.do(t, call{method: http.MethodPut, path: leaseURL, header: ifNoneMatch(), body: e.redLease(holder, 1, 0, 3*time.Second), principal: p})
	want(t, "PUT If-None-Match", put, http.StatusOK, "")
	head := e.do(t, call{method: http.MethodHead, path: leaseURL, principal: p})
	if head.status != http.StatusOK || head.header["ETag"] != put.header["ETag"] {
		t.Fatalf("HEAD after acquire: %d ETag %q, want 200 and the PUT's ETag %q", head.status, head.header["ETag"], put.header["ETag"])
	}
	return head.header["ETag"]
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
