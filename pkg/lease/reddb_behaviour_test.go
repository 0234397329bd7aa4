package lease_test

// One test per behaviour that RedDB's own lease tests check
// (replication/lease.rs), named after them, with time from a fake clock.
// release_clears_so_anyone_can_take_again is the one deliberate change:
// generation keeps growing after a release.

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redlease/redlease/pkg/lease"
)

func TestFirstAcquireAssignsGenerationOne(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := f.acquire(t, "db", "writer-a", time.Minute, 1)
	if l.Generation != 1 || l.HolderID != "writer-a" {
		t.Fatalf("got generation %d holder %q, want 1 and writer-a", l.Generation, l.HolderID)
	}
	if l.AcquiredAtMs != f.clock.Ms() || l.ExpiresAtMs != f.clock.Ms()+60_000 {
		t.Fatalf("got acquired %d expires %d, want now %d and now+60000", l.AcquiredAtMs, l.ExpiresAtMs, f.clock.Ms())
	}
}

func TestSecondHolderRejectedWhileFirstAlive(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.acquire(t, "db", "writer-a", time.Minute, 1)
	f.clock.Advance(10 * time.Second)
	_, err := f.svc.Acquire(context.Background(), lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "db", HolderID: "writer-b", TTLMs: 60_000, Term: 1})
	var held *lease.HeldError
	if !errors.As(err, &held) || !errors.Is(err, lease.ErrHeld) {
		t.Fatalf("got %v, want a HeldError", err)
	}
	if held.Current.HolderID != "writer-a" || held.Current.Generation != 1 {
		t.Fatalf("held by %q generation %d, want writer-a generation 1", held.Current.HolderID, held.Current.Generation)
	}
	if held.RetryAfter != 50*time.Second {
		t.Fatalf("retry after %s, want 50s (the time left on the lease)", held.RetryAfter)
	}
}

func TestExpiredLeaseIsPoachable(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	first := f.acquire(t, "db", "writer-a", time.Second, 1)
	f.clock.Advance(time.Second) // expires_at_ms <= now: expired
	l := f.acquire(t, "db", "writer-b", time.Minute, 1)
	if l.HolderID != "writer-b" || l.Generation != first.Generation+1 {
		t.Fatalf("got holder %q generation %d, want writer-b generation 2", l.HolderID, l.Generation)
	}
}

func TestLeaseIsNotPoachableOneMillisecondBeforeExpiry(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.acquire(t, "db", "writer-a", time.Second, 1)
	f.clock.Advance(999 * time.Millisecond)
	_, err := f.svc.Acquire(context.Background(), lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "db", HolderID: "writer-b", TTLMs: 60_000, Term: 1})
	if !errors.Is(err, lease.ErrHeld) {
		t.Fatalf("got %v, want ErrHeld", err)
	}
}

// RedDB deletes on release and restarts at generation 1; redlease keeps the
// record, so the next acquire continues the sequence.
func TestReleaseClearsSoAnyoneCanTakeAgain(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := f.acquire(t, "db", "writer-a", time.Minute, 1)
	if _, err := f.release(l); err != nil {
		t.Fatalf("Release: %v", err)
	}
	next := f.acquire(t, "db", "writer-b", time.Minute, 1)
	if next.HolderID != "writer-b" || next.Generation != 2 {
		t.Fatalf("got holder %q generation %d, want writer-b generation 2 (never reset)", next.HolderID, next.Generation)
	}
}

func TestRefreshExtendsExpirationForSameHolder(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := f.acquire(t, "db", "writer-a", time.Second, 1)
	f.clock.Advance(20 * time.Millisecond)
	r, err := f.refresh(l, time.Minute, 0)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if r.Generation != l.Generation || r.Term != l.Term || r.AcquiredAtMs != l.AcquiredAtMs {
		t.Fatalf("refresh changed the token or acquire time: %+v -> %+v", l, r)
	}
	if r.ExpiresAtMs != f.clock.Ms()+60_000 || r.ExpiresAtMs <= l.ExpiresAtMs {
		t.Fatalf("expires %d, want now+60000 = %d", r.ExpiresAtMs, f.clock.Ms()+60_000)
	}
}

func TestRefreshFailsWhenSomeoneElseOwns(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := f.acquire(t, "db", "writer-a", time.Second, 1)
	f.clock.Advance(10 * time.Second)
	f.acquire(t, "db", "writer-b", time.Minute, 1)
	_, err := f.refresh(l, time.Minute, 0)
	var stale *lease.StaleError
	if !errors.As(err, &stale) || stale.Current == nil || stale.Current.HolderID != "writer-b" {
		t.Fatalf("got %v, want a StaleError naming writer-b", err)
	}
}

