// Package backendtest is the conformance suite every lease store runs: the
// same assertions for memory, file, S3 and DynamoDB, so that the Service can
// rely on one contract whatever the backend.
package backendtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/redlease/redlease/pkg/lease"
)

// Options tune the suite for slower backends (emulators).
type Options struct {
	Racers     int // goroutines per concurrency round (default 16)
	Rounds     int // concurrency rounds (default 20)
	ListKeys   int // records written for the listing test (default 23)
	PageSize   int // page size for the listing test (default 5)
	NoParallel bool
}

func (o *Options) defaults() {
	if o.Racers <= 0 {
		o.Racers = 16
	}
	if o.Rounds <= 0 {
		o.Rounds = 20
	}
	if o.ListKeys <= 0 {
		o.ListKeys = 23
	}
	if o.PageSize <= 0 {
		o.PageSize = 5
	}
}

// Factory returns an empty store for one subtest. Stores from separate calls
// must not see each other's records.
type Factory func(t *testing.T) lease.ListingStore

// Run runs the whole suite.
func Run(t *testing.T, newStore Factory, opts Options) {
	opts.defaults()
	tests := []struct {
		name string
		fn   func(*testing.T, lease.ListingStore, Options)
	}{
		{"LoadMissing", testLoadMissing},
		{"CreateThenLoadRoundTrips", testCreateThenLoad},
		{"CreateExistingFails", testCreateExisting},
		{"ReplaceWithCurrentVersion", testReplaceCurrent},
		{"ReplaceWithStaleVersionChangesNothing", testReplaceStale},
		{"ReplaceMissingFails", testReplaceMissing},
		{"KeysAreIsolated", testKeysIsolated},
		{"ListPagesThroughEveryRecordOnce", testList},
		{"ConcurrentCreateHasOneWinner", testConcurrentCreate},
		{"ConcurrentReplaceHasOneWinnerPerRound", testConcurrentReplace},
		{"VersionsAreStableTokens", testVersionsAreStableTokens},
		{"CancelledContextIsUnavailableAndWritesNothing", testCancelledContext},
		{"ListTagsFollowWritesNotReads", testListTags},
		{"ListCursorOutlivesTheListing", testListCursorLater},
		{"StateRoundTripsConditionally", testState},
		{"SweepMarksTheWholeRecord", testSweepMarksTheWholeRecord},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !opts.NoParallel {
				t.Parallel()
			}
			tc.fn(t, newStore(t), opts)
		})
	}
}

// Record is a live lease record of term 2, acquired at 2026-01-01T00:00:00Z
// for a minute: the record the suite and the backends' own tests write.
func Record(key, holder string, generation uint64) lease.Record {
	return lease.Record{Lease: lease.Lease{
		DatabaseKey:  key,
		HolderID:     holder,
		Term:         2,
		Generation:   generation,
		AcquiredAtMs: 1767225600000,
		ExpiresAtMs:  1767225660000,
	}}
}

func mustLoad(t *testing.T, s lease.Store, key string) lease.Versioned {
	t.Helper()
	v, err := s.Load(context.Background(), key)
	if err != nil {
		t.Fatalf("Load(%q): %v", key, err)
	}
	return v
}

func mustCreate(t *testing.T, s lease.Store, rec lease.Record) lease.Version {
	t.Helper()
	v, err := s.Create(context.Background(), rec)
	if err != nil {
		t.Fatalf("Create(%q): %v", rec.DatabaseKey, err)
	}
	checkVersion(t, "Create", v)
	return v
}

// checkPrecondition asserts err is a precondition failure and that any
// record the backend returned with it is what the store holds now.
func checkPrecondition(t *testing.T, s lease.Store, err error, key string) {
	t.Helper()
	var pre *lease.PreconditionError
	if !errors.As(err, &pre) || !errors.Is(err, lease.ErrPrecondition) {
		t.Fatalf("got error %v, want a *lease.PreconditionError", err)
	}
	if pre.Current == nil {
		return
	}
	now := mustLoad(t, s, key)
	if pre.Current.Record != now.Record || pre.Current.Version != now.Version {
		t.Fatalf("precondition error carried %+v, store holds %+v", *pre.Current, now)
	}
}

