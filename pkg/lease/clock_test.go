package lease_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redlease/redlease/internal/testclock"
	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/lease"
)

// TestClockBehindTheRecordRefusesEveryChange: each stamp a record carries
// proves a time; a clock more than the tolerance before it is refused for
// every change, before any write, and the error names the stamp.
func TestClockBehindTheRecordRefusesEveryChange(t *testing.T) {
	t.Parallel()
	const at = 1767225600000 // the stamp under test
	live := lease.Lease{DatabaseKey: "db", HolderID: "h", Term: 1, Generation: 4, AcquiredAtMs: at - 50_000, ExpiresAtMs: at + 60_000}
	records := []struct {
		stamp string
		rec   lease.Record
	}{
		{"acquired_at_ms", lease.Record{Lease: lease.Lease{DatabaseKey: "db", HolderID: "h", Term: 1, Generation: 4, AcquiredAtMs: at, ExpiresAtMs: at + 60_000}}},
		{"written_at_ms", lease.Record{Lease: live, WrittenAtMs: at}},
		{"released_at_ms", lease.Record{Lease: lease.Lease{DatabaseKey: "db", HolderID: "h", Term: 1, Generation: 4, AcquiredAtMs: at - 50_000, ExpiresAtMs: at, ReleasedAtMs: at}}},
		{"expiry_reported_ms", lease.Record{Lease: lease.Lease{DatabaseKey: "db", HolderID: "h", Term: 1, Generation: 4, AcquiredAtMs: at - 90_000, ExpiresAtMs: at - 30_000}, ExpiryReportedMs: at}},
	}
	ops := map[string]func(*lease.Service) error{
		"acquire": func(s *lease.Service) error {
			_, err := s.Acquire(context.Background(), lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "db", HolderID: "other", TTLMs: 10_000, Term: 1})
			return err
		},
		"refresh": func(s *lease.Service) error {
			_, err := s.Refresh(context.Background(), lease.RefreshRequest{Principal: lease.Anonymous, DatabaseKey: "db", HolderID: "h", Generation: 4, TTLMs: 10_000})
			return err
		},
		"release": func(s *lease.Service) error {
			_, err := s.Release(context.Background(), lease.ReleaseRequest{Principal: lease.Anonymous, DatabaseKey: "db", HolderID: "h", Generation: 4})
			return err
		},
		"force release": func(s *lease.Service) error {
			_, err := s.ForceRelease(context.Background(), lease.ForceReleaseRequest{Principal: lease.Principal{Name: "ops", Prefixes: []string{""}, Admin: true}, DatabaseKey: "db"})
			return err
		},
	}
	for _, r := range records {
		for name, op := range ops {
			for _, tc := range []struct {
				behind time.Duration
				skew   bool
			}{
				{lease.DefaultClockTolerance + time.Millisecond, true},
				{time.Hour, true},
				{lease.DefaultClockTolerance, false}, // exactly the tolerance is allowed
				{0, false},
			} {
				t.Run(r.stamp+"/"+name+"/"+tc.behind.String(), func(t *testing.T) {
					t.Parallel()
					clock := testclock.New(time.UnixMilli(at).Add(-tc.behind))
					store := &countingStore{Store: memory.New(memory.Options{})}
					store.PutRaw("db", lease.EncodeRecord(r.rec))
					svc, err := lease.New(lease.Config{Store: store, Now: clock.Now})
					if err != nil {
						t.Fatal(err)
					}
					err = op(svc)
					var skew *lease.ClockSkewError
					if got := errors.As(err, &skew); got != tc.skew {
						t.Fatalf("%s %s behind %s: err = %v, want clock skew %v", name, tc.behind, r.stamp, err, tc.skew)
					}
					if !tc.skew {
						return
					}
					if !errors.Is(err, lease.ErrClockSkew) || skew.Stamp != r.stamp || skew.ProvenMs != at ||
						skew.NowMs != clock.Ms() || skew.ToleranceMs != 1000 || skew.RetryAfter <= 0 {
						t.Fatalf("got %+v, want stamp %s proving %d at now %d", skew, r.stamp, uint64(at), clock.Ms())
					}
					if n := store.writes.Load(); n != 0 {
						t.Fatalf("a refused %s made %d writes", name, n)
					}
				})
			}
		}
	}
}

