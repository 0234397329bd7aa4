package lease_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/lease"
)

var (
	tenantA = lease.Principal{Name: "tenant-a", Prefixes: []string{"tenants/a/"}}
	tenantB = lease.Principal{Name: "tenant-b", Prefixes: []string{"tenants/b/"}}
	// shared may touch every tenant's keys but owns none of their leases.
	shared = lease.Principal{Name: "shared", Prefixes: []string{"tenants/"}}
	ops    = lease.Principal{Name: "ops", Prefixes: []string{""}, Admin: true}
	// tenantA2 is a second principal of tenant a's prefix.
	tenantA2 = lease.Principal{Name: "tenant-a-2", Prefixes: []string{"tenants/a/"}}
)

func TestPrincipalAllows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p    lease.Principal
		key  string
		want bool
	}{
		{tenantA, "tenants/a/db", true},
		{tenantA, "tenants/a/x/y", true},
		{tenantA, "tenants/b/db", false},
		{tenantA, "tenants/a", false},
		{lease.Principal{Name: "p", Prefixes: []string{"tenants/a"}}, "tenants/ab/db", true}, // why prefixes end in "/"
		{lease.Principal{Name: "p", Prefixes: []string{"x/", "tenants/b/"}}, "tenants/b/db", true},
		{lease.Anonymous, "anything/at/all", true},
		{lease.Principal{Name: "p"}, "db", false},
		{lease.Principal{Prefixes: []string{""}}, "db", false},
	}
	for _, tc := range tests {
		if got := tc.p.Allows(tc.key); got != tc.want {
			t.Errorf("%+v.Allows(%q) = %v, want %v", tc.p, tc.key, got, tc.want)
		}
	}
}

// op is one request of principal p on key, as each Service method takes it.
type op struct {
	name string
	run  func(f fixture, p lease.Principal, key string, gen uint64) error
}

var everyOp = []op{
	{"acquire", func(f fixture, p lease.Principal, key string, _ uint64) error {
		_, err := f.svc.Acquire(context.Background(), lease.AcquireRequest{Principal: p, DatabaseKey: key, HolderID: "h-a", TTLMs: 60_000, Term: 1})
		return err
	}},
	{"refresh", func(f fixture, p lease.Principal, key string, gen uint64) error {
		_, err := f.svc.Refresh(context.Background(), lease.RefreshRequest{Principal: p, DatabaseKey: key, HolderID: "h-a", Generation: gen, TTLMs: 60_000})
		return err
	}},
	{"release", func(f fixture, p lease.Principal, key string, gen uint64) error {
		_, err := f.svc.Release(context.Background(), lease.ReleaseRequest{Principal: p, DatabaseKey: key, HolderID: "h-a", Generation: gen})
		return err
	}},
	{"get", func(f fixture, p lease.Principal, key string, _ uint64) error {
		_, err := f.svc.Get(context.Background(), p, key)
		return err
	}},
	{"force release", func(f fixture, p lease.Principal, key string, _ uint64) error {
		_, err := f.svc.ForceRelease(context.Background(), lease.ForceReleaseRequest{Principal: p, DatabaseKey: key})
		return err
	}},
}

func (f fixture) acquireAs(t *testing.T, p lease.Principal, key, holder string, ttl time.Duration) lease.Lease {
	t.Helper()
	l, err := f.svc.Acquire(context.Background(), lease.AcquireRequest{Principal: p, DatabaseKey: key, HolderID: holder,
		TTLMs: uint64(ttl.Milliseconds()), Term: 1})
	if err != nil {
		t.Fatalf("Acquire(%q as %q): %v", key, p.Name, err)
	}
	return l
}

