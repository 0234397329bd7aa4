package backendtest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redlease/redlease/internal/testclock"
	"github.com/redlease/redlease/pkg/lease"
)

// Costs is how many reads and writes one step may make.
type Costs struct{ Reads, Writes int }

// StaleCacheRefresh names the step whose cost differs between backends: a
// refresh from an instance whose cached version another instance replaced.
// S3 re-reads after the 412 (1 read, 2 writes); DynamoDB gets the winner
// back with the refusal (0 reads, 2 writes).
const StaleCacheRefresh = "refresh, stale cache"

// CheckServiceCallCounts drives lease.Service over store through the steps
// below and checks how many storage requests each one costs, cold (a fresh
// instance) and warm (an instance that wrote the key last and cached its
// version). staleRefresh is the backend's cost of StaleCacheRefresh. RedDB's
// own client needs 6 requests to acquire, 5 to refresh, 4 to release.
// c.Take must count only reads and writes, and should fail the test itself
// on any other request (a listing, say).
func CheckServiceCallCounts(t *testing.T, store lease.Store, c Counter, key string, staleRefresh Costs) {
	t.Helper()
	ctx := context.Background()
	clock := testclock.New(testclock.Epoch)
	newService := func() *lease.Service { return newService(t, store, clock) }
	a, b := newService(), newService() // two Lambda instances
	const ttl = 60000
	var gen uint64
	refresh := func(svc *lease.Service) func() error {
		return func() error {
			_, err := svc.Refresh(ctx, lease.RefreshRequest{Principal: lease.Anonymous, DatabaseKey: key, HolderID: "reddb-0", Generation: gen, TTLMs: ttl})
			return err
		}
	}
	steps := []struct {
		name string
		do   func() error
		want Costs
	}{
		{"acquire, cold, new key", func() error {
			l, err := a.Acquire(ctx, lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: key, HolderID: "reddb-0", TTLMs: ttl, Term: 1})
			gen = l.Generation
			return err
		}, Costs{1, 1}},
		{"refresh, warm", refresh(a), Costs{0, 1}},
		{"refresh, cold (other instance)", refresh(b), Costs{1, 1}},
		{StaleCacheRefresh, refresh(a), staleRefresh},
		{"acquire refused as held, warm", func() error {
			_, err := a.Acquire(ctx, lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: key, HolderID: "reddb-1", TTLMs: ttl, Term: 1})
			if !errors.Is(err, lease.ErrHeld) {
				return err
			}
			return nil
		}, Costs{1, 0}},
		{"release, warm", func() error {
			_, err := a.Release(ctx, lease.ReleaseRequest{Principal: lease.Anonymous, DatabaseKey: key, HolderID: "reddb-0", Generation: gen})
			return err
		}, Costs{0, 1}},
		{"get", func() error { _, err := a.Get(ctx, lease.Anonymous, key); return err }, Costs{1, 0}},
		{"acquire after release, cold (other instance)", func() error {
			_, err := newService().Acquire(ctx, lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: key, HolderID: "reddb-1", TTLMs: ttl, Term: 1})
			return err
		}, Costs{1, 1}},
	}
	t.Logf("%-46s %9s %9s", "operation", c.ReadName, c.WriteName)
	for _, st := range steps {
		c.Take()
		clock.Advance(time.Second)
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		reads, writes := c.Take()
		t.Logf("%-46s %9d %9d", st.name, reads, writes)
		if got := (Costs{reads, writes}); got != st.want {
			t.Errorf("%s: %d %s, %d %s; want %d and %d", st.name, reads, c.ReadName, writes, c.WriteName, st.want.Reads, st.want.Writes)
		}
	}
}

// newService is one Lambda instance's Service over store: its own version
// cache, the test's clock.
func newService(tb testing.TB, store lease.Store, clock *testclock.Clock) *lease.Service {
	tb.Helper()
	svc, err := lease.New(lease.Config{Store: store, Now: clock.Now})
	if err != nil {
		tb.Fatal(err)
	}
	return svc
}
