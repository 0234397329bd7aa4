package lease_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redlease/redlease/pkg/backend/faulty"
	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/lease"
)

// RedDB's side of its lease protocol, as the RedDB face hands it to the
// service: whole records with RedDB's own times, written by
// compare-and-swap at a version RedDB read.

const redKey = "clusters/dev/data.rdb"

var (
	redA = lease.Principal{Name: "reddb-a", Prefixes: []string{"clusters/"}}
	redB = lease.Principal{Name: "reddb-b", Prefixes: []string{"clusters/"}}
)

// redRecord is the record RedDB builds: its clock's times (skewed here by
// skew from the service's), TTL ttl.
func (f fixture) redRecord(holder string, generation uint64, skew, ttl time.Duration) []byte {
	at := uint64(f.clock.Now().Add(skew).UnixMilli())
	return lease.EncodeLease(lease.Lease{DatabaseKey: redKey, HolderID: holder, Term: 1, Generation: generation,
		AcquiredAtMs: at, ExpiresAtMs: at + uint64(ttl.Milliseconds())})
}

func (f fixture) create(p lease.Principal, body []byte) (lease.Versioned, error) {
	return f.svc.PutLeaseObject(context.Background(), lease.LeaseObjectPut{Principal: p, DatabaseKey: redKey, Body: body, IfNoneMatch: true})
}

func (f fixture) replace(p lease.Principal, body []byte, at lease.Version) (lease.Versioned, error) {
	return f.svc.PutLeaseObject(context.Background(), lease.LeaseObjectPut{Principal: p, DatabaseKey: redKey, Body: body, IfMatch: at})
}

func (f fixture) stored(t *testing.T) lease.Versioned {
	t.Helper()
	v, err := f.store.Load(context.Background(), redKey)
	if err != nil {
		t.Fatalf("stored record: %v", err)
	}
	return v
}

func wantRefused(t *testing.T, what string, err error) {
	t.Helper()
	var ie *lease.IntentError
	if !errors.As(err, &ie) || !errors.Is(err, lease.ErrPrecondition) {
		t.Fatalf("%s: error %v, want an *IntentError matching ErrPrecondition", what, err)
	}
}

