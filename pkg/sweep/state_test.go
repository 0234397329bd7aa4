package sweep_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/redlease/redlease/pkg/backend/file"
	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/sweep"
)

// countingStore counts the calls the sweep makes; it passes the inner
// store's content hash through, as a store that has one does.
type countingStore struct {
	lease.ListingStore
	mu     sync.Mutex
	loads  map[string]int
	lists  int
	writes int
}

func newCounting(inner lease.ListingStore) *countingStore {
	return &countingStore{ListingStore: inner, loads: map[string]int{}}
}

func (c *countingStore) Load(ctx context.Context, key string) (lease.Versioned, error) {
	c.mu.Lock()
	c.loads[key]++
	c.mu.Unlock()
	return c.ListingStore.Load(ctx, key)
}

func (c *countingStore) List(ctx context.Context, cursor string, limit int) (lease.Page, error) {
	c.mu.Lock()
	c.lists++
	c.mu.Unlock()
	return c.ListingStore.List(ctx, cursor, limit)
}

func (c *countingStore) Replace(ctx context.Context, rec lease.Record, expect lease.Version) (lease.Version, error) {
	c.mu.Lock()
	c.writes++
	c.mu.Unlock()
	return c.ListingStore.Replace(ctx, rec, expect)
}

func (c *countingStore) ContentVersion(rec lease.Record) lease.Version {
	return c.ListingStore.(lease.ContentVersioner).ContentVersion(rec)
}

// take returns the loads by key, the lists and the writes since the last
// call.
func (c *countingStore) take() (loads map[string]int, lists, writes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	loads, lists, writes = c.loads, c.lists, c.writes
	c.loads, c.lists, c.writes = map[string]int{}, 0, 0
	return loads, lists, writes
}

