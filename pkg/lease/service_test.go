package lease_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/lease"
)

func TestReleaseIsIdempotentForSameHolderAndGeneration(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := f.acquire(t, "db", "writer-a", time.Minute, 1)
	f.clock.Advance(time.Second)
	first, err := f.release(l)
	if err != nil {
		t.Fatalf("Release: %v", err)
	}
	if !first.Released() || first.ReleasedAtMs != f.clock.Ms() || first.ExpiresAtMs != f.clock.Ms() {
		t.Fatalf("released record %+v, want released_at and expires_at = now %d", first, f.clock.Ms())
	}
	stored, _ := f.store.Raw("db")
	f.clock.Advance(time.Second)
	second, err := f.release(l)
	if err != nil {
		t.Fatalf("second Release: %v", err)
	}
	if second != first {
		t.Fatalf("second release returned %+v, want the same record %+v", second, first)
	}
	if again, _ := f.store.Raw("db"); string(again) != string(stored) {
		t.Fatalf("second release rewrote the record:\n%s\n->\n%s", stored, again)
	}
}

func TestReleaseOfExpiredLeaseKeepsItsExpiry(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := f.acquire(t, "db", "writer-a", time.Second, 1)
	f.clock.Advance(time.Hour)
	r, err := f.release(l)
	if err != nil {
		t.Fatalf("Release: %v", err)
	}
	if r.ExpiresAtMs != l.ExpiresAtMs {
		t.Fatalf("expires_at %d, want the original %d (release never extends)", r.ExpiresAtMs, l.ExpiresAtMs)
	}
}

func TestRefusedOperationsAreStaleAndWriteNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := f.acquire(t, "db", "writer-a", time.Minute, 1)
	tests := []struct {
		name string
		op   func() error
	}{
		{"refresh by another holder", func() error {
			o := l
			o.HolderID = "writer-b"
			_, err := f.refresh(o, time.Minute, 0)
			return err
		}},
		{"refresh of another generation", func() error {
			o := l
			o.Generation = l.Generation + 1 // a generation that was never this holder's
			_, err := f.refresh(o, time.Minute, 0)
			return err
		}},
		{"release by another holder", func() error {
			o := l
			o.HolderID = "writer-b"
			_, err := f.release(o)
			return err
		}},
		{"refresh with a mismatched term", func() error {
			_, err := f.svc.Refresh(context.Background(), lease.RefreshRequest{Principal: lease.Anonymous,
				DatabaseKey: "db", HolderID: "writer-a", Generation: l.Generation, TTLMs: 60_000, Term: 9,
			})
			return err
		}},
		{"refresh of a missing key", func() error {
			o := l
			o.DatabaseKey = "missing"
			_, err := f.refresh(o, time.Minute, 0)
			return err
		}},
	}
	for _, tc := range tests {
		before, _ := f.store.Raw("db")
		err := tc.op()
		if !errors.Is(err, lease.ErrStale) {
			t.Errorf("%s: got %v, want ErrStale", tc.name, err)
		}
		if after, _ := f.store.Raw("db"); string(after) != string(before) {
			t.Errorf("%s: the refused request wrote:\n%s\n->\n%s", tc.name, before, after)
		}
	}
	if _, ok := f.store.Raw("missing"); ok {
		t.Fatal("a refused refresh created a record")
	}
}

func TestRefreshOfReleasedLeaseIsStale(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := f.acquire(t, "db", "writer-a", time.Minute, 1)
	if _, err := f.release(l); err != nil {
		t.Fatal(err)
	}
	if _, err := f.refresh(l, time.Minute, 0); !errors.Is(err, lease.ErrStale) {
		t.Fatalf("got %v, want ErrStale", err)
	}
}

// reddbRefreshAllowed applies RedDB's refresh check to stored bytes: it
// refreshes when holder_id and generation match what it holds.
func reddbRefreshAllowed(t *testing.T, stored []byte, holder string, generation uint64) bool {
	t.Helper()
	var raw struct {
		HolderID   string `json:"holder_id"`
		Generation uint64 `json:"generation"`
	}
	if err := jsonUnmarshal(stored, &raw); err != nil {
		t.Fatalf("RedDB could not read %s: %v", stored, err)
	}
	return raw.HolderID == holder && raw.Generation == generation
}