// A key outside the principal's prefixes, or a principal without a name,
// is refused with the same error whether or not the key exists, and
// before any storage request.
func TestForbiddenBeforeAnyStorage(t *testing.T) {
	t.Parallel()
	refused := []struct {
		name   string
		p      lease.Principal
		reason string
	}{
		{"another tenant", tenantB, lease.ReasonOutsidePrefixes},
		{"no principal", lease.Principal{}, lease.ReasonNoPrincipal},
		{"no name, every prefix", lease.Principal{Prefixes: []string{""}, Admin: true}, lease.ReasonNoPrincipal},
		{"no prefixes", lease.Principal{Name: "empty", Admin: true}, lease.ReasonOutsidePrefixes},
	}
	for _, r := range refused {
		for _, o := range everyOp {
			for _, exists := range []bool{true, false} {
				t.Run(fmt.Sprintf("%s/%s/exists=%v", r.name, o.name, exists), func(t *testing.T) {
					t.Parallel()
					f := newFixture(t)
					gen := uint64(1)
					if exists {
						gen = f.acquireAs(t, tenantA, "tenants/a/db", "h-a", time.Minute).Generation
					}
					before, _ := f.store.Raw("tenants/a/db")
					f.store.reset()
					err := o.run(f, r.p, "tenants/a/db", gen)
					var fe *lease.ForbiddenError
					if !errors.Is(err, lease.ErrForbidden) || !errors.As(err, &fe) || fe.Reason != r.reason || fe.Owner != "" {
						t.Fatalf("got %v, want ErrForbidden (%s) naming no owner", err, r.reason)
					}
					if n := f.store.loads.Load() + f.store.writes.Load(); n != 0 {
						t.Fatalf("a refused request made %d storage requests", n)
					}
					if after, _ := f.store.Raw("tenants/a/db"); string(after) != string(before) {
						t.Fatalf("a refused request wrote:\n%s\n->\n%s", before, after)
					}
				})
			}
		}
	}
}

// Refresh and release by another principal are forbidden even with the
// right holder id and generation; acquire of its live lease is held
// whatever the holder id; reading it is allowed.
func TestLeaseBelongsToItsPrincipal(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	l := f.acquireAs(t, tenantA, "tenants/a/db", "h-a", time.Minute)
	if rec := f.listed(t, "tenants/a/db").Record; rec.Principal != tenantA.Name {
		t.Fatalf("stored principal %q, want %q", rec.Principal, tenantA.Name)
	}
	before, _ := f.store.Raw("tenants/a/db")
	forbidden := map[string]func() error{
		"refresh": func() error {
			_, err := f.svc.Refresh(ctx, lease.RefreshRequest{Principal: shared, DatabaseKey: l.DatabaseKey, HolderID: l.HolderID, Generation: l.Generation, TTLMs: 60_000})
			return err
		},
		"release": func() error {
			_, err := f.svc.Release(ctx, lease.ReleaseRequest{Principal: shared, DatabaseKey: l.DatabaseKey, HolderID: l.HolderID, Generation: l.Generation})
			return err
		},
		"refresh of another generation": func() error {
			_, err := f.svc.Refresh(ctx, lease.RefreshRequest{Principal: shared, DatabaseKey: l.DatabaseKey, HolderID: "h-x", Generation: 9, TTLMs: 60_000})
			return err
		},
	}
	for name, run := range forbidden {
		var fe *lease.ForbiddenError
		if err := run(); !errors.As(err, &fe) || fe.Reason != lease.ReasonOtherPrincipal || fe.Owner != tenantA.Name {
			t.Errorf("%s by another principal: got %v, want ErrForbidden owned by %q", name, err, tenantA.Name)
		}
	}
	_, err := f.svc.Acquire(ctx, lease.AcquireRequest{Principal: shared, DatabaseKey: l.DatabaseKey, HolderID: l.HolderID, TTLMs: 60_000, Term: 1})
	if !errors.Is(err, lease.ErrHeld) {
		t.Errorf("acquire of a live lease with its holder id by another principal: got %v, want ErrHeld", err)
	}
	if after, _ := f.store.Raw("tenants/a/db"); string(after) != string(before) {
		t.Fatalf("refused requests wrote:\n%s\n->\n%s", before, after)
	}
	if snap, err := f.svc.Get(ctx, shared, l.DatabaseKey); err != nil || snap.Lease != l {
		t.Errorf("Get by a principal whose prefixes allow the key = %+v, %v; want the lease", snap, err)
	}
	// The holder's own principal may do all of it.
	if _, err := f.svc.Refresh(ctx, lease.RefreshRequest{Principal: tenantA, DatabaseKey: l.DatabaseKey, HolderID: l.HolderID, Generation: l.Generation, TTLMs: 60_000}); err != nil {
		t.Errorf("refresh by the lease's principal: %v", err)
	}
	again, err := f.svc.Acquire(ctx, lease.AcquireRequest{Principal: tenantA, DatabaseKey: l.DatabaseKey, HolderID: l.HolderID, TTLMs: 60_000, Term: 1})
	if err != nil || again.Generation != l.Generation+1 {
		t.Errorf("re-acquire by the lease's principal = %+v, %v; want generation %d", again, err, l.Generation+1)
	}
	if _, err := f.svc.Release(ctx, lease.ReleaseRequest{Principal: tenantA, DatabaseKey: l.DatabaseKey, HolderID: l.HolderID, Generation: again.Generation}); err != nil {
		t.Errorf("release by the lease's principal: %v", err)
	}
}

