package sweep_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/sweep"
)

func TestDeadlineCloserThanTheMarginStartsNothing(t *testing.T) {
	t.Parallel()
	store := memory.New(memory.Options{})
	for i := range 50 {
		seed(t, store, rec(fmt.Sprintf("k%02d", i), "h", 1, 1, t0-1))
	}
	before := snapshot(t, store)
	pub := &fakePublisher{}
	sw := newSweeper(t, sweep.Config{Store: store, Publisher: pub, Now: newClock(t0).Now, DeadlineMargin: 10 * time.Second})

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := sw.Run(ctx)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !res.Truncated || res.Pages != 0 || res.Reported != 0 || pub.calls != 0 {
		t.Errorf("result %+v after %d publish calls, want truncated before the first page", res, pub.calls)
	}
	after := snapshot(t, store)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s changed: %s -> %s", k, v, after[k])
		}
	}
}

// sleepyPublisher takes a (bubble) second per call.
type sleepyPublisher struct{ fakePublisher }

func (p *sleepyPublisher) Publish(ctx context.Context, events []sweep.ExpiredEvent) []error {
	time.Sleep(time.Second)
	return p.fakePublisher.Publish(ctx, events)
}

func TestDeadlineStopsBetweenChunksWithNothingHalfDone(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		store := memory.New(memory.Options{})
		for i := range 500 {
			seed(t, store, rec(fmt.Sprintf("k%03d", i), "h", 1, 1, t0-1))
		}
		pub := &sleepyPublisher{}
		sw := newSweeper(t, sweep.Config{
			Store: store, Publisher: pub, Now: newClock(t0).Now,
			PageSize: 100, Workers: 1, DeadlineMargin: 10 * time.Second,
		})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		res, err := sw.Run(ctx)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		// One worker, one second per chunk of ten: chunks start at 0s..19s,
		// and the chunk due at 20s (deadline 30s less the 10s margin) is
		// not started.
		if !res.Truncated || res.Reported != 200 || res.Failed != 0 || res.Skipped != 0 {
			t.Fatalf("result %+v, want truncated with 200 reported", res)
		}
		if res.Reported+res.Deferred != res.Expired {
			t.Errorf("Reported %d + Deferred %d != Expired %d listed", res.Reported, res.Deferred, res.Expired)
		}
		published := keysOf(pub.take())
		marked := 0
		for _, v := range snapshot(t, store) {
			if rec, _ := decode(v); rec.ExpiryReportedMs != 0 {
				marked++
				if published[rec.DatabaseKey] != 1 {
					t.Errorf("%s marked but published %d times", rec.DatabaseKey, published[rec.DatabaseKey])
				}
			}
		}
		if marked != len(published) || marked != res.Reported {
			t.Errorf("%d marked, %d published, %d reported: a chunk was left half done", marked, len(published), res.Reported)
		}

		// The next run, with time to spare, does the rest and only the rest.
		res2, err := sw.Run(context.Background())
		if err != nil {
			t.Fatalf("second Run: %v", err)
		}
		for k := range keysOf(pub.take()) {
			if published[k] != 0 {
				t.Errorf("%s published by both runs", k)
			}
			published[k]++
		}
		if res2.Truncated || res2.Reported != 300 || len(published) != 500 {
			t.Errorf("second run %+v, %d keys published in all; want 300 more and 500 in all", res2, len(published))
		}
	})
}