func TestRedDBSeesReleasedRecordAsFreeAndCannotRefreshIt(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := f.acquire(t, "clusters/dev/data.rdb", "reddb-0-1", time.Minute, 3)
	if _, err := f.release(l); err != nil {
		t.Fatal(err)
	}
	stored, _ := f.store.Raw("clusters/dev/data.rdb")
	// RedDB's own reader ignores the extension fields.
	var reddb struct {
		ExpiresAtMs uint64 `json:"expires_at_ms"`
		Generation  uint64 `json:"generation"`
		Term        uint64 `json:"term"`
	}
	if err := jsonUnmarshal(stored, &reddb); err != nil {
		t.Fatal(err)
	}
	if reddb.ExpiresAtMs > f.clock.Ms() {
		t.Fatalf("RedDB would see the released lease live until %d (now %d)", reddb.ExpiresAtMs, f.clock.Ms())
	}
	if reddb.Generation != l.Generation || reddb.Term != 3 {
		t.Fatalf("RedDB sees term %d generation %d, want 3 and %d: the token must survive", reddb.Term, reddb.Generation, l.Generation)
	}
	if reddbRefreshAllowed(t, stored, "reddb-0-1", l.Generation) {
		t.Fatalf("RedDB's refresh of the released generation would succeed on %s", stored)
	}
}

func TestSameHolderReacquireAdvancesGeneration(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := f.acquire(t, "db", "writer-a", time.Minute, 1)
	b := f.acquire(t, "db", "writer-a", time.Minute, 1)
	if b.Generation != a.Generation+1 {
		t.Fatalf("generation %d, want %d", b.Generation, a.Generation+1)
	}
	if _, err := f.refresh(a, time.Minute, 0); !errors.Is(err, lease.ErrStale) {
		t.Fatalf("refresh of the superseded generation: got %v, want ErrStale", err)
	}
}

func TestGetReportsState(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.svc.Get(ctx, lease.Anonymous, "db"); !errors.Is(err, lease.ErrNotFound) {
		t.Fatalf("Get of a missing key: %v, want ErrNotFound", err)
	}
	l := f.acquire(t, "db", "a", 10*time.Second, 1)
	f.clock.Advance(4 * time.Second)
	check := func(state lease.State, expiresIn uint64) {
		t.Helper()
		snap, err := f.svc.Get(ctx, lease.Anonymous, "db")
		if err != nil {
			t.Fatal(err)
		}
		if snap.State != state || snap.ExpiresInMs != expiresIn {
			t.Fatalf("Get = %s with %d ms left, want %s with %d", snap.State, snap.ExpiresInMs, state, expiresIn)
		}
	}
	check(lease.StateHeld, 6000)
	f.clock.Advance(6 * time.Second)
	check(lease.StateExpired, 0)
	if _, err := f.release(l); err != nil {
		t.Fatal(err)
	}
	check(lease.StateReleased, 0)
}

func TestLostRaceOnlyWhenContentionPersists(t *testing.T) {
	t.Parallel()
	t.Run("one lost write is re-decided", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.store.failWrites.Store(1)
		l := f.acquire(t, "db", "a", time.Minute, 1)
		if l.Generation != 1 {
			t.Fatalf("generation %d, want 1", l.Generation)
		}
	})
	t.Run("persistent contention is lost_race after a bounded number of tries", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.store.failWrites.Store(1 << 30)
		_, err := f.svc.Acquire(context.Background(), lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "db", HolderID: "a", TTLMs: 60_000, Term: 1})
		var lost *lease.LostRaceError
		if !errors.As(err, &lost) || lost.RetryAfter <= 0 {
			t.Fatalf("got %v, want a LostRaceError with a retry hint", err)
		}
		if n := f.store.writes.Load(); n != 5 {
			t.Fatalf("%d conditional writes, want the default bound of 5", n)
		}
	})
	t.Run("a writer that sneaks in is seen on the re-read", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.store.failWrites.Store(1)
		// The competing writer's record is what the re-read finds.
		f.store.beforeWrite = func() {
			f.store.beforeWrite = nil
			f.store.PutRaw("db", lease.EncodeLease(lease.Lease{DatabaseKey: "db", HolderID: "b", Term: 1, Generation: 1,
				AcquiredAtMs: f.clock.Ms(), ExpiresAtMs: f.clock.Ms() + 60_000}))
		}
		_, err := f.svc.Acquire(context.Background(), lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "db", HolderID: "a", TTLMs: 60_000, Term: 1})
		var held *lease.HeldError
		if !errors.As(err, &held) || held.Current.HolderID != "b" {
			t.Fatalf("got %v, want held by b", err)
		}
	})
}

