package leaseops

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/lease"
)

// TestOneWriteNeverHidesARecord: acquiring through a store that guesses
// "absent" for unseen keys must decide on the real record whenever one
// exists: refuse a held lease, respect the term fence, and take a released
// or expired lease at the next generation.
func TestOneWriteNeverHidesARecord(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.UnixMilli(1767225600000)
	clock := func() time.Time { return now }
	store := memory.New(memory.Options{})
	setup, err := lease.New(lease.Config{Store: store, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	acquire := func(key, holder string, term uint64) (lease.Lease, error) {
		svc, err := lease.New(lease.Config{Store: newGuessAbsent(store), Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		return svc.Acquire(ctx, lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: key, HolderID: holder, TTLMs: benchTTLMs, Term: term})
	}
	held, err := setup.Acquire(ctx, lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "held", HolderID: "a", TTLMs: benchTTLMs, Term: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := setup.Acquire(ctx, lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "term6", HolderID: "a", TTLMs: 1000, Term: 6}); err != nil {
		t.Fatal(err)
	}
	rel, err := setup.Acquire(ctx, lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "released", HolderID: "a", TTLMs: benchTTLMs, Term: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := setup.Release(ctx, lease.ReleaseRequest{Principal: lease.Anonymous, DatabaseKey: "released", HolderID: "a", Generation: rel.Generation}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Second) // term6's short lease has expired; held's has not

	if _, err := acquire("held", "b", 1); !errors.Is(err, lease.ErrHeld) {
		t.Errorf("acquire of a held lease: %v, want ErrHeld", err)
	}
	if _, err := acquire("term6", "b", 1); !errors.Is(err, lease.ErrFenced) {
		t.Errorf("acquire at term 1 over a term-6 record: %v, want ErrFenced", err)
	}
	if l, err := acquire("released", "b", 1); err != nil || l.Generation != rel.Generation+1 {
		t.Errorf("acquire after release: %+v, %v; want generation %d", l, err, rel.Generation+1)
	}
	if l, err := acquire("new", "b", 1); err != nil || l.Generation != 1 {
		t.Errorf("acquire of a new key: %+v, %v; want generation 1", l, err)
	}
	got, err := setup.Get(ctx, lease.Anonymous, "held")
	if err != nil || got.Lease != held {
		t.Errorf("held lease after the refused acquire: %+v, %v; want it unchanged %+v", got.Lease, err, held)
	}
}