// TestClockToleranceIsConfigurable: the same step is refused or not by
// the tolerance, and a clock ahead of the record is never refused.
func TestClockToleranceIsConfigurable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tolerance time.Duration
		offset    time.Duration // of the refreshing instance's clock
		skew      bool
	}{
		{5 * time.Second, -5 * time.Second, false},
		{5 * time.Second, -5001 * time.Millisecond, true},
		{time.Millisecond, -2 * time.Millisecond, true},
		{time.Millisecond, time.Hour, false},
		{0, -1001 * time.Millisecond, true}, // the default, 1 s
	}
	for _, tc := range tests {
		t.Run(tc.tolerance.String()+"/"+tc.offset.String(), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			l := f.acquire(t, "db", "h", time.Minute, 1)
			stepped, err := lease.New(lease.Config{Store: f.store, ClockTolerance: tc.tolerance,
				Now: func() time.Time { return f.clock.Now().Add(tc.offset) }})
			if err != nil {
				t.Fatal(err)
			}
			_, err = stepped.Refresh(context.Background(), lease.RefreshRequest{Principal: lease.Anonymous,
				DatabaseKey: "db", HolderID: "h", Generation: l.Generation, TTLMs: 60_000})
			if got := errors.Is(err, lease.ErrClockSkew); got != tc.skew {
				t.Fatalf("refresh %s off with tolerance %s: %v; want clock skew %v", tc.offset, tc.tolerance, err, tc.skew)
			}
		})
	}
}

// TestRefreshRecordsItsTime: a refresh stamps written_at_ms, so that the
// next writer can tell its clock from the refresher's; an acquire and a
// release keep their own stamps and add none.
func TestRefreshRecordsItsTime(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := f.acquire(t, "db", "h", time.Minute, 1)
	if rec := mustLoadRecord(t, f.store, "db"); rec.WrittenAtMs != 0 || rec.ProvenMs() != l.AcquiredAtMs {
		t.Fatalf("after acquire: %+v, want no written_at_ms and proof %d", rec, l.AcquiredAtMs)
	}
	f.clock.Advance(20 * time.Second)
	if _, err := f.refresh(l, time.Minute, 0); err != nil {
		t.Fatal(err)
	}
	if rec := mustLoadRecord(t, f.store, "db"); rec.WrittenAtMs != f.clock.Ms() || rec.ProvenMs() != f.clock.Ms() {
		t.Fatalf("after refresh at %d: %+v", f.clock.Ms(), rec)
	}
	f.clock.Advance(time.Second)
	if _, err := f.release(l); err != nil {
		t.Fatal(err)
	}
	if rec := mustLoadRecord(t, f.store, "db"); rec.WrittenAtMs != 0 || rec.ProvenMs() != f.clock.Ms() {
		t.Fatalf("after release at %d: %+v", f.clock.Ms(), rec)
	}
}

// TestSweepMarkRefusesABehindClock: the sweep's one write is held to the
// same check.
func TestSweepMarkRefusesABehindClock(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.acquire(t, "db", "h", time.Second, 1)
	f.clock.Advance(time.Minute)
	listed, err := f.store.Load(context.Background(), "db")
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(-time.Minute - 2*time.Second) // 2 s before the acquire
	if _, err := f.svc.MarkExpiryReported(context.Background(), listed); !errors.Is(err, lease.ErrClockSkew) {
		t.Fatalf("mark with the clock 2 s before acquired_at: %v, want ErrClockSkew", err)
	}
}

func mustLoadRecord(t *testing.T, s lease.Store, key string) lease.Record {
	t.Helper()
	v, err := s.Load(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return v.Record
}