func TestWarmRefreshIsOneConditionalWrite(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := f.acquire(t, "db", "a", time.Minute, 1)
	f.store.reset()
	f.clock.Advance(20 * time.Second)
	if _, err := f.refresh(l, time.Minute, 0); err != nil {
		t.Fatal(err)
	}
	if loads, writes := f.store.loads.Load(), f.store.writes.Load(); loads != 0 || writes != 1 {
		t.Fatalf("warm refresh made %d loads and %d writes, want 0 and 1", loads, writes)
	}
}

func TestStaleCacheFallsBackToReadDecideWrite(t *testing.T) {
	t.Parallel()
	store := memory.New(memory.Options{})
	clock := newClock()
	a, _ := lease.New(lease.Config{Store: store, Now: clock.Now})
	b, _ := lease.New(lease.Config{Store: store, Now: clock.Now})
	ctx := context.Background()
	l, err := a.Acquire(ctx, lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "db", HolderID: "a", TTLMs: 1000, Term: 1})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Second)
	if _, err := b.Acquire(ctx, lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "db", HolderID: "b", TTLMs: 60_000, Term: 1}); err != nil {
		t.Fatal(err)
	}
	// Service a still caches its own generation; its refresh must see b.
	_, err = a.Refresh(ctx, lease.RefreshRequest{Principal: lease.Anonymous, DatabaseKey: "db", HolderID: "a", Generation: l.Generation, TTLMs: 60_000})
	var stale *lease.StaleError
	if !errors.As(err, &stale) || stale.Current == nil || stale.Current.HolderID != "b" {
		t.Fatalf("got %v, want stale with b current", err)
	}
	// And its acquire must see b's live lease, not its cached expired one.
	if _, err := a.Acquire(ctx, lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "db", HolderID: "c", TTLMs: 60_000, Term: 1}); !errors.Is(err, lease.ErrHeld) {
		t.Fatalf("got %v, want ErrHeld", err)
	}
}

type failingStore struct{ lease.Store }

func (failingStore) Load(context.Context, string) (lease.Versioned, error) {
	return lease.Versioned{}, lease.Unavailable(errors.New("SlowDown"), 2*time.Second)
}

func TestBackendFailureIsUnavailableWithHint(t *testing.T) {
	t.Parallel()
	svc, _ := lease.New(lease.Config{Store: failingStore{memory.New(memory.Options{})}})
	_, err := svc.Acquire(context.Background(), lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "db", HolderID: "a", TTLMs: 60_000, Term: 1})
	var un *lease.UnavailableError
	if !errors.As(err, &un) || un.RetryAfter != 2*time.Second {
		t.Fatalf("got %v, want UnavailableError with a 2s hint", err)
	}
	if !strings.Contains(err.Error(), `acquire "db"`) {
		t.Fatalf("error %q lacks the operation context", err)
	}
}

func TestGenerationNeverPassesTheSafeIntegerLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.store.PutRaw("db", lease.EncodeLease(lease.Lease{DatabaseKey: "db", HolderID: "x", Term: 1,
		Generation: lease.MaxSafeInteger, AcquiredAtMs: 1, ExpiresAtMs: 2}))
	_, err := f.svc.Acquire(context.Background(), lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "db", HolderID: "a", TTLMs: 60_000, Term: 1})
	if !errors.Is(err, lease.ErrExhausted) {
		t.Fatalf("got %v, want ErrExhausted", err)
	}
}