func TestAcquireStampsTermOntoLease(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := f.acquire(t, "db", "writer-a", time.Minute, 7)
	if term, gen := l.FencingToken(); term != 7 || gen != 1 {
		t.Fatalf("fencing token (%d, %d), want (7, 1)", term, gen)
	}
}

func TestLegacyLeaseDefaultsToBaseTerm(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// A RedDB object written before terms existed carries none.
	f.store.PutRaw("db", []byte(`{"acquired_at_ms":1,"database_key":"db","expires_at_ms":2,"generation":4,"holder_id":"old"}`))
	snap, err := f.svc.Get(context.Background(), lease.Anonymous, "db")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if snap.Lease.Term != lease.DefaultTerm {
		t.Fatalf("term %d, want the base term %d", snap.Lease.Term, lease.DefaultTerm)
	}
	l := f.acquire(t, "db", "new", time.Minute, lease.DefaultTerm)
	if l.Generation != 5 || l.Term != 1 {
		t.Fatalf("got (%d, %d), want term 1 generation 5", l.Term, l.Generation)
	}
}

func TestStaleTermContenderIsFencedEvenWhenLeaseExpired(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.acquire(t, "db", "new-primary", time.Second, 5)
	f.clock.Advance(time.Hour)
	_, err := f.svc.Acquire(context.Background(), lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "db", HolderID: "ex-primary", TTLMs: 60_000, Term: 4})
	var fenced *lease.FencedError
	if !errors.As(err, &fenced) || fenced.AttemptedTerm != 4 || fenced.CurrentTerm != 5 {
		t.Fatalf("got %v, want FencedError 4 behind 5", err)
	}
}

func TestStaleTermContenderIsFencedEvenAfterRelease(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := f.acquire(t, "db", "new-primary", time.Minute, 5)
	if _, err := f.release(l); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.Acquire(context.Background(), lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "db", HolderID: "ex-primary", TTLMs: 60_000, Term: 4})
	if !errors.Is(err, lease.ErrFenced) {
		t.Fatalf("got %v, want ErrFenced: the fence must survive a release", err)
	}
}

func TestSameOrHigherTermContenderMayPoachExpiredLease(t *testing.T) {
	t.Parallel()
	for _, term := range []uint64{5, 6} {
		f := newFixture(t)
		f.acquire(t, "db", "old", time.Second, 5)
		f.clock.Advance(2 * time.Second)
		l := f.acquire(t, "db", "new", time.Minute, term)
		if l.HolderID != "new" || l.Term != term || l.Generation != 2 {
			t.Fatalf("term %d: got %+v, want holder new, term %d, generation 2", term, l, term)
		}
	}
}

func TestRefreshForTermFailsClosedOnceTermAdvances(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := f.acquire(t, "db", "deposed", time.Minute, 4)
	before, _ := f.store.Raw("db")
	_, err := f.refresh(l, time.Minute, 5)
	var fenced *lease.FencedError
	if !errors.As(err, &fenced) || fenced.AttemptedTerm != 4 || fenced.CurrentTerm != 5 {
		t.Fatalf("got %v, want FencedError 4 behind 5", err)
	}
	if after, _ := f.store.Raw("db"); string(after) != string(before) {
		t.Fatalf("a fenced refresh wrote:\n%s\n->\n%s", before, after)
	}
}

func TestRefreshForTermWithKnownTermNeedsNoStorage(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := f.acquire(t, "db", "deposed", time.Minute, 4)
	f.store.reset()
	_, err := f.svc.Refresh(context.Background(), lease.RefreshRequest{Principal: lease.Anonymous,
		DatabaseKey: "db", HolderID: "deposed", Generation: l.Generation, TTLMs: 60_000, Term: 4, CurrentTerm: 5,
	})
	if !errors.Is(err, lease.ErrFenced) {
		t.Fatalf("got %v, want ErrFenced", err)
	}
	if n := f.store.loads.Load() + f.store.writes.Load(); n != 0 {
		t.Fatalf("fenced before I/O made %d storage requests, want 0", n)
	}
}

func TestRefreshForTermSucceedsWhileTermHolds(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := f.acquire(t, "db", "primary", time.Second, 5)
	f.clock.Advance(20 * time.Millisecond)
	r, err := f.refresh(l, time.Minute, 5)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if r.Term != 5 || r.ExpiresAtMs <= l.ExpiresAtMs {
		t.Fatalf("got %+v, want term 5 and a later expiry than %d", r, l.ExpiresAtMs)
	}
}
