package file_test

import (
	"context"
	"errors"
	"testing"

	"github.com/redlease/redlease/internal/testclock"
	"github.com/redlease/redlease/pkg/backend/file"
	"github.com/redlease/redlease/pkg/lease"
)

// TestServicesOnOneDirectory runs two Services (two instances, each with its
// own version cache) over one data directory: a cached version that another
// instance made stale must not let a write through.
func TestServicesOnOneDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	clock := testclock.New(testclock.Epoch)
	newService := func() *lease.Service {
		svc, err := lease.New(lease.Config{Store: file.New(file.Options{Dir: dir}), Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	a, b := newService(), newService()
	ctx := context.Background()
	acq := lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "clusters/dev/data.rdb", HolderID: "reddb-0", TTLMs: 10_000, Term: 1}
	first, err := a.Acquire(ctx, acq)
	if err != nil {
		t.Fatalf("Acquire on a: %v", err)
	}
	rel := lease.ReleaseRequest{Principal: lease.Anonymous, DatabaseKey: acq.DatabaseKey, HolderID: "reddb-0", Generation: first.Generation}
	if _, err := b.Release(ctx, rel); err != nil {
		t.Fatalf("Release on b: %v", err)
	}
	// a's cache still holds the live lease; its refresh must see the release.
	_, err = a.Refresh(ctx, lease.RefreshRequest{Principal: lease.Anonymous, DatabaseKey: acq.DatabaseKey, HolderID: "reddb-0", Generation: first.Generation, TTLMs: 10_000})
	if !errors.Is(err, lease.ErrStale) {
		t.Fatalf("Refresh through a stale cache = %v, want ErrStale", err)
	}
	acq.HolderID = "reddb-1"
	second, err := a.Acquire(ctx, acq)
	if err != nil || second.Generation != first.Generation+1 {
		t.Fatalf("re-acquire = %+v, %v; want generation %d", second, err, first.Generation+1)
	}
	got := decodeFile(t, dir, acq.DatabaseKey)
	if got.Lease != second {
		t.Fatalf("file holds %+v, want %+v", got.Lease, second)
	}
}