func testLoadMissing(t *testing.T, s lease.ListingStore, _ Options) {
	_, err := s.Load(context.Background(), "never/written")
	if !errors.Is(err, lease.ErrNotFound) {
		t.Fatalf("Load of a missing key: got %v, want ErrNotFound", err)
	}
}

func testCreateThenLoad(t *testing.T, s lease.ListingStore, _ Options) {
	records := []lease.Record{
		Record("clusters/dev/data.rdb", "reddb-0-1", 1),
		Record("main", "promoter-1", 9007199254740991),
		Record("ünïcødé/ключ/鍵", `holder "quoted" \ back`, 2),
	}
	released := Record("released/key", "reddb-9", 4)
	released.ReleasedAtMs = 1767225650000
	reported := Record("reported/key", "reddb-8", 5)
	reported.ExpiryReportedMs = 1767225700000
	owned := Record("tenants/a/db", "reddb-7", 6)
	owned.Principal = "arn:aws:sts::123456789012:assumed-role/reddb-a"
	ownedReleased := Record("tenants/a/released", "reddb-6", 7)
	ownedReleased.Principal, ownedReleased.ReleasedAtMs = "tenant-a-reddb", 1767225650000
	refreshed := Record("refreshed/key", "reddb-5", 8)
	refreshed.WrittenAtMs = 1767225630000
	// Members a later redlease (or RedDB) added: every backend keeps them
	// through a write, in canonical form (sorted names, compact values).
	extended := Record("extended/key", "reddb-4", 9)
	extended.Principal, extended.WrittenAtMs = "tenant-b", 1767225640000
	extended.Unknown = `{"a_first":[1,true,null,"x"],"later":{"k":"v","n":25},"zz_last":"é <&>"}`
	records = append(records, released, reported, owned, ownedReleased, refreshed, extended)
	for _, rec := range records {
		v := mustCreate(t, s, rec)
		got := mustLoad(t, s, rec.DatabaseKey)
		if got.Record != rec {
			t.Errorf("Load(%q) = %+v, want %+v", rec.DatabaseKey, got.Record, rec)
		}
		if got.Version != v {
			t.Errorf("Load(%q) version = %q, want the one Create returned, %q", rec.DatabaseKey, got.Version, v)
		}
	}
}

func testCreateExisting(t *testing.T, s lease.ListingStore, _ Options) {
	first := Record("k", "a", 1)
	v := mustCreate(t, s, first)
	_, err := s.Create(context.Background(), Record("k", "b", 2))
	checkPrecondition(t, s, err, "k")
	got := mustLoad(t, s, "k")
	if got.Record != first || got.Version != v {
		t.Fatalf("after a refused Create the store holds %+v, want %+v at %q", got, first, v)
	}
}

func testReplaceCurrent(t *testing.T, s lease.ListingStore, _ Options) {
	first := Record("k", "a", 1)
	first.Unknown = `{"gone":1,"kept":"x"}`
	v1 := mustCreate(t, s, first)
	// The record written is all there is: members of the old one that the
	// new one lacks are gone, the rest as written.
	next := Record("k", "b", 2)
	next.WrittenAtMs, next.Unknown = 1767225610000, `{"kept":"y"}`
	v2, err := s.Replace(context.Background(), next, v1)
	if err != nil {
		t.Fatalf("Replace with the current version: %v", err)
	}
	if v2 == "" || v2 == v1 {
		t.Fatalf("Replace returned version %q, want a new non-empty one (old %q)", v2, v1)
	}
	got := mustLoad(t, s, "k")
	if got.Record != next || got.Version != v2 {
		t.Fatalf("store holds %+v, want %+v at %q", got, next, v2)
	}
}

