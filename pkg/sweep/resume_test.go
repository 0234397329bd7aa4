package sweep_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/sweep"
)

// slowLister takes a (bubble) second per listing call, and per read when
// the listing gives no records.
type slowLister struct {
	*memory.Store
	tagsOnly bool
}

func (s *slowLister) List(ctx context.Context, cursor string, limit int) (lease.Page, error) {
	time.Sleep(time.Second)
	page, err := s.Store.List(ctx, cursor, limit)
	if s.tagsOnly {
		for i := range page.Entries {
			page.Entries[i].Record, page.Entries[i].Version = nil, ""
		}
	}
	return page, err
}

func (s *slowLister) Load(ctx context.Context, key string) (lease.Versioned, error) {
	if s.tagsOnly {
		time.Sleep(time.Second)
	}
	return s.Store.Load(ctx, key)
}

// runWithin runs one sweep with d before its deadline and a 10 s margin.
func runWithin(t *testing.T, sw *sweep.Sweeper, d time.Duration) sweep.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	res, err := sw.Run(ctx)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}

// A run that runs out of time leaves its cursor at the page it stopped
// on; the next run continues there instead of at the first key, finishes
// the cycle and spends what time is left on a new one.
func TestTruncatedRunContinuesWhereTheLastStopped(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		store := &slowLister{Store: memory.New(memory.Options{})}
		for i := range 100 {
			seed(t, store, rec(fmt.Sprintf("k%03d", i), "h", 1, 1, t0-1))
		}
		pub := &fakePublisher{}
		sw := newSweeper(t, sweep.Config{Store: store, Publisher: pub, Now: newClock(t0).Now, PageSize: 10, DeadlineMargin: 10 * time.Second})
		// 14.5 s before the deadline, less the margin: four pages.
		first := runWithin(t, sw, 14500*time.Millisecond)
		if !first.Truncated || first.Resumed || first.CyclesCompleted != 0 || first.Reported != 40 {
			t.Fatalf("first run %+v, want 40 reported and truncated", first)
		}
		second := runWithin(t, sw, 14500*time.Millisecond)
		if !second.Resumed || second.Reported != 40 || second.CyclesCompleted != 0 {
			t.Fatalf("second run %+v, want it to continue after the first 40 and report 40 more", second)
		}
		third := runWithin(t, sw, 14500*time.Millisecond)
		if !third.Resumed || third.Reported != 20 || third.CyclesCompleted != 1 || third.AlreadyReported != 20 {
			t.Fatalf("third run %+v, want the last 20 reported, the cycle done, and a new one begun on the first 20", third)
		}
		published := keysOf(pub.take())
		if len(published) != 100 {
			t.Fatalf("%d keys published in three runs, want all 100", len(published))
		}
		for k, n := range published {
			if n != 1 {
				t.Errorf("%s published %d times", k, n)
			}
		}
	})
}

// The bound: with every run getting through K of the N pages, a cycle takes
// ceil(N/K) runs, so a lease is reported at most ceil(N/K)+1 runs after the
// one during which it expired, however many keys there are. (A sweep that
// began every run at the first key never reached the tail.)
func TestEveryExpiryIsReportedWithinTheBound(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const pages, perPage, perRun = 20, 5, 4
		clk := newClock(t0)
		store := &slowLister{Store: memory.New(memory.Options{})}
		// Key i expires during run i%runs: spread over the cycle's
		// positions and its times.
		const runs = 12
		for i := range pages * perPage {
			seed(t, store, rec(fmt.Sprintf("k%03d", i), "h", 1, 1, t0+uint64(i%runs)*60_000+30_000))
		}
		pub := &fakePublisher{}
		sw := newSweeper(t, sweep.Config{Store: store, Publisher: pub, Now: clk.Now, PageSize: perPage, DeadlineMargin: 10 * time.Second})
		bound := (pages+perRun-1)/perRun + 1
		reportedAt := map[string]int{}
		for r := 1; r <= runs+bound; r++ {
			clk.SetMs(t0 + uint64(r)*60_000)
			runWithin(t, sw, (10+perRun)*time.Second+500*time.Millisecond)
			for k := range keysOf(pub.take()) {
				if _, dup := reportedAt[k]; dup {
					t.Errorf("%s reported twice", k)
				}
				reportedAt[k] = r
			}
		}
		for i := range pages * perPage {
			k := fmt.Sprintf("k%03d", i)
			expiredDuring := i % runs // expired between run i%runs and the next
			at, ok := reportedAt[k]
			switch {
			case !ok:
				t.Errorf("%s (expired after run %d) never reported", k, expiredDuring)
			case at-expiredDuring > bound:
				t.Errorf("%s expired after run %d, reported in run %d: more than %d runs", k, expiredDuring, at, bound)
			}
		}
	})
}

// Reads the budget did not reach are deferred: the page is swept again
// next run, and the reads already done are not repeated.
func TestDeferredReadsAreNotRepeated(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		store := &slowLister{Store: memory.New(memory.Options{}), tagsOnly: true}
		for i := range 10 {
			seed(t, store, rec(fmt.Sprintf("k%d", i), "h", 1, 1, t0+60_000))
		}
		sw := newSweeper(t, sweep.Config{Store: store, Publisher: &fakePublisher{}, Now: newClock(t0).Now, Workers: 1, DeadlineMargin: 10 * time.Second})
		first := runWithin(t, sw, 15500*time.Millisecond) // 1 s listing, then five 1 s reads, one at a time
		if !first.Truncated || first.Read != 5 || first.Deferred != 5 {
			t.Fatalf("first run %+v, want 5 read and 5 deferred", first)
		}
		second := runWithin(t, sw, time.Minute)
		if second.Truncated || second.Read != 5 || second.Unchanged != 5 || second.Held != 10 {
			t.Fatalf("second run %+v, want the other 5 read and the first 5 known", second)
		}
	})
}

// invalidCursor refuses every cursor but "", as a backend whose cursor
// format changed would.
type invalidCursor struct{ *memory.Store }

func (s invalidCursor) List(ctx context.Context, cursor string, limit int) (lease.Page, error) {
	if cursor != "" {
		return lease.Page{}, &lease.InvalidError{Field: "cursor", Reason: "not ours"}
	}
	return s.Store.List(ctx, cursor, limit)
}

func TestUnusableCursorStartsANewCycle(t *testing.T) {
	t.Parallel()
	inner := memory.New(memory.Options{})
	seed(t, inner, rec("a", "h", 1, 1, t0-1))
	// A state saved mid-cycle, under a cursor format the next run's
	// backend no longer accepts.
	synctest.Test(t, func(t *testing.T) {
		slow := &slowLister{Store: inner}
		for i := range 3 {
			seed(t, slow, rec(fmt.Sprintf("b%d", i), "h", 1, 1, t0+1))
		}
		s := newSweeper(t, sweep.Config{Store: slow, Publisher: &fakePublisher{}, Now: newClock(t0).Now, PageSize: 1, DeadlineMargin: 10 * time.Second})
		if res := runWithin(t, s, 12*time.Second); !res.Truncated {
			t.Fatalf("set-up run %+v, want it cut mid-cycle", res)
		}
	})
	res, err := newSweeper(t, sweep.Config{Store: invalidCursor{inner}, Publisher: &fakePublisher{}, Now: newClock(t0).Now}).Run(context.Background())
	if err != nil || res.Resumed || res.CyclesCompleted != 1 || res.Listed != 4 {
		t.Fatalf("Run = %+v, %v; want a fresh cycle over all 4 keys", res, err)
	}
}