// A free lease (expired or released) may be taken by any principal whose
// prefixes allow the key; the record then belongs to the new principal.
func TestAnotherPrincipalTakesAFreeLease(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"expired", "released"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			ctx := context.Background()
			l := f.acquireAs(t, tenantA, "tenants/a/db", "h-a", time.Minute)
			if how == "expired" {
				f.clock.Advance(2 * time.Minute)
			} else if _, err := f.svc.Release(ctx, lease.ReleaseRequest{Principal: tenantA, DatabaseKey: l.DatabaseKey, HolderID: l.HolderID, Generation: l.Generation}); err != nil {
				t.Fatal(err)
			}
			taken := f.acquireAs(t, shared, "tenants/a/db", "h-a", time.Minute) // even with the same holder id
			if taken.Generation != l.Generation+1 {
				t.Fatalf("generation %d, want %d", taken.Generation, l.Generation+1)
			}
			if rec := f.listed(t, "tenants/a/db").Record; rec.Principal != shared.Name {
				t.Fatalf("stored principal %q, want %q", rec.Principal, shared.Name)
			}
			_, err := f.svc.Refresh(ctx, lease.RefreshRequest{Principal: tenantA, DatabaseKey: l.DatabaseKey, HolderID: l.HolderID, Generation: taken.Generation, TTLMs: 60_000})
			if !errors.Is(err, lease.ErrForbidden) {
				t.Fatalf("refresh by the previous principal: got %v, want ErrForbidden", err)
			}
		})
	}
}