// tenantA is a named principal; the records it takes carry its name.
var tenantA = lease.Principal{Name: "arn:aws:sts::123456789012:assumed-role/reddb-a/tenant-a", Prefixes: []string{""}}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// The file backend's listing reads nothing, so its sweep reads exactly the
// records whose files changed: none of the released, reported or live but
// untouched ones, and not the lease that expired unchanged either (its
// content hash proves it is what the previous run read).
func TestOnlyChangedRecordsAreRead(t *testing.T) {
	t.Parallel()
	clk := newClock(t0)
	store := newCounting(file.New(file.Options{Dir: t.TempDir()}))
	for i := range 30 {
		r := rec(fmt.Sprintf("db/%02d", i), "h", 1, 1, t0+60_000) // held for a minute
		switch i % 3 {
		case 0:
			r = released(r, t0-1)
		case 1:
			r = reported(rec(r.DatabaseKey, "h", 1, 1, t0-10), t0-5)
		}
		if i%2 == 0 {
			// Taken by a named principal, which the record carries: the
			// hash the state proves an expiry by must include it.
			r.Principal = tenantA.Name
		}
		seed(t, store, r)
	}
	pub := &fakePublisher{}
	sw := newSweeper(t, sweep.Config{Store: store, Publisher: pub, Now: clk.Now, PageSize: 7})

	first := run(t, sw)
	loads, _, _ := store.take()
	if sum(loads) != 30 || first.Read != 30 || first.StateLoaded {
		t.Fatalf("first run read %d records (result %+v), want all 30 once and no state", sum(loads), first)
	}

	// One held record is refreshed; nothing else changes.
	svc, err := lease.New(lease.Config{Store: store, Now: clk.Now, CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Refresh(context.Background(), lease.RefreshRequest{Principal: tenantA, DatabaseKey: "db/02", HolderID: "h", Generation: 1, TTLMs: 120_000}); err != nil {
		t.Fatal(err)
	}
	store.take() // the refresh's own read and write
	second := run(t, sw)
	loads, _, _ = store.take()
	if len(loads) != 1 || loads["db/02"] != 1 || second.Read != 1 || second.Unchanged != 29 || !second.StateLoaded {
		t.Fatalf("second run loaded %v (result %+v), want only the refreshed db/02", loads, second)
	}
	if second.Held != 10 || second.Released != 10 || second.AlreadyReported != 10 {
		t.Errorf("second run counts %+v, want 10 held, released and reported", second)
	}

	// A minute later the untouched held leases have expired: reported and
	// marked without a read; the refreshed one is still held.
	clk.SetMs(t0 + 60_000)
	third := run(t, sw)
	loads, _, writes := store.take()
	if sum(loads) != 0 || third.Reported != 9 || writes != 9 || len(pub.take()) != 9 {
		t.Fatalf("third run loaded %v, wrote %d, result %+v; want 9 reported from what was known, no reads", loads, writes, third)
	}
	// Those marks are rewrites the file listing cannot see the tags of: the
	// next run reads them once, then never again.
	fourth := run(t, sw)
	loads, _, writes = store.take()
	if sum(loads) != 9 || writes != 0 || fourth.Reported != 0 || fourth.AlreadyReported != 19 {
		t.Fatalf("fourth run loaded %d, wrote %d, result %+v; want the 9 marked records read once", sum(loads), writes, fourth)
	}
	if run(t, sw); sum(store.loads) != 0 {
		t.Fatalf("fifth run loaded %v, want nothing", store.loads)
	}
}

// Losing the state costs one run that reads every record; the marks in the
// records keep it from reporting anything again.
func TestLostStateReportsNothingTwice(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	clk := newClock(t0)
	store := file.New(file.Options{Dir: dir})
	for i := range 20 {
		seed(t, store, rec(fmt.Sprintf("k%02d", i), "h", 1, 1, t0-uint64(i)))
	}
	pub := &fakePublisher{}
	if res := run(t, newSweeper(t, sweep.Config{Store: store, Publisher: pub, Now: clk.Now})); res.Reported != 20 {
		t.Fatalf("first run %+v, want 20 reported", res)
	}
	pub.take()
	// A new store instance on a copy of the directory without the state:
	// the state is gone, the records (and their marks) are not.
	other := newCounting(file.New(file.Options{Dir: copyTree(t, dir, ".redlease-sweep")}))
	res := run(t, newSweeper(t, sweep.Config{Store: other, Publisher: pub, Now: clk.Now}))
	if res.Reported != 0 || res.AlreadyReported != 20 || res.StateLoaded || len(pub.take()) != 0 {
		t.Fatalf("run without state: %+v, want nothing reported again", res)
	}
	if loads, _, _ := other.take(); sum(loads) != 20 {
		t.Errorf("run without state read %d records, want every one once", sum(loads))
	}
}

// A state that does not decode is replaced, and the run reads everything.
func TestCorruptStateIsReplaced(t *testing.T) {
	t.Parallel()
	store := memory.New(memory.Options{})
	seed(t, store, rec("a", "h", 1, 1, t0-1))
	if _, err := store.SaveState(context.Background(), []byte("RLSW\x01not gzip"), ""); err != nil {
		t.Fatal(err)
	}
	res := run(t, newSweeper(t, sweep.Config{Store: store, Publisher: &fakePublisher{}, Now: newClock(t0).Now}))
	if res.StateLoaded || res.Reported != 1 || res.StateBytes == 0 {
		t.Fatalf("result %+v, want the run done afresh and a state saved", res)
	}
	data, _, err := store.LoadState(context.Background())
	if err != nil || string(data[:4]) != "RLSW" || len(data) < 10 {
		t.Fatalf("state after the run: %q, %v", data, err)
	}
}

// Two sweeps that overlap: the one that saves second keeps the other's
// state rather than clobbering it.
func TestStateSavedByAnotherSweepIsKept(t *testing.T) {
	t.Parallel()
	store := &racingState{Store: memory.New(memory.Options{})}
	seed(t, store, rec("a", "h", 1, 1, t0+1))
	res := run(t, newSweeper(t, sweep.Config{Store: store, Publisher: &fakePublisher{}, Now: newClock(t0).Now}))
	if res.StateBytes != 0 {
		t.Errorf("StateBytes = %d after a lost save, want 0", res.StateBytes)
	}
	if data, _, _ := store.LoadState(context.Background()); string(data) != "the other sweep's" {
		t.Errorf("state %q, want the other sweep's kept", data)
	}
}

// racingState saves another sweep's state just before this one saves.
type racingState struct{ *memory.Store }

func (r *racingState) SaveState(ctx context.Context, data []byte, expect lease.Version) (lease.Version, error) {
	if _, err := r.Store.SaveState(ctx, []byte("the other sweep's"), expect); err != nil {
		return "", err
	}
	return r.Store.SaveState(ctx, data, expect)
}

// A transient failure to read the state stops the run before it lists
// anything: the next run, a minute later, most likely reads it.
func TestUnavailableStateStopsTheRun(t *testing.T) {
	t.Parallel()
	store := &unavailableState{Store: memory.New(memory.Options{})}
	seed(t, store, rec("a", "h", 1, 1, t0-1))
	res, err := newSweeper(t, sweep.Config{Store: store, Publisher: &fakePublisher{}, Now: newClock(t0).Now}).Run(context.Background())
	if err == nil || res.Pages != 0 || res.Reported != 0 {
		t.Fatalf("Run = %+v, %v; want an error and nothing done", res, err)
	}
}

type unavailableState struct{ *memory.Store }

func (unavailableState) LoadState(context.Context) ([]byte, lease.Version, error) {
	return nil, "", lease.Unavailable(errListBroken, 0)
}

// Keys that disappear from the store leave the state at the end of the
// cycle that no longer lists them.
func TestVanishedKeysLeaveTheState(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	store := file.New(file.Options{Dir: dir})
	for i := range 5 {
		seed(t, store, rec(fmt.Sprintf("k%d", i), "h", 1, 1, t0+1))
	}
	sw := newSweeper(t, sweep.Config{Store: store, Publisher: &fakePublisher{}, Now: newClock(t0).Now})
	big := run(t, sw).StateBytes
	for i := range 4 {
		path, _ := store.RecordPath(fmt.Sprintf("k%d", i))
		removeFile(t, path)
	}
	run(t, sw)
	small := run(t, sw).StateBytes
	if small >= big || small == 0 {
		t.Errorf("state of 1 key is %d bytes, of 5 it was %d; the vanished keys were kept", small, big)
	}
}