func TestValidationRefusesBeforeAnyStorage(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("k", 513)
	tests := []struct {
		name  string
		req   lease.AcquireRequest
		field string
	}{
		{"empty key", lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "", HolderID: "h", TTLMs: 60_000, Term: 1}, "database_key"},
		{"513-byte key", lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: long, HolderID: "h", TTLMs: 60_000, Term: 1}, "database_key"},
		{"leading slash", lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "/a", HolderID: "h", TTLMs: 60_000, Term: 1}, "database_key"},
		{"dot-dot", lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "a/../b", HolderID: "h", TTLMs: 60_000, Term: 1}, "database_key"},
		{"dot", lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "a/./b", HolderID: "h", TTLMs: 60_000, Term: 1}, "database_key"},
		{"empty segment", lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "a//b", HolderID: "h", TTLMs: 60_000, Term: 1}, "database_key"},
		{"trailing slash", lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "a/", HolderID: "h", TTLMs: 60_000, Term: 1}, "database_key"},
		{"NUL", lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "a\x00b", HolderID: "h", TTLMs: 60_000, Term: 1}, "database_key"},
		{"newline", lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "a\nb", HolderID: "h", TTLMs: 60_000, Term: 1}, "database_key"},
		{"invalid UTF-8", lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "a\xffb", HolderID: "h", TTLMs: 60_000, Term: 1}, "database_key"},
		{"long segment", lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: strings.Repeat("s", 201), HolderID: "h", TTLMs: 60_000, Term: 1}, "database_key"},
		{"directory aliasing a record", lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "a.lease.json/b", HolderID: "h", TTLMs: 60_000, Term: 1}, "database_key"},
		{"empty holder", lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "k", HolderID: "", TTLMs: 60_000, Term: 1}, "holder_id"},
		{"257-byte holder", lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "k", HolderID: strings.Repeat("h", 257), TTLMs: 60_000, Term: 1}, "holder_id"},
		{"control in holder", lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "k", HolderID: "h\tx", TTLMs: 60_000, Term: 1}, "holder_id"},
		{"ttl too short", lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "k", HolderID: "h", TTLMs: 999, Term: 1}, "ttl_ms"},
		{"ttl too long", lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "k", HolderID: "h", TTLMs: 86_400_001, Term: 1}, "ttl_ms"},
		{"term zero", lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "k", HolderID: "h", TTLMs: 60_000, Term: 0}, "term"},
		{"term beyond 2^53", lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "k", HolderID: "h", TTLMs: 60_000, Term: 1 << 53}, "term"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			_, err := f.svc.Acquire(context.Background(), tc.req)
			var inv *lease.InvalidError
			if !errors.As(err, &inv) || !errors.Is(err, lease.ErrInvalid) || inv.Field != tc.field {
				t.Fatalf("got %v, want InvalidError on %s", err, tc.field)
			}
			if n := f.store.loads.Load() + f.store.writes.Load(); n != 0 {
				t.Fatalf("an invalid request made %d storage requests", n)
			}
		})
	}
	f := newFixture(t)
	ok := []string{"main", "clusters/dev/data.rdb", "a.b/c-d_e", "ключ/鍵", "x.lease.json", "a b"}
	for _, key := range ok {
		f.acquire(t, key, "h", time.Minute, 1)
	}
}

func TestRefreshAndReleaseValidateGeneration(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, gen := range []uint64{0, 1 << 53} {
		_, err := f.svc.Refresh(context.Background(), lease.RefreshRequest{Principal: lease.Anonymous, DatabaseKey: "k", HolderID: "h", Generation: gen, TTLMs: 60_000})
		if !errors.Is(err, lease.ErrInvalid) {
			t.Errorf("refresh generation %d: got %v, want ErrInvalid", gen, err)
		}
		_, err = f.svc.Release(context.Background(), lease.ReleaseRequest{Principal: lease.Anonymous, DatabaseKey: "k", HolderID: "h", Generation: gen})
		if !errors.Is(err, lease.ErrInvalid) {
			t.Errorf("release generation %d: got %v, want ErrInvalid", gen, err)
		}
	}
}