// A record without a principal behaves as before principals: anyone whose
// prefixes allow the key refreshes or releases it with the holder id and
// generation, a refresh keeps it without a principal, and the next acquire
// gives it one.
func TestLegacyRecordBehavesAsBefore(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	now := f.clock.Ms()
	legacy := lease.Lease{DatabaseKey: "tenants/a/db", HolderID: "reddb-0-1", Term: 1, Generation: 3, AcquiredAtMs: now, ExpiresAtMs: now + 60_000}
	f.store.PutRaw(legacy.DatabaseKey, lease.EncodeLease(legacy))

	if _, err := f.svc.Acquire(ctx, lease.AcquireRequest{Principal: tenantA, DatabaseKey: legacy.DatabaseKey, HolderID: "other", TTLMs: 60_000, Term: 1}); !errors.Is(err, lease.ErrHeld) {
		t.Fatalf("acquire of a live legacy lease by another holder: %v, want ErrHeld", err)
	}
	r, err := f.svc.Refresh(ctx, lease.RefreshRequest{Principal: shared, DatabaseKey: legacy.DatabaseKey, HolderID: legacy.HolderID, Generation: 3, TTLMs: 60_000})
	if err != nil {
		t.Fatalf("refresh of a legacy lease: %v", err)
	}
	if rec := f.listed(t, legacy.DatabaseKey).Record; rec.Principal != "" {
		t.Fatalf("a refresh gave the legacy record principal %q", rec.Principal)
	}
	if _, err := f.svc.Release(ctx, lease.ReleaseRequest{Principal: tenantA, DatabaseKey: legacy.DatabaseKey, HolderID: legacy.HolderID, Generation: r.Generation}); err != nil {
		t.Fatalf("release of a legacy lease: %v", err)
	}
	next := f.acquireAs(t, tenantA, legacy.DatabaseKey, "reddb-1-1", time.Minute)
	if rec := f.listed(t, legacy.DatabaseKey).Record; next.Generation != 4 || rec.Principal != tenantA.Name {
		t.Fatalf("acquire after a legacy lease: generation %d, principal %q; want 4 and %q", next.Generation, rec.Principal, tenantA.Name)
	}
}

func TestTermJumpIsBounded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		maxJump    uint64 // 0: the default
		storedTerm uint64 // 0: no record
		term       uint64
		ok         bool
	}{
		{"first acquire at 1 + default jump", 0, 0, 1 + lease.DefaultMaxTermJump, true},
		{"first acquire beyond it", 0, 0, 2 + lease.DefaultMaxTermJump, false},
		{"the largest term RedDB round-trips", 0, 0, lease.MaxSafeInteger, false},
		{"stored 5, up to 1005", 0, 5, 1005, true},
		{"stored 5, 1006", 0, 5, 1006, false},
		{"same term", 0, 5, 5, true},
		{"configured jump 3", 3, 7, 10, true},
		{"configured jump 3, 11", 3, 7, 11, false},
		{"a stored term near the cap", 0, lease.MaxSafeInteger - 1, lease.MaxSafeInteger, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := newClock()
			store := &countingStore{Store: memory.New(memory.Options{})}
			limits := lease.DefaultLimits()
			limits.MaxTermJump = tc.maxJump
			svc, err := lease.New(lease.Config{Store: store, Now: clock.Now, Limits: limits})
			if err != nil {
				t.Fatal(err)
			}
			if tc.storedTerm != 0 {
				store.PutRaw("tenants/a/db", lease.EncodeLease(lease.Lease{DatabaseKey: "tenants/a/db", HolderID: "old",
					Term: tc.storedTerm, Generation: 1, AcquiredAtMs: 1, ExpiresAtMs: 2}))
			}
			before, _ := store.Raw("tenants/a/db")
			l, err := svc.Acquire(context.Background(), lease.AcquireRequest{Principal: tenantA, DatabaseKey: "tenants/a/db", HolderID: "h", TTLMs: 60_000, Term: tc.term})
			if tc.ok {
				if err != nil || l.Term != tc.term {
					t.Fatalf("Acquire at term %d = %+v, %v; want it taken", tc.term, l, err)
				}
				return
			}
			var inv *lease.InvalidError
			if !errors.As(err, &inv) || inv.Field != "term" {
				t.Fatalf("Acquire at term %d: got %v, want InvalidError on term", tc.term, err)
			}
			if after, _ := store.Raw("tenants/a/db"); string(after) != string(before) {
				t.Fatalf("a refused acquire wrote:\n%s\n->\n%s", before, after)
			}
		})
	}
}

