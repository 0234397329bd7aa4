//go:build reddb

package reddbtest_test

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redlease/redlease/internal/reddbtest"
)

// The tests start real RedDB instances one after another, not in parallel:
// each boot costs a second or two of CPU on a shared two-core machine, and
// lease timing is what they observe.

const (
	databaseKey = "clusters/dev/data.rdb"
	ttl         = 3 * time.Second // RedDB refreshes every max(ttl/3, 1 s)
	bootTimeout = 90 * time.Second
)

var leaseKey = reddbtest.LeaseObjectKey("", databaseKey)

// lease is RedDB's record as it writes it.
type lease struct {
	DatabaseKey  string `json:"database_key"`
	HolderID     string `json:"holder_id"`
	Term         uint64 `json:"term"`
	Generation   uint64 `json:"generation"`
	AcquiredAtMs uint64 `json:"acquired_at_ms"`
	ExpiresAtMs  uint64 `json:"expires_at_ms"`
}

func decodeLease(t *testing.T, b []byte) lease {
	t.Helper()
	var l lease
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatalf("lease object %q: %v", b, err)
	}
	return l
}

// encodeLease writes a lease the way RedDB does: compact, keys sorted.
func encodeLease(t *testing.T, l lease) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"database_key": l.DatabaseKey, "holder_id": l.HolderID, "term": l.Term,
		"generation": l.Generation, "acquired_at_ms": l.AcquiredAtMs, "expires_at_ms": l.ExpiresAtMs,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func nowMs() uint64 { return uint64(time.Now().UnixMilli()) }

// startRed starts one RedDB against the fixture with the lease on.
func startRed(t *testing.T, s *objectServer, holder string, edit ...func(*reddbtest.Config)) *reddbtest.Server {
	t.Helper()
	cfg := reddbtest.Config{
		Name: holder,
		Env: reddbtest.HTTPBackend{
			URL:      s.BaseURL(),
			Auth:     "Bearer token-" + holder,
			LeaseTTL: ttl,
			HolderID: holder,
		}.Env(),
	}
	for _, e := range edit {
		e(&cfg)
	}
	return reddbtest.Start(t, cfg)
}

// holding starts one RedDB and waits until it holds the lease.
func holding(t *testing.T, s *objectServer, holder string, edit ...func(*reddbtest.Config)) *reddbtest.Server {
	t.Helper()
	red := startRed(t, s, holder, edit...)
	red.WaitLease(reddbtest.LeaseHeld, bootTimeout)
	return red
}

// storedLease decodes the lease object the fixture holds now.
func storedLease(t *testing.T, s *objectServer) lease {
	t.Helper()
	b, ok := s.get(leaseKey)
	if !ok {
		t.Fatal("no lease object stored")
	}
	return decodeLease(t, b)
}

// sleepPastExpiry waits until the stored lease has expired by the test's
// clock (which RedDB shares unless a test skews it).
func sleepPastExpiry(t *testing.T, s *objectServer) {
	t.Helper()
	if wait := time.Duration(int64(storedLease(t, s).ExpiresAtMs)-int64(nowMs())) * time.Millisecond; wait > 0 {
		time.Sleep(wait + 100*time.Millisecond)
	}
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// leaseRequests returns the requests for the lease object since mark.
func leaseRequests(s *objectServer, mark int) []request {
	return filter(s.requests(mark), leaseKey)
}

// waitLeaseRequests waits until n requests for the lease object arrived
// since mark and returns them.
func waitLeaseRequests(t *testing.T, s *objectServer, mark, n int) []request {
	t.Helper()
	waitFor(t, "lease requests", 30*time.Second, func() bool { return len(leaseRequests(s, mark)) >= n })
	return leaseRequests(s, mark)[:n]
}

func wantSequence(t *testing.T, what string, got []request, want ...string) {
	t.Helper()
	if g := sequence(got); !slices.Equal(g, want) {
		t.Fatalf("%s: got %q, want %q", what, g, want)
	}
}

// indexOf is the position of the first request in reqs matching pred, -1 if none.
func indexOf(reqs []request, pred func(request) bool) int {
	return slices.IndexFunc(reqs, pred)
}

func listSuffix(r request) string {
	if r.IsList {
		return "?list=" + r.List
	}
	return ""
}

func itoa(n int) string { return strconv.Itoa(n) }

func contains(list []string, s string) bool { return slices.Contains(list, s) }

func hasPrefix(list []string, prefix string) bool {
	return slices.ContainsFunc(list, func(s string) bool { return strings.HasPrefix(s, prefix) })
}
