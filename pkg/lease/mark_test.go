package lease_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redlease/redlease/pkg/lease"
)

// listed reads a key as the sweep's listing would hand it over.
func (f fixture) listed(t *testing.T, key string) lease.Versioned {
	t.Helper()
	v, err := f.store.Store.Load(context.Background(), key)
	if err != nil {
		t.Fatalf("Load(%q): %v", key, err)
	}
	return v
}

func TestMarkExpiryReportedWritesOnlyTheMark(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := f.acquire(t, "db", "writer-a", time.Minute, 3)
	f.clock.Advance(2 * time.Minute)
	before := f.listed(t, "db")
	f.store.reset()

	v, err := f.svc.MarkExpiryReported(context.Background(), before)
	if err != nil {
		t.Fatalf("MarkExpiryReported: %v", err)
	}
	after := f.listed(t, "db")
	want := lease.Record{Lease: l, ExpiryReportedMs: f.clock.Ms()}
	if after.Record != want || after.Version != v || v == before.Version {
		t.Errorf("stored %+v at %q (returned %q), want %+v at a new version", after.Record, after.Version, v, want)
	}
	if loads, writes := f.store.loads.Load(), f.store.writes.Load(); loads != 0 || writes != 1 {
		t.Errorf("storage requests: %d loads, %d writes; want one conditional write and no read", loads, writes)
	}
}

func TestMarkExpiryReportedRefusesWhatItMustNotMark(t *testing.T) {
	t.Parallel()
	tests := map[string]func(t *testing.T, f fixture) lease.Versioned{
		"live lease": func(t *testing.T, f fixture) lease.Versioned {
			f.acquire(t, "db", "writer-a", time.Minute, 1)
			return f.listed(t, "db")
		},
		"released lease": func(t *testing.T, f fixture) lease.Versioned {
			l := f.acquire(t, "db", "writer-a", time.Minute, 1)
			if _, err := f.release(l); err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(2 * time.Minute)
			return f.listed(t, "db")
		},
		"record changed since it was listed": func(t *testing.T, f fixture) lease.Versioned {
			l := f.acquire(t, "db", "writer-a", time.Minute, 1)
			f.clock.Advance(2 * time.Minute)
			old := f.listed(t, "db")
			if _, err := f.refresh(l, time.Minute, 0); err != nil { // an expired lease nobody took
				t.Fatal(err)
			}
			f.clock.Advance(2 * time.Minute) // expired again, at a newer version
			return old
		},
	}
	for name, setup := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			listed := setup(t, f)
			stored := f.listed(t, "db")
			if _, err := f.svc.MarkExpiryReported(context.Background(), listed); !errors.Is(err, lease.ErrPrecondition) {
				t.Errorf("MarkExpiryReported = %v, want ErrPrecondition", err)
			}
			if now := f.listed(t, "db"); now != stored {
				t.Errorf("record changed: %+v at %q, want %+v at %q untouched", now.Record, now.Version, stored.Record, stored.Version)
			}
		})
	}
}

func TestMarkExpiryReportedTwiceWritesOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.acquire(t, "db", "writer-a", time.Minute, 1)
	f.clock.Advance(2 * time.Minute)
	if _, err := f.svc.MarkExpiryReported(context.Background(), f.listed(t, "db")); err != nil {
		t.Fatal(err)
	}
	marked := f.listed(t, "db")
	f.store.reset()
	f.clock.Advance(time.Minute)
	v, err := f.svc.MarkExpiryReported(context.Background(), marked)
	if err != nil || v != marked.Version || f.store.writes.Load() != 0 {
		t.Errorf("second mark = %q, %v with %d writes; want %q, nil and no write", v, err, f.store.writes.Load(), marked.Version)
	}
	if _, err := f.svc.MarkExpiryReported(context.Background(), lease.Versioned{Record: marked.Record}); !errors.Is(err, lease.ErrInvalid) {
		t.Errorf("mark without a version = %v, want ErrInvalid", err)
	}
}

// Every other write of the service clears the mark: each starts a new
// expiry (or ends the lease), which must be reported again.
func TestServiceWritesClearTheMark(t *testing.T) {
	t.Parallel()
	writes := map[string]func(f fixture, l lease.Lease) error{
		"acquire by another holder": func(f fixture, _ lease.Lease) error {
			_, err := f.svc.Acquire(context.Background(), lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "db", HolderID: "writer-b", TTLMs: 60_000, Term: 1})
			return err
		},
		"refresh by the holder": func(f fixture, l lease.Lease) error {
			_, err := f.refresh(l, time.Minute, 0)
			return err
		},
		"release by the holder": func(f fixture, l lease.Lease) error {
			_, err := f.release(l)
			return err
		},
	}
	for name, write := range writes {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			l := f.acquire(t, "db", "writer-a", time.Minute, 1)
			f.clock.Advance(2 * time.Minute)
			if _, err := f.svc.MarkExpiryReported(context.Background(), f.listed(t, "db")); err != nil {
				t.Fatal(err)
			}
			if err := write(f, l); err != nil {
				t.Fatal(err)
			}
			if got := f.listed(t, "db").Record.ExpiryReportedMs; got != 0 {
				t.Errorf("ExpiryReportedMs = %d after %s, want 0", got, name)
			}
		})
	}
}