func TestKeysAreNFCWithoutLookAlikeSlashes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	refuse := func(key, want string) {
		t.Helper()
		_, err := f.svc.Acquire(context.Background(), lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: key, HolderID: "h", TTLMs: 60_000, Term: 1})
		var inv *lease.InvalidError
		if !errors.As(err, &inv) || inv.Field != "database_key" || !strings.Contains(inv.Reason, want) {
			t.Errorf("Acquire(%q): got %v, want InvalidError on database_key saying %q", key, err, want)
		}
	}
	refuse("cafe\u0301/db", "NFC")           // café in NFD
	refuse("tenants/a/\u212bngstrom", "NFC") // ANGSTROM SIGN: NFC is U+00C5
	for _, r := range lease.LookAlikeSlashes() {
		refuse("tenants"+string(r)+"a", fmt.Sprintf("%U", r))
	}
	if n := f.store.loads.Load() + f.store.writes.Load(); n != 0 {
		t.Fatalf("refused keys made %d storage requests", n)
	}
	for _, key := range []string{"caf\u00e9/db", "clusters/dev/data.rdb", "ключ/鍵/ノード", "a\\b", "x-y_z.1"} {
		f.acquire(t, key, "h", time.Minute, 1)
	}
}

func TestForceRelease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("an admin releases any holder's lease", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		l := f.acquireAs(t, tenantA, "tenants/a/db", "h-a", time.Minute)
		f.clock.Advance(time.Second)
		got, err := f.svc.ForceRelease(ctx, lease.ForceReleaseRequest{Principal: ops, DatabaseKey: l.DatabaseKey})
		if err != nil {
			t.Fatalf("ForceRelease: %v", err)
		}
		if got.Principal != tenantA.Name || got.AlreadyReleased || got.Lease.HolderID != "h-a" ||
			!got.Lease.Released() || got.Lease.ExpiresAtMs != f.clock.Ms() || got.Lease.Generation != l.Generation {
			t.Fatalf("ForceRelease = %+v; want h-a's lease of %q released now", got, tenantA.Name)
		}
		_, err = f.svc.Refresh(ctx, lease.RefreshRequest{Principal: tenantA, DatabaseKey: l.DatabaseKey, HolderID: l.HolderID, Generation: l.Generation, TTLMs: 60_000})
		if !errors.Is(err, lease.ErrStale) {
			t.Fatalf("the released holder's refresh: %v, want ErrStale", err)
		}
		if next := f.acquireAs(t, tenantA2, l.DatabaseKey, "h-b", time.Minute); next.Generation != l.Generation+1 {
			t.Fatalf("next acquire generation %d, want %d", next.Generation, l.Generation+1)
		}
	})
	t.Run("an expired lease is released too, so its holder cannot refresh it back", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		l := f.acquireAs(t, tenantA, "tenants/a/db", "h-a", time.Second)
		f.clock.Advance(time.Minute)
		if _, err := f.svc.ForceRelease(ctx, lease.ForceReleaseRequest{Principal: ops, DatabaseKey: l.DatabaseKey}); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.Refresh(ctx, lease.RefreshRequest{Principal: tenantA, DatabaseKey: l.DatabaseKey, HolderID: l.HolderID, Generation: l.Generation, TTLMs: 60_000})
		if !errors.Is(err, lease.ErrStale) {
			t.Fatalf("refresh after a break-glass release: %v, want ErrStale", err)
		}
	})
	t.Run("twice writes once", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		l := f.acquireAs(t, tenantA, "tenants/a/db", "h-a", time.Minute)
		first, err := f.svc.ForceRelease(ctx, lease.ForceReleaseRequest{Principal: ops, DatabaseKey: l.DatabaseKey})
		if err != nil {
			t.Fatal(err)
		}
		stored, _ := f.store.Raw(l.DatabaseKey)
		f.clock.Advance(time.Second)
		second, err := f.svc.ForceRelease(ctx, lease.ForceReleaseRequest{Principal: ops, DatabaseKey: l.DatabaseKey})
		if err != nil || !second.AlreadyReleased || second.Lease != first.Lease {
			t.Fatalf("second ForceRelease = %+v, %v; want the same released lease", second, err)
		}
		if again, _ := f.store.Raw(l.DatabaseKey); string(again) != string(stored) {
			t.Fatalf("the second break-glass release rewrote the record")
		}
	})
	t.Run("a missing key is not found", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		if _, err := f.svc.ForceRelease(ctx, lease.ForceReleaseRequest{Principal: ops, DatabaseKey: "tenants/a/none"}); !errors.Is(err, lease.ErrNotFound) {
			t.Fatalf("got %v, want ErrNotFound", err)
		}
	})
	t.Run("only an admin, only within its prefixes", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.acquireAs(t, tenantA, "tenants/a/db", "h-a", time.Minute)
		for _, p := range []lease.Principal{tenantA, {Name: "ops-b", Prefixes: []string{"tenants/b/"}, Admin: true}} {
			_, err := f.svc.ForceRelease(ctx, lease.ForceReleaseRequest{Principal: p, DatabaseKey: "tenants/a/db"})
			if !errors.Is(err, lease.ErrForbidden) {
				t.Errorf("ForceRelease by %+v: got %v, want ErrForbidden", p, err)
			}
		}
	})
}