func testReplaceStale(t *testing.T, s lease.ListingStore, _ Options) {
	v1 := mustCreate(t, s, Record("k", "a", 1))
	second := Record("k", "b", 2)
	v2, err := s.Replace(context.Background(), second, v1)
	if err != nil {
		t.Fatalf("Replace: %v", err)
	}
	_, err = s.Replace(context.Background(), Record("k", "c", 3), v1)
	checkPrecondition(t, s, err, "k")
	got := mustLoad(t, s, "k")
	if got.Record != second || got.Version != v2 {
		t.Fatalf("after a refused Replace the store holds %+v, want %+v at %q", got, second, v2)
	}
}

func testReplaceMissing(t *testing.T, s lease.ListingStore, _ Options) {
	other := mustCreate(t, s, Record("other", "a", 1))
	_, err := s.Replace(context.Background(), Record("missing", "a", 2), other)
	var pre *lease.PreconditionError
	if !errors.As(err, &pre) {
		t.Fatalf("Replace of a missing key: got %v, want a precondition failure", err)
	}
	if _, err := s.Load(context.Background(), "missing"); !errors.Is(err, lease.ErrNotFound) {
		t.Fatalf("a refused Replace created the key: Load = %v", err)
	}
}

func testKeysIsolated(t *testing.T, s lease.ListingStore, _ Options) {
	keys := []string{"a", "a/b", "a.b", "a/b/c", "A", "a.lease.json"}
	for i, k := range keys {
		mustCreate(t, s, Record(k, fmt.Sprintf("h%d", i), uint64(i+1)))
	}
	for i, k := range keys {
		got := mustLoad(t, s, k)
		if want := Record(k, fmt.Sprintf("h%d", i), uint64(i+1)); got.Record != want {
			t.Errorf("Load(%q) = %+v, want %+v", k, got.Record, want)
		}
	}
}

func testList(t *testing.T, s lease.ListingStore, opts Options) {
	want := map[string]lease.Record{}
	for i := range opts.ListKeys {
		key := fmt.Sprintf("list/%02d/db", i)
		if i%3 == 0 {
			key = fmt.Sprintf("list-%02d", i)
		}
		rec := Record(key, "h", uint64(i+1))
		if i%2 == 0 {
			// A listed record is the whole record: the sweep marks what
			// the listing returned, so a member it dropped would be lost.
			rec.Principal = fmt.Sprintf("tenant-%02d-reddb", i)
		}
		mustCreate(t, s, rec)
		want[key] = rec
	}
	seen := map[string]bool{}
	cursor, pages := "", 0
	for {
		page, err := s.List(context.Background(), cursor, opts.PageSize)
		if err != nil {
			t.Fatalf("List(%q): %v", cursor, err)
		}
		pages++
		if len(page.Entries) > opts.PageSize {
			t.Fatalf("List returned %d entries, limit %d", len(page.Entries), opts.PageSize)
		}
		if len(page.Unreadable) > 0 {
			t.Fatalf("List reported %v unreadable in a store of good records", page.Unreadable)
		}
		for _, e := range page.Entries {
			if seen[e.Key] {
				t.Fatalf("List returned %q twice", e.Key)
			}
			seen[e.Key] = true
			checkEntry(t, s, e)
			if got := mustLoad(t, s, e.Key).Record; got != want[e.Key] {
				t.Errorf("listed %q holds %+v, want %+v", e.Key, got, want[e.Key])
			}
		}
		if page.Next == "" {
			break
		}
		if pages > opts.ListKeys+1 {
			t.Fatalf("List did not finish after %d pages", pages)
		}
		cursor = page.Next
	}
	if len(seen) != len(want) {
		t.Fatalf("List returned %d records, want %d", len(seen), len(want))
	}
	if pages < 2 {
		t.Fatalf("List used %d page(s) for %d records at page size %d; paging untested", pages, len(want), opts.PageSize)
	}
}

