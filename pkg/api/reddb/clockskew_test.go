package reddb_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/api/reddb"
	"github.com/redlease/redlease/pkg/lease"
)

// RedDB's refresh (PUT If-Match) and release (DELETE If-Match) through a
// face whose clock is 8 s behind the one that served its acquire answer
// 503 clock_skew with a Retry-After, and change nothing; the correct face
// then serves the refresh.
func TestLeaseObjectWritesThroughABehindClockAre503(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	etag := e.acquire(t, red1, "red-a")
	svc, err := lease.New(lease.Config{Store: e.leases, Now: func() time.Time { return e.clock.Now().Add(-8 * time.Second) }})
	if err != nil {
		t.Fatal(err)
	}
	behind := &env{leases: e.leases, objects: e.objects, clock: e.clock, svc: svc}
	if behind.face, err = reddb.New(reddb.Config{Service: svc, Objects: e.objects}); err != nil {
		t.Fatal(err)
	}
	e.advance(time.Second)
	stored := e.do(t, call{method: http.MethodGet, path: leaseURL}).body
	body := e.redLease("red-a", 1, 0, 3*time.Second)
	for _, c := range []call{
		{method: http.MethodPut, path: leaseURL, header: ifMatch(etag), body: body},
		{method: http.MethodDelete, path: leaseURL, header: ifMatch(etag)},
	} {
		a := behind.do(t, c)
		want(t, c.method+" through a clock 8 s behind", a, http.StatusServiceUnavailable, api.CodeClockSkew)
		if a.header["Retry-After"] == "" {
			t.Errorf("%s: 503 without Retry-After: %v", c.method, a.header)
		}
	}
	if got := e.do(t, call{method: http.MethodGet, path: leaseURL}).body; string(got) != string(stored) {
		t.Fatalf("refused writes changed the lease object:\n%s\nwas\n%s", got, stored)
	}
	want(t, "refresh through the correct face", e.do(t, call{method: http.MethodPut, path: leaseURL, header: ifMatch(etag), body: body}), http.StatusOK, "")
}
