//go:build reddb

package reddbtest_test

// How stock RedDB reads records it did not write: its own holder id over a
// live lease, a higher term, and the records redlease's pkg/lease stores
// (encoded here by pkg/lease itself, so a change to the codec that RedDB
// cannot read fails this test).

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/redlease/redlease/internal/reddbtest"
	rl "github.com/redlease/redlease/pkg/lease"
)

// A restarted instance with the same RED_LEASE_HOLDER_ID takes over its own
// live lease at once, at generation + 1: RedDB refuses only other holders.
func TestSameHolderReacquiresItsLiveLease(t *testing.T) {
	s := newObjectServer(t)
	a := holding(t, s, "red-a")
	a.Kill()
	b, _ := s.get(leaseKey)
	before := decodeLease(t, b)

	holding(t, s, "red-a")
	b, _ = s.get(leaseKey)
	after := decodeLease(t, b)
	if after.Generation != before.Generation+1 || after.AcquiredAtMs >= before.ExpiresAtMs {
		t.Fatalf("re-acquire %+v over %+v, want generation+1 before the old lease expired", after, before)
	}
}

// A stored term above 1 fences a stock RedDB for good: it always acquires
// at term 1.
func TestHigherStoredTermFencesForGood(t *testing.T) {
	s := newObjectServer(t)
	s.put(leaseKey, encodeLease(t, lease{DatabaseKey: databaseKey, HolderID: "promoted", Term: 2, Generation: 4, AcquiredAtMs: 1, ExpiresAtMs: 2}))
	red := startRed(t, s, "red-a")
	exit := red.MustWait(bootTimeout)
	msg := "fenced lease op: 'red-a' on stale term 1 is behind current term 2"
	if exit.Code != 1 || !strings.Contains(exit.Stdout+exit.Stderr, msg) {
		t.Fatalf("%s, output lacks %q:\n%s", exit, msg, exit.Stderr)
	}
	wantSequence(t, "fenced acquire", leaseRequests(s, 0), "HEAD 200", "GET 200", "HEAD 200")
}

// redlease keeps a released lease as a marker (holder_id "", the holder in
// released_holder_id, expires_at_ms no later than the release). RedDB reads
// it as an expired lease nobody holds and takes generation + 1.
func TestRedDBAcquiresOverReleasedMarker(t *testing.T) {
	s := newObjectServer(t)
	now := nowMs()
	marker := rl.Record{Lease: rl.Lease{
		DatabaseKey: databaseKey, HolderID: "red-old", Term: 1, Generation: 7,
		AcquiredAtMs: now - 20_000, ExpiresAtMs: now - 10_000, ReleasedAtMs: now - 10_000,
	}}
	s.put(leaseKey, rl.EncodeRecord(marker))
	holding(t, s, "red-a")
	b, _ := s.get(leaseKey)
	if l := decodeLease(t, b); l.HolderID != "red-a" || l.Generation != 8 {
		t.Fatalf("acquired %+v over a released generation 7, want red-a at generation 8", l)
	}
	// And pkg/lease reads RedDB's bytes back.
	rec, err := rl.DecodeRecord(b)
	if err != nil || rec.HolderID != "red-a" || rec.Released() {
		t.Fatalf("rl.DecodeRecord(%q) = %+v, %v", b, rec, err)
	}
}

// RedDB judges expiry by its own clock before it sends anything. A marker
// whose expires_at_ms is the moment of release therefore looks live, held by
// "", to an instance whose clock runs behind: it refuses to start. A marker
// that expired well in the past does not have this problem.
func TestClockBehindRedDBRefusesFreshReleasedMarker(t *testing.T) {
	for _, tc := range []struct {
		name      string
		expiresAt func(now uint64) uint64
		wantHeld  bool
	}{
		{"marker expires at release time", func(now uint64) uint64 { return now }, false},
		{"marker expired long ago", func(now uint64) uint64 { return now - 120_000 }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newObjectServer(t)
			now := nowMs()
			marker := rl.Record{Lease: rl.Lease{
				DatabaseKey: databaseKey, HolderID: "red-old", Term: 1, Generation: 3,
				AcquiredAtMs: now - 120_000, ExpiresAtMs: tc.expiresAt(now), ReleasedAtMs: now,
			}}
			s.put(leaseKey, rl.EncodeRecord(marker))
			stored, _ := s.get(leaseKey)
			red := startRed(t, s, "red-behind", func(c *reddbtest.Config) { c.ClockOffset = -30 * time.Second })
			if tc.wantHeld {
				red.WaitLease(reddbtest.LeaseHeld, bootTimeout)
				return
			}
			exit := red.MustWait(bootTimeout)
			msg := "held by '' (gen 3, expires in "
			if exit.Code != 1 || !strings.Contains(exit.Stdout+exit.Stderr, msg) {
				t.Fatalf("%s, output lacks %q:\n%s", exit, msg, exit.Stderr)
			}
			if b, _ := s.get(leaseKey); !bytes.Equal(b, stored) {
				t.Fatal("marker changed")
			}
		})
	}
}