// checkEntry holds one listed entry to the Entry contract against what
// Load reads now: a tag, a version (when given) that is the record's, and
// a record (when given) that is the stored one.
func checkEntry(t *testing.T, s lease.Store, e lease.Entry) {
	t.Helper()
	cur := mustLoad(t, s, e.Key)
	if e.Tag == "" {
		t.Errorf("entry %q has no tag", e.Key)
	}
	if e.Version != "" {
		checkVersion(t, "List", e.Version)
		if e.Tag != string(e.Version) {
			t.Errorf("entry %q: tag %q is not its version %q", e.Key, e.Tag, e.Version)
		}
		if e.Version != cur.Version {
			t.Errorf("entry %q at version %q, Load says %q", e.Key, e.Version, cur.Version)
		}
	}
	if e.Record != nil {
		if e.Version == "" {
			t.Errorf("entry %q carries a record but no version", e.Key)
		}
		if *e.Record != cur.Record {
			t.Errorf("entry %q carries %+v, Load says %+v", e.Key, *e.Record, cur.Record)
		}
	}
	if cv, ok := s.(lease.ContentVersioner); ok && cv.ContentVersion(cur.Record) != cur.Version {
		t.Errorf("%q: ContentVersion = %q, the stored version is %q", e.Key, cv.ContentVersion(cur.Record), cur.Version)
	}
}

func testConcurrentCreate(t *testing.T, s lease.ListingStore, opts Options) {
	for round := range opts.Rounds {
		key := fmt.Sprintf("race/create/%d", round)
		wins := race(opts.Racers, func(i int) error {
			_, err := s.Create(context.Background(), Record(key, fmt.Sprintf("racer-%d", i), 1))
			return err
		}, t)
		if len(wins) != 1 {
			t.Fatalf("round %d: %d creates won, want exactly 1", round, len(wins))
		}
		if got := mustLoad(t, s, key); got.Record.HolderID != fmt.Sprintf("racer-%d", wins[0]) {
			t.Fatalf("round %d: racer-%d won but the store holds %q", round, wins[0], got.Record.HolderID)
		}
	}
}

func testConcurrentReplace(t *testing.T, s lease.ListingStore, opts Options) {
	const key = "race/replace"
	mustCreate(t, s, Record(key, "racer-start", 1))
	for round := range opts.Rounds {
		base := mustLoad(t, s, key)
		gen := base.Record.Generation + 1
		wins := race(opts.Racers, func(i int) error {
			_, err := s.Replace(context.Background(), Record(key, fmt.Sprintf("racer-%d", i), gen), base.Version)
			return err
		}, t)
		if len(wins) != 1 {
			t.Fatalf("round %d: %d replaces won, want exactly 1", round, len(wins))
		}
		got := mustLoad(t, s, key)
		if got.Record.HolderID != fmt.Sprintf("racer-%d", wins[0]) || got.Record.Generation != gen {
			t.Fatalf("round %d: racer-%d won but the store holds %+v", round, wins[0], got.Record)
		}
	}
}

// race starts n goroutines at once and returns the indexes that succeeded.
// Any error other than a precondition failure fails the test.
func race(n int, attempt func(i int) error, t *testing.T) []int {
	t.Helper()
	var (
		start sync.WaitGroup
		done  sync.WaitGroup
		mu    sync.Mutex
		wins  []int
		errs  []error
	)
	start.Add(1)
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			err := attempt(i)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins = append(wins, i)
			case !errors.Is(err, lease.ErrPrecondition):
				errs = append(errs, err)
			}
		}()
	}
	start.Done()
	done.Wait()
	for _, err := range errs {
		t.Errorf("racer failed with %v, want success or a precondition failure", err)
	}
	return wins
}
