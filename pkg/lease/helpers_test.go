package lease_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redlease/redlease/internal/testclock"
	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/lease"
)

// newClock is the tests' settable clock at 2026-01-01T00:00:00Z; tests
// move it instead of sleeping.
func newClock() *testclock.Clock { return testclock.New(testclock.Epoch) }

// countingStore counts the storage requests a Service makes and can fail
// conditional writes on demand.
type countingStore struct {
	*memory.Store
	loads, writes atomic.Int64
	failWrites    atomic.Int64 // fail this many writes with a precondition error
	beforeWrite   func()       // runs before each write, if set
}

func (s *countingStore) Load(ctx context.Context, key string) (lease.Versioned, error) {
	s.loads.Add(1)
	return s.Store.Load(ctx, key)
}

func (s *countingStore) Create(ctx context.Context, rec lease.Record) (lease.Version, error) {
	s.writes.Add(1)
	if s.beforeWrite != nil {
		s.beforeWrite()
	}
	if s.failWrites.Add(-1) >= 0 {
		return "", &lease.PreconditionError{}
	}
	return s.Store.Create(ctx, rec)
}

func (s *countingStore) Replace(ctx context.Context, rec lease.Record, v lease.Version) (lease.Version, error) {
	s.writes.Add(1)
	if s.beforeWrite != nil {
		s.beforeWrite()
	}
	if s.failWrites.Add(-1) >= 0 {
		return "", &lease.PreconditionError{}
	}
	return s.Store.Replace(ctx, rec, v)
}

func (s *countingStore) reset() { s.loads.Store(0); s.writes.Store(0) }

type fixture struct {
	svc   *lease.Service
	clock *testclock.Clock
	store *countingStore
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	clock := newClock()
	store := &countingStore{Store: memory.New(memory.Options{})}
	svc, err := lease.New(lease.Config{Store: store, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{svc: svc, clock: clock, store: store}
}

func (f fixture) acquire(t *testing.T, key, holder string, ttl time.Duration, term uint64) lease.Lease {
	t.Helper()
	l, err := f.svc.Acquire(context.Background(), lease.AcquireRequest{Principal: lease.Anonymous,
		DatabaseKey: key, HolderID: holder, TTLMs: uint64(ttl.Milliseconds()), Term: term,
	})
	if err != nil {
		t.Fatalf("Acquire(%q, %q, term %d): %v", key, holder, term, err)
	}
	return l
}

func (f fixture) refresh(l lease.Lease, ttl time.Duration, currentTerm uint64) (lease.Lease, error) {
	return f.svc.Refresh(context.Background(), lease.RefreshRequest{Principal: lease.Anonymous,
		DatabaseKey: l.DatabaseKey, HolderID: l.HolderID, Generation: l.Generation,
		TTLMs: uint64(ttl.Milliseconds()), CurrentTerm: currentTerm,
	})
}

func (f fixture) release(l lease.Lease) (lease.Lease, error) {
	return f.svc.Release(context.Background(), lease.ReleaseRequest{Principal: lease.Anonymous,
		DatabaseKey: l.DatabaseKey, HolderID: l.HolderID, Generation: l.Generation,
	})
}