// Two principals racing for one key through separate Services (separate
// caches, one store), with the same holder id to make it harder: in every
// round at most one of them holds the lease, and the loser is told held.
func TestTwoPrincipalsNeverBothHold(t *testing.T) {
	t.Parallel()
	store := memory.New(memory.Options{})
	clock := newClock()
	principals := []lease.Principal{tenantA, tenantA2}
	services := make([]*lease.Service, len(principals))
	for i := range services {
		svc, err := lease.New(lease.Config{Store: store, Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		services[i] = svc
	}
	const key = "tenants/a/db"
	for round := range 200 {
		results := make([]error, len(principals))
		leases := make([]lease.Lease, len(principals))
		var wg sync.WaitGroup
		for i, p := range principals {
			wg.Go(func() {
				leases[i], results[i] = services[i].Acquire(context.Background(), lease.AcquireRequest{
					Principal: p, DatabaseKey: key, HolderID: "reddb-0", TTLMs: 60_000, Term: 1})
			})
		}
		wg.Wait()
		winner := -1
		for i, err := range results {
			switch {
			case err == nil:
				if winner >= 0 {
					t.Fatalf("round %d: both principals hold %q: %+v and %+v", round, key, leases[winner], leases[i])
				}
				winner = i
			case !errors.Is(err, lease.ErrHeld) && !errors.Is(err, lease.ErrLostRace):
				t.Fatalf("round %d: %s: %v", round, principals[i].Name, err)
			}
		}
		if winner < 0 {
			continue // both lost races: allowed, nobody holds it
		}
		// The loser cannot release the winner's lease with its values either.
		loser := 1 - winner
		w := leases[winner]
		if _, err := services[loser].Release(context.Background(), lease.ReleaseRequest{Principal: principals[loser], DatabaseKey: key, HolderID: w.HolderID, Generation: w.Generation}); !errors.Is(err, lease.ErrForbidden) {
			t.Fatalf("round %d: the loser released the winner's lease: %v", round, err)
		}
		if _, err := services[winner].Release(context.Background(), lease.ReleaseRequest{Principal: principals[winner], DatabaseKey: key, HolderID: w.HolderID, Generation: w.Generation}); err != nil {
			t.Fatalf("round %d: the winner's release: %v", round, err)
		}
	}
}

// An open server's records carry no principal: RedDB's bytes exactly.
func TestAnonymousIsNotStored(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := f.acquire(t, "db", "reddb-0-1", time.Minute, 1)
	if got, _ := f.store.Raw("db"); string(got) != string(lease.EncodeLease(l)) {
		t.Fatalf("stored %s, want RedDB's bytes %s", got, lease.EncodeLease(l))
	}
}
