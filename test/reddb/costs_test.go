//go:build reddb

package reddb

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redlease/redlease/internal/reddbtest"
)

// logged is one request line of redlease serve's log.
type logged struct {
	Face    string `json:"face"`
	Method  string `json:"method"`
	Class   string `json:"class"`
	Status  int    `json:"status"`
	Storage int    `json:"lease_storage_calls"`
}

// leaseRequests are the lease object requests logged after mark (a byte
// offset into the log).
func (s *server) leaseRequests(mark int) []logged {
	var out []logged
	for line := range strings.SplitSeq(s.log.String()[mark:], "\n") {
		var l logged
		if json.Unmarshal([]byte(line), &l) == nil && l.Face == "reddb" && l.Class == "lease" {
			out = append(out, l)
		}
	}
	return out
}

func (s *server) mark() int { return len(s.log.String()) }

func summary(reqs []logged) (string, int) {
	var parts []string
	total := 0
	for _, r := range reqs {
		parts = append(parts, fmt.Sprintf("%s %d [%d]", r.Method, r.Status, r.Storage))
		total += r.Storage
	}
	return strings.Join(parts, ", "), total
}

// The requests a stock RedDB makes per lease operation through redlease,
// and the storage requests each costs (the serve log's
// lease_storage_calls), on one warm instance: the figures of the docs'
// cost table. The counts are asserted where RedDB's sequence is fixed
// (docs/reddb-protocol.md): a change in either shows here.
func TestRequestAndStorageCosts(t *testing.T) {
	srv := startServe(t, all...)
	phase := func(name string, mark, n int, wantStorage int) []logged {
		t.Helper()
		waitFor(t, name, 30*time.Second, func() bool { return len(srv.leaseRequests(mark)) >= n })
		reqs := srv.leaseRequests(mark)[:n]
		seq, storage := summary(reqs)
		t.Logf("%-26s %d requests, %d storage requests: %s", name, n, storage, seq)
		if storage != wantStorage {
			t.Errorf("%s: %d storage requests, want %d", name, storage, wantStorage)
		}
		return reqs
	}
	m := srv.mark()
	a := holding(t, srv.backendURL(), tokA, "red-a")
	phase("acquire, no record", m, 4, 4) // HEAD, PUT If-None-Match, HEAD, GET
	m = srv.mark()
	phase("refresh", m, 5, 5) // HEAD, GET, HEAD, PUT If-Match (cached version), HEAD
	m = srv.mark()
	a.Drain()
	waitFor(t, "the release", 15*time.Second, func() bool { return srv.record(t).Released() })
	// A refresh may have run between the mark and the drain's tick: the
	// release is the last four requests.
	rel := srv.leaseRequests(m)
	if len(rel) < 4 {
		t.Fatalf("release: %+v", rel)
	}
	rel = rel[len(rel)-4:]
	seq, storage := summary(rel)
	t.Logf("%-26s %d requests, %d storage requests: %s", "release", len(rel), storage, seq)
	if rel[3].Method != "DELETE" || rel[3].Status != 204 || storage != 4 {
		t.Errorf("release: %s; want HEAD, GET, HEAD, DELETE 204 at one storage request each", seq)
	}
	a.WaitLease(reddbtest.LeaseNotHeld, 10*time.Second)
	m = srv.mark()
	c := holding(t, srv.backendURL(), tokC, "red-c")
	phase("acquire over a record", m, 6, 6) // HEAD, GET, HEAD, PUT If-Match, HEAD, GET
	// A data upload: the fence's one read of the lease, then the object
	// write (the object store's request, not in lease_storage_calls).
	m = srv.mark()
	c.MustExec("CREATE TABLE t (id INT)")
	if code, _, err := c.Checkpoint(context.Background()); err != nil || code != http.StatusOK {
		t.Fatalf("checkpoint: %d %v", code, err)
	}
	var puts []logged
	for line := range strings.SplitSeq(srv.log.String()[m:], "\n") {
		var l logged
		if json.Unmarshal([]byte(line), &l) == nil && l.Face == "reddb" && l.Class == "data" && l.Method == "PUT" {
			puts = append(puts, l)
		}
	}
	if len(puts) != 1 || puts[0].Status != 200 || puts[0].Storage != 1 {
		t.Errorf("checkpoint uploads %+v, want one PUT 200 costing one lease read", puts)
	} else {
		t.Logf("%-26s 1 request, 1 lease read + 1 object write", "data upload (checkpoint)")
	}
	m = srv.mark()
	b := startRed(t, srv.backendURL(), tokB, "red-b")
	b.MustWait(bootTimeout)
	phase("refused acquire", m, 3, 3) // HEAD, GET, HEAD
}