// An acquire stores the service's times, not RedDB's, and learns the TTL
// from RedDB's record; a first acquire costs one conditional write.
func TestLeaseObjectAcquireStampsServerTime(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	v, err := f.create(redA, f.redRecord("red-a", 1, 30*time.Second, 3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	now := uint64(f.clock.Now().UnixMilli())
	want := lease.Record{Lease: lease.Lease{DatabaseKey: redKey, HolderID: "red-a", Term: 1, Generation: 1,
		AcquiredAtMs: now, ExpiresAtMs: now + 3000}, Principal: "reddb-a", TTLMs: 3000}
	if v.Record != want {
		t.Fatalf("stored %+v, want %+v (the service's clock, RedDB's TTL, the principal)", v.Record, want)
	}
	if got := f.stored(t); got != v {
		t.Errorf("store holds %+v, the answer said %+v", got, v)
	}
	if l, w := f.store.loads.Load(), f.store.writes.Load(); l != 1 || w != 1 { // the read is stored()'s
		t.Errorf("first acquire: %d loads, %d writes; want no read and one write", l-1, w)
	}
	if _, err := f.create(redA, f.redRecord("red-b", 1, 0, 3*time.Second)); err == nil {
		t.Fatal("second If-None-Match acquire succeeded")
	} else {
		wantRefused(t, "If-None-Match over an existing lease object", err)
	}
	if got := f.stored(t); got != v {
		t.Errorf("refused acquire changed the record to %+v", got)
	}
}

// RedDB's refresh writes back its original acquired_at_ms with a new
// expiry; the service extends by the stored TTL from its own clock. On the
// instance that served RedDB's read it costs one write and no read.
func TestLeaseObjectRefreshUsesTheStoredTTL(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	acquired, err := f.create(redA, f.redRecord("red-a", 1, -time.Hour, 3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		f.clock.Advance(time.Second)
		// RedDB's in-memory lease with only expires_at_ms moved, by its
		// (skewed) clock.
		body := f.redRecord("red-a", 1, -time.Hour, 0)
		f.store.reset()
		v, err := f.replace(redA, body, acquired.Version)
		if err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
		if l, w := f.store.loads.Load(), f.store.writes.Load(); l != 0 || w != 1 {
			t.Errorf("refresh %d: %d loads and %d writes, want 0 and 1 (the version RedDB read is cached)", i, l, w)
		}
		now := uint64(f.clock.Now().UnixMilli())
		if v.Record.ExpiresAtMs != now+3000 || v.Record.AcquiredAtMs != acquired.Record.AcquiredAtMs || v.Record.TTLMs != 3000 {
			t.Fatalf("refresh %d stored %+v, want expires %d and the acquire's time and TTL", i, v.Record, now+3000)
		}
		acquired = v
	}
	// A stale version is refused and changes nothing.
	before := f.stored(t)
	_, err = f.replace(redA, f.redRecord("red-a", 1, 0, 3*time.Second), lease.NewVersion("stale"))
	wantRefused(t, "refresh at a stale version", err)
	if got := f.stored(t); got != before {
		t.Errorf("refused refresh changed the record to %+v", got)
	}
	// A cold instance reads once.
	cold, err := lease.New(lease.Config{Store: f.store, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	f.store.reset()
	if _, err := cold.PutLeaseObject(context.Background(), lease.LeaseObjectPut{Principal: redA, DatabaseKey: redKey,
		Body: f.redRecord("red-a", 1, 0, 3*time.Second), IfMatch: before.Version}); err != nil {
		t.Fatal(err)
	}
	if l, w := f.store.loads.Load(), f.store.writes.Load(); l != 1 || w != 1 {
		t.Errorf("cold refresh: %d loads and %d writes, want 1 and 1", l, w)
	}
}

// Every intent that does not follow from the stored record, by the
// service's clock, is refused with nothing written.
func TestLeaseObjectIntents(t *testing.T) {
	t.Parallel()
	type state struct {
		holder    string
		principal lease.Principal
		live      bool
		released  bool
		term      uint64
	}
	tests := []struct {
		name      string
		stored    state
		holder    string
		gen       uint64 // relative: 0 the stored generation, 1 the next
		term      uint64
		principal lease.Principal
		ok        bool
	}{
		{"refresh by the holder", state{"red-a", redA, true, false, 1}, "red-a", 0, 1, redA, true},
		{"refresh of an expired lease nobody took", state{"red-a", redA, false, false, 1}, "red-a", 0, 1, redA, true},
		{"refresh by another principal", state{"red-a", redA, true, false, 1}, "red-a", 0, 1, redB, false},
		{"refresh of a released generation", state{"red-a", redA, false, true, 1}, "red-a", 0, 1, redA, false},
		{"refresh at another term", state{"red-a", redA, true, false, 1}, "red-a", 0, 2, redA, false},
		{"acquire over an expired lease", state{"red-a", redA, false, false, 1}, "red-b", 1, 1, redB, true},
		{"acquire over a released lease", state{"red-a", redA, false, true, 1}, "red-b", 1, 1, redB, true},
		{"acquire over a live lease", state{"red-a", redA, true, false, 1}, "red-b", 1, 1, redB, false},
		{"acquire over a live lease, same principal", state{"red-a", redA, true, false, 1}, "red-b", 1, 1, redA, false},
		{"own live lease again (restart)", state{"red-a", redA, true, false, 1}, "red-a", 1, 1, redA, true},
		{"own holder id, other principal", state{"red-a", redA, true, false, 1}, "red-a", 1, 1, redB, false},
		{"term behind", state{"red-a", redA, false, false, 2}, "red-b", 1, 1, redB, false},
		{"term ahead", state{"red-a", redA, false, false, 1}, "red-b", 1, 2, redB, true},
		{"generation skipped", state{"red-a", redA, false, false, 1}, "red-b", 2, 1, redB, false},
		{"generation behind", state{"red-a", redA, false, false, 1}, "red-b", ^uint64(0), 1, redB, false},
		{"legacy record, anyone refreshes", state{"red-a", lease.Anonymous, true, false, 1}, "red-a", 0, 1, redB, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			now := uint64(f.clock.Now().UnixMilli())
			seed := lease.Record{Lease: lease.Lease{DatabaseKey: redKey, HolderID: tc.stored.holder,
				Term: tc.stored.term, Generation: 5, AcquiredAtMs: now, ExpiresAtMs: now + 5000}, TTLMs: 5000}
			if tc.stored.principal.Name != lease.AnonymousName {
				seed.Principal = tc.stored.principal.Name
			}
			v := lease.Versioned{Record: seed, Version: f.store.PutRaw(redKey, lease.EncodeRecord(seed))}
			var err error
			if tc.stored.released {
				if v, err = f.svc.DeleteLeaseObject(context.Background(), lease.LeaseObjectDelete{Principal: tc.stored.principal, DatabaseKey: redKey, IfMatch: v.Version}); err != nil {
					t.Fatal(err)
				}
			}
			if !tc.stored.live {
				f.clock.Advance(6 * time.Second)
			} else {
				f.clock.Advance(time.Second)
			}
			gen := v.Record.Generation + tc.gen
			body := lease.EncodeLease(lease.Lease{DatabaseKey: redKey, HolderID: tc.holder, Term: tc.term, Generation: gen,
				AcquiredAtMs: 10, ExpiresAtMs: 3010})
			got, err := f.replace(tc.principal, body, v.Version)
			if !tc.ok {
				wantRefused(t, tc.name, err)
				if s := f.stored(t); s != v {
					t.Errorf("refused write changed the record: %+v, was %+v", s.Record, v.Record)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if got.Record.Generation != gen || got.Record.HolderID != tc.holder || got.Record.Term != tc.term {
				t.Errorf("stored %+v, want %s at generation %d term %d", got.Record, tc.holder, gen, tc.term)
			}
			if now := uint64(f.clock.Now().UnixMilli()); got.Record.ExpiresAtMs <= now {
				t.Errorf("stored expiry %d is not after the service's now %d", got.Record.ExpiresAtMs, now)
			}
		})
	}
}

// A DELETE of the lease object writes the released marker: the generation
// survives, and the next acquire is generation + 1.
func TestLeaseObjectDeleteReleases(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	v, err := f.create(redA, f.redRecord("red-a", 1, 0, 3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	del := func(p lease.Principal, at lease.Version) (lease.Versioned, error) {
		return f.svc.DeleteLeaseObject(context.Background(), lease.LeaseObjectDelete{Principal: p, DatabaseKey: redKey, IfMatch: at})
	}
	_, err = del(redB, v.Version)
	wantRefused(t, "delete by another principal", err)
	_, err = del(redA, lease.NewVersion("stale"))
	wantRefused(t, "delete at a stale version", err)
	if s := f.stored(t); s != v {
		t.Fatalf("refused deletes changed the record: %+v", s.Record)
	}
	f.clock.Advance(time.Second)
	released, err := del(redA, v.Version)
	if err != nil {
		t.Fatal(err)
	}
	if !released.Record.Released() || released.Record.Generation != 1 || released.Record.HolderID != "red-a" {
		t.Fatalf("released %+v, want red-a's generation 1 marked released", released.Record)
	}
	_, err = del(redA, released.Version)
	wantRefused(t, "delete of a released lease", err)
	next, err := f.replace(redB, f.redRecord("red-c", 2, 0, 3*time.Second), released.Version)
	if err != nil {
		t.Fatal(err)
	}
	if next.Record.Generation != 2 || next.Record.HolderID != "red-c" || next.Record.Principal != "reddb-b" {
		t.Errorf("acquire after release = %+v, want red-c at generation 2 as reddb-b", next.Record)
	}
}

// Malformed writes are invalid (400), decided before any storage request.
func TestLeaseObjectBadBodies(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	good := f.redRecord("red-a", 1, 0, 3*time.Second)
	tests := []struct {
		name  string
		body  []byte
		field string
	}{
		{"not JSON", []byte("not json"), "body"},
		{"missing holder", []byte(`{"database_key":"clusters/dev/data.rdb","generation":1,"acquired_at_ms":1,"expires_at_ms":3001}`), "body"},
		{"another key", lease.EncodeLease(lease.Lease{DatabaseKey: "other/data.rdb", HolderID: "h", Term: 1, Generation: 1, AcquiredAtMs: 1, ExpiresAtMs: 3001}), "database_key"},
		{"TTL too short", lease.EncodeLease(lease.Lease{DatabaseKey: redKey, HolderID: "h", Term: 1, Generation: 1, AcquiredAtMs: 1, ExpiresAtMs: 500}), "ttl_ms"},
		{"expires before acquired", lease.EncodeLease(lease.Lease{DatabaseKey: redKey, HolderID: "h", Term: 1, Generation: 1, AcquiredAtMs: 9000, ExpiresAtMs: 1}), "ttl_ms"},
		{"term jump", lease.EncodeLease(lease.Lease{DatabaseKey: redKey, HolderID: "h", Term: 5000, Generation: 1, AcquiredAtMs: 1, ExpiresAtMs: 3001}), "term"},
		{"empty holder", lease.EncodeLease(lease.Lease{DatabaseKey: redKey, HolderID: "", Term: 1, Generation: 1, AcquiredAtMs: 1, ExpiresAtMs: 3001}), "holder_id"},
		{"generation 0", lease.EncodeLease(lease.Lease{DatabaseKey: redKey, HolderID: "h", Term: 1, Generation: 0, AcquiredAtMs: 1, ExpiresAtMs: 3001}), "generation"},
		{"a principal member", []byte(`{"acquired_at_ms":1,"database_key":"clusters/dev/data.rdb","expires_at_ms":3001,"generation":1,"holder_id":"h","principal":"admin","term":1}`), "body"},
		{"a ttl_ms member", []byte(`{"acquired_at_ms":1,"database_key":"clusters/dev/data.rdb","expires_at_ms":3001,"generation":1,"holder_id":"h","term":1,"ttl_ms":86400000}`), "body"},
		{"over 4 KiB", append(good, make([]byte, lease.MaxLeaseObjectBytes)...), "body"},
	}
	for _, tc := range tests {
		f.store.reset()
		_, err := f.create(redA, tc.body)
		var inv *lease.InvalidError
		if !errors.As(err, &inv) || inv.Field != tc.field {
			t.Errorf("%s: error %v, want an *InvalidError on %q", tc.name, err, tc.field)
		}
		if w := f.store.writes.Load(); w != 0 {
			t.Errorf("%s: %d writes, want none", tc.name, w)
		}
	}
	// Neither condition, or both.
	for _, r := range []lease.LeaseObjectPut{
		{Principal: redA, DatabaseKey: redKey, Body: good},
		{Principal: redA, DatabaseKey: redKey, Body: good, IfNoneMatch: true, IfMatch: lease.NewVersion("x")},
	} {
		if _, err := f.svc.PutLeaseObject(context.Background(), r); !errors.Is(err, lease.ErrInvalid) {
			t.Errorf("PutLeaseObject(%+v) error %v, want ErrInvalid", r, err)
		}
	}
	// Outside the principal's prefixes: forbidden before any storage.
	f.store.reset()
	outsider := lease.Principal{Name: "other", Prefixes: []string{"tenants/b/"}}
	for _, err := range []error{
		func() error { _, err := f.create(outsider, good); return err }(),
		func() error { _, err := f.svc.ReadLeaseObject(context.Background(), outsider, redKey); return err }(),
		func() error {
			_, err := f.svc.CheckDataWrite(context.Background(), lease.DataWrite{Principal: outsider, DatabaseKey: redKey})
			return err
		}(),
	} {
		if !errors.Is(err, lease.ErrForbidden) {
			t.Errorf("outsider: error %v, want ErrForbidden", err)
		}
	}
	if l, w := f.store.loads.Load(), f.store.writes.Load(); l+w != 0 {
		t.Errorf("outsider: %d loads and %d writes, want none", l, w)
	}
}

// Racing intents on one version: exactly one wins.
func TestLeaseObjectRacesHaveOneWinner(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for i := range 16 {
		wg.Go(func() {
			_, err := f.create(redA, f.redRecord(fmt.Sprintf("red-%d", i), 1, 0, 3*time.Second))
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				wins++
			} else if !errors.Is(err, lease.ErrPrecondition) {
				t.Errorf("racer %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d first acquires won, want 1", wins)
	}
	v := f.stored(t)
	f.clock.Advance(4 * time.Second)
	wins = 0
	for i := range 16 {
		wg.Go(func() {
			_, err := f.replace(redB, f.redRecord(fmt.Sprintf("next-%d", i), 2, 0, 3*time.Second), v.Version)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				wins++
			} else if !errors.Is(err, lease.ErrPrecondition) {
				t.Errorf("racer %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if wins != 1 || f.stored(t).Record.Generation != 2 {
		t.Fatalf("%d takeovers won (generation %d), want 1 at generation 2", wins, f.stored(t).Record.Generation)
	}
}

// The data fence: only the live lease's principal writes, and only while
// the lease runs longer than the margin; no record is allowed unless
// required; the decision always reads the store.
func TestCheckDataWrite(t *testing.T) {
	t.Parallel()
	const margin = time.Second
	check := func(f fixture, p lease.Principal, require bool) (lease.DataWriteGrant, error) {
		return f.svc.CheckDataWrite(context.Background(), lease.DataWrite{Principal: p, DatabaseKey: redKey, RequireLease: require, Margin: margin})
	}
	wantReason := func(t *testing.T, what string, err error, reason string) {
		t.Helper()
		var dw *lease.DataWriteError
		if !errors.As(err, &dw) || dw.Reason != reason || !errors.Is(err, lease.ErrForbidden) || dw.DatabaseKey != redKey {
			t.Errorf("%s: error %v, want a *DataWriteError on %q: %q", what, err, redKey, reason)
		}
	}
	f := newFixture(t)
	if g, err := check(f, redA, false); err != nil || g.Leased {
		t.Errorf("no record: %+v, %v; want allowed without a lease", g, err)
	}
	_, err := check(f, redA, true)
	wantReason(t, "no record, lease required", err, lease.DataNoLease)

	v, err := f.create(redA, f.redRecord("red-a", 1, 0, 3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	f.store.reset()
	g, err := check(f, redA, true)
	if err != nil || !g.Leased || g.Remaining != 2*time.Second {
		t.Errorf("holder: %+v, %v; want leased with 3 s - 1 s margin left", g, err)
	}
	if l := f.store.loads.Load(); l != 1 {
		t.Errorf("the fence made %d reads, want exactly 1 (never the cache)", l)
	}
	_, err = check(f, redB, false)
	wantReason(t, "another principal", err, lease.DataHeldByOther)
	f.clock.Advance(2500 * time.Millisecond)
	_, err = check(f, redA, false)
	wantReason(t, "within the margin", err, lease.DataExpiring)
	f.clock.Advance(time.Second)
	_, err = check(f, redA, false)
	wantReason(t, "expired", err, lease.DataNotHeld)

	// Released, and a change made by another instance: read, not cached.
	other, err := lease.New(lease.Config{Store: f.store, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Set(f.clock.Now().Add(-3 * time.Second)) // live again
	if _, err := check(f, redA, false); err != nil {
		t.Fatalf("holder again: %v", err)
	}
	if _, err := other.DeleteLeaseObject(context.Background(), lease.LeaseObjectDelete{Principal: redA, DatabaseKey: redKey, IfMatch: v.Version}); err != nil {
		t.Fatal(err)
	}
	_, err = check(f, redA, false)
	wantReason(t, "released by another instance", err, lease.DataNotHeld)

	// A record without a principal fences by liveness only.
	legacy := newFixture(t)
	if _, err := legacy.create(lease.Anonymous, legacy.redRecord("red-a", 1, 0, 3*time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := check(legacy, redB, false); err != nil {
		t.Errorf("live record without a principal: %v, want allowed", err)
	}
}

// A lease the JSON API holds blocks a RedDB, and a RedDB's lease is the
// record the JSON API reads; a JSON refresh keeps the learnt TTL.
func TestLeaseObjectAndJSONAPIShareTheRecord(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	held, err := f.svc.Acquire(context.Background(), lease.AcquireRequest{Principal: redB, DatabaseKey: redKey, HolderID: "cli", TTLMs: 60000, Term: 1})
	if err != nil {
		t.Fatal(err)
	}
	v := f.stored(t)
	_, err = f.replace(redA, f.redRecord("red-a", 2, 0, 3*time.Second), v.Version)
	wantRefused(t, "RedDB over a lease the CLI holds", err)
	if _, err := f.release(held); !errors.Is(err, lease.ErrForbidden) {
		t.Fatalf("anonymous release of reddb-b's lease: %v, want forbidden", err)
	}
	if _, err := f.svc.Release(context.Background(), lease.ReleaseRequest{Principal: redB, DatabaseKey: redKey, HolderID: "cli", Generation: 1}); err != nil {
		t.Fatal(err)
	}
	red, err := f.replace(redA, f.redRecord("red-a", 2, 0, 3*time.Second), f.stored(t).Version)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := f.svc.Get(context.Background(), redA, redKey)
	if err != nil || snap.Lease != red.Record.Lease || snap.State != lease.StateHeld {
		t.Fatalf("JSON read %+v, %v; want RedDB's lease %+v held", snap, err, red.Record.Lease)
	}
	if _, err := f.svc.Refresh(context.Background(), lease.RefreshRequest{Principal: redA, DatabaseKey: redKey, HolderID: "red-a", Generation: 2, TTLMs: 10000}); err != nil {
		t.Fatal(err)
	}
	if got := f.stored(t).Record; got.TTLMs != 3000 {
		t.Errorf("after a JSON refresh ttl_ms = %d, want the learnt 3000 kept", got.TTLMs)
	}
}

// ttl_ms is stored last (keys sorted), omitted when zero, and read back;
// RedDB's reader ignores it.
func TestTTLRoundTrips(t *testing.T) {
	t.Parallel()
	rec := lease.Record{Lease: lease.Lease{DatabaseKey: redKey, HolderID: "red-a", Term: 1, Generation: 2,
		AcquiredAtMs: 1000, ExpiresAtMs: 4000}, Principal: "reddb-a", TTLMs: 3000}
	const want = `{"acquired_at_ms":1000,"database_key":"clusters/dev/data.rdb","expires_at_ms":4000,"generation":2,"holder_id":"red-a","principal":"reddb-a","term":1,"ttl_ms":3000}`
	if got := string(lease.EncodeRecord(rec)); got != want {
		t.Fatalf("EncodeRecord:\n got %s\nwant %s", got, want)
	}
	back, err := lease.DecodeRecord([]byte(want))
	if err != nil || back != rec {
		t.Fatalf("DecodeRecord = %+v, %v; want %+v", back, err, rec)
	}
	rec.TTLMs = 0
	if got := string(lease.EncodeRecord(rec)); got != `{"acquired_at_ms":1000,"database_key":"clusters/dev/data.rdb","expires_at_ms":4000,"generation":2,"holder_id":"red-a","principal":"reddb-a","term":1}` {
		t.Errorf("EncodeRecord without a TTL wrote %s", got)
	}
	for _, bad := range []string{`"3000"`, `-1`, `1.5`, `null`} {
		if _, err := lease.DecodeRecord([]byte(want[:len(want)-5] + bad + "}")); !errors.Is(err, lease.ErrCorrupt) {
			t.Errorf("ttl_ms %s: %v, want ErrCorrupt", bad, err)
		}
	}
}

// RedDB drains for good on one failed refresh (defect 2), so the face
// absorbs what storage failures it can: a write whose answer was lost is
// found applied, one that never arrived is sent again, and a failed read
// is read again; only a failure that persists reaches RedDB. A write that
// meanwhile lost to another writer is still refused.
func TestLeaseObjectWritesSurviveStorageHiccups(t *testing.T) {
	t.Parallel()
	type run struct {
		name  string
		rules []faulty.Rule
		ok    bool
		err   error
	}
	for _, tc := range []run{
		{"answer lost", []faulty.Rule{{Op: faulty.OpReplace, Nth: 1, Kind: faulty.FailAfter}}, true, nil},
		{"never arrived", []faulty.Rule{{Op: faulty.OpReplace, Nth: 1, Kind: faulty.FailBefore}}, true, nil},
		{"timed out, applied", []faulty.Rule{{Op: faulty.OpReplace, Nth: 1, Kind: faulty.TimeoutAfter}}, true, nil},
		{"read fails once", []faulty.Rule{{Op: faulty.OpLoad, Nth: 1, Kind: faulty.FailBefore}}, true, nil},
		{"down for good", []faulty.Rule{{Op: faulty.OpReplace, Rate: 1, Kind: faulty.FailBefore}}, false, lease.ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := newClock()
			mem := memory.New(memory.Options{})
			store := faulty.New(mem, faulty.Options{Rules: tc.rules})
			svc, err := lease.New(lease.Config{Store: store, Now: clock.Now, CacheSize: -1})
			if err != nil {
				t.Fatal(err)
			}
			f := fixture{svc: svc, clock: clock}
			v, err := f.create(redA, f.redRecord("red-a", 1, 0, 3*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			clock.Advance(time.Second)
			got, err := f.replace(redA, f.redRecord("red-a", 1, 0, 3*time.Second), v.Version)
			if !tc.ok {
				if !errors.Is(err, tc.err) {
					t.Fatalf("error %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("refresh through %s: %v", tc.name, err)
			}
			stored, _ := mem.Load(context.Background(), redKey)
			if stored != got || got.Record.ExpiresAtMs != uint64(clock.Now().UnixMilli())+3000 {
				t.Errorf("answered %+v, stored %+v", got, stored)
			}
			if _, err := svc.ReadLeaseObject(context.Background(), redA, redKey); err != nil {
				t.Errorf("read after: %v", err)
			}
		})
	}
	// The write never arrives, and another writer gets in before the
	// service looks again: refused, the other writer's record stays.
	clock := newClock()
	mem := memory.New(memory.Options{})
	var other lease.Version
	store := faulty.New(mem, faulty.Options{
		Rules: []faulty.Rule{{Op: faulty.OpLoad, Nth: 1, Kind: faulty.Sneak}, {Op: faulty.OpReplace, Nth: 1, Kind: faulty.FailBefore}},
		Sneak: func(context.Context, string) {
			other = mem.PutRaw(redKey, lease.EncodeRecord(lease.Record{Lease: lease.Lease{DatabaseKey: redKey, HolderID: "other",
				Term: 1, Generation: 2, AcquiredAtMs: 1, ExpiresAtMs: 2}}))
		},
	})
	svc, err := lease.New(lease.Config{Store: store, Now: clock.Now, CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	f := fixture{svc: svc, clock: clock}
	v, err := f.create(redA, f.redRecord("red-a", 1, 0, 3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	_, err = f.replace(redA, f.redRecord("red-a", 1, 0, 3*time.Second), v.Version)
	wantRefused(t, "a write lost to another writer while retried", err)
	if cur, _ := mem.Load(context.Background(), redKey); cur.Version != other || other == "" {
		t.Errorf("the other writer's record was overwritten: %+v", cur)
	}
}
