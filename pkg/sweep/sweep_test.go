package sweep_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/sweep"
)

func TestNewRequiresStoreAndPublisher(t *testing.T) {
	t.Parallel()
	if _, err := sweep.New(sweep.Config{Publisher: &fakePublisher{}}); err == nil {
		t.Error("New without Store: got nil error")
	}
	if _, err := sweep.New(sweep.Config{Store: memory.New(memory.Options{})}); err == nil {
		t.Error("New without Publisher: got nil error")
	}
}

func TestWhichRecordsAreReported(t *testing.T) {
	t.Parallel()
	now := t0 + 3_600_000
	tests := []struct {
		name   string
		rec    lease.Record
		report bool
		state  string
	}{
		{"held", rec("k", "h", 1, 1, now+1), false, "held"},
		{"expires exactly now", rec("k", "h", 1, 1, now), true, "expired"},
		{"expired a minute ago", rec("k", "h", 1, 1, now-60_000), true, "expired"},
		{"released before expiry", released(rec("k", "h", 1, 1, now+60_000), now-10), false, "released"},
		{"released after expiry", released(rec("k", "h", 1, 1, now-60_000), now-10), false, "released"},
		{"expired, already reported", reported(rec("k", "h", 1, 1, now-60_000), now-30_000), false, "expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store := memory.New(memory.Options{})
			seed(t, store, tt.rec)
			before, _ := store.Raw("k")
			pub := &fakePublisher{}
			res := run(t, newSweeper(t, sweep.Config{Store: store, Publisher: pub, Now: newClock(now).Now}))

			events := pub.take()
			if got := len(events) == 1; got != tt.report {
				t.Fatalf("published %d events, want report=%v", len(events), tt.report)
			}
			after, _ := store.Raw("k")
			if !tt.report && string(after) != string(before) {
				t.Errorf("unreported record changed:\n got %s\nwant %s", after, before)
			}
			counts := map[string]int{"held": res.Held, "expired": res.Expired, "released": res.Released}
			for state, n := range counts {
				want := 0
				if state == tt.state {
					want = 1
				}
				if n != want {
					t.Errorf("%s count = %d, want %d (result %+v)", state, n, want, res)
				}
			}
			wantReported := 0
			if tt.report {
				wantReported = 1
			}
			if res.Reported != wantReported || res.Listed != 1 {
				t.Errorf("Reported = %d, Listed = %d; want %d, 1", res.Reported, res.Listed, wantReported)
			}
		})
	}
}

func TestExpiredReportedOnceAcrossRuns(t *testing.T) {
	t.Parallel()
	clk := newClock(t0)
	store := memory.New(memory.Options{})
	seed(t, store,
		rec("a/expired", "h1", 2, 5, t0-1000),
		rec("b/held", "h2", 1, 1, t0+60_000),
		released(rec("c/released", "h3", 1, 3, t0-5000), t0-6000),
		rec("d/expired", "h4", 7, 9, t0-90_000),
	)
	pub := &fakePublisher{}
	sw := newSweeper(t, sweep.Config{Store: store, Publisher: pub, Now: clk.Now, PageSize: 2})

	first := run(t, sw)
	if got := keysOf(pub.take()); len(got) != 2 || got["a/expired"] != 1 || got["d/expired"] != 1 {
		t.Fatalf("first run published %v, want a/expired and d/expired once each", got)
	}
	want := sweep.Result{Listed: 4, Held: 1, Expired: 2, Released: 1, Reported: 2, OldestExpiredAgeMs: 90_000, Pages: 2, CyclesCompleted: 1}
	if first.StateBytes == 0 {
		t.Error("first run saved no state")
	}
	first.DurationMs, first.StateBytes = 0, 0
	if first != want {
		t.Errorf("first run result\n got %+v\nwant %+v", first, want)
	}
	for _, key := range []string{"a/expired", "d/expired"} {
		if got := mustLoad(t, store, key).Record.ExpiryReportedMs; got != t0 {
			t.Errorf("%s ExpiryReportedMs = %d, want %d", key, got, t0)
		}
	}

	clk.SetMs(t0 + 120_000) // b/held has expired meanwhile
	second := run(t, sw)
	if got := keysOf(pub.take()); len(got) != 1 || got["b/held"] != 1 {
		t.Fatalf("second run published %v, want only b/held", got)
	}
	if second.Reported != 1 || second.AlreadyReported != 2 || second.Expired != 3 {
		t.Errorf("second run: Reported %d AlreadyReported %d Expired %d, want 1 2 3", second.Reported, second.AlreadyReported, second.Expired)
	}
	if second.OldestExpiredAgeMs != 210_000 {
		t.Errorf("second run OldestExpiredAgeMs = %d, want 210000", second.OldestExpiredAgeMs)
	}

	third := run(t, sw)
	if got := pub.take(); len(got) != 0 {
		t.Errorf("third run published %d events, want none", len(got))
	}
	if third.Reported != 0 || third.AlreadyReported != 3 {
		t.Errorf("third run: Reported %d AlreadyReported %d, want 0 3", third.Reported, third.AlreadyReported)
	}
}

func TestEventContent(t *testing.T) {
	t.Parallel()
	now := t0 + 1234
	store := memory.New(memory.Options{})
	r := rec("clusters/dev/data.rdb", "reddb-0-1", 3, 17, t0)
	r.AcquiredAtMs = t0 - 60_000
	seed(t, store, r)
	pub := &fakePublisher{}
	run(t, newSweeper(t, sweep.Config{Store: store, Publisher: pub, Now: newClock(now).Now}))
	events := pub.take()
	if len(events) != 1 {
		t.Fatalf("published %d events, want 1", len(events))
	}
	want := sweep.ExpiredEvent{
		DatabaseKey: "clusters/dev/data.rdb", HolderID: "reddb-0-1", Term: 3, Generation: 17,
		AcquiredAtMs: t0 - 60_000, ExpiresAtMs: t0, ExpiredAt: "2026-01-01T00:00:00.000Z",
		ExpiredForMs: 1234, EventID: sweep.EventID("clusters/dev/data.rdb", 17, t0),
	}
	if events[0] != want {
		t.Errorf("event\n got %+v\nwant %+v", events[0], want)
	}
}

func TestRefreshedThenExpiredAgainIsReportedAgain(t *testing.T) {
	t.Parallel()
	clk := newClock(t0)
	store := memory.New(memory.Options{})
	svc, err := lease.New(lease.Config{Store: store, Now: clk.Now, CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const key = "clusters/dev/data.rdb"
	l, err := svc.Acquire(ctx, lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: key, HolderID: "a", TTLMs: 10_000, Term: 1})
	if err != nil {
		t.Fatal(err)
	}
	pub := &fakePublisher{}
	sw := newSweeper(t, sweep.Config{Store: store, Publisher: pub, Now: clk.Now})

	clk.SetMs(t0 + 10_000)
	run(t, sw)
	first := pub.take()
	if len(first) != 1 || first[0].ExpiresAtMs != t0+10_000 || first[0].Generation != l.Generation {
		t.Fatalf("after first expiry published %+v, want one event for expires_at %d", first, t0+10_000)
	}

	// RedDB's refresh does not look at expiry: the holder revives its lease.
	if _, err := svc.Refresh(ctx, lease.RefreshRequest{Principal: lease.Anonymous, DatabaseKey: key, HolderID: "a", Generation: l.Generation, TTLMs: 10_000}); err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if got := mustLoad(t, store, key).Record.ExpiryReportedMs; got != 0 {
		t.Fatalf("refresh kept ExpiryReportedMs = %d; the service must clear it", got)
	}
	if res := run(t, sw); res.Held != 1 || len(pub.take()) != 0 {
		t.Fatalf("refreshed lease: held %d, want 1 and no event", res.Held)
	}

	clk.SetMs(t0 + 20_000)
	run(t, sw)
	second := pub.take()
	if len(second) != 1 || second[0].ExpiresAtMs != t0+20_000 {
		t.Fatalf("after second expiry published %+v, want one event for expires_at %d", second, t0+20_000)
	}
	if second[0].EventID == first[0].EventID {
		t.Errorf("second expiry reuses event_id %s of the first", first[0].EventID)
	}

	// A takeover makes a new generation, whose own expiry is reported too.
	clk.SetMs(t0 + 30_000)
	l2, err := svc.Acquire(ctx, lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: key, HolderID: "b", TTLMs: 5_000, Term: 2})
	if err != nil {
		t.Fatal(err)
	}
	clk.SetMs(t0 + 40_000)
	run(t, sw)
	third := pub.take()
	if len(third) != 1 || third[0].Generation != l2.Generation || third[0].HolderID != "b" || third[0].Term != 2 {
		t.Fatalf("after takeover expiry published %+v, want holder b generation %d term 2", third, l2.Generation)
	}
	run(t, sw)
	if got := pub.take(); len(got) != 0 {
		t.Errorf("a run after everything was reported published %d events", len(got))
	}
}

func TestPublishFailureIsRetriedNextRun(t *testing.T) {
	t.Parallel()
	store := memory.New(memory.Options{})
	seed(t, store, rec("ok", "h", 1, 1, t0-10), rec("flaky", "h", 1, 4, t0-20))
	before, _ := store.Raw("flaky")
	pub := &fakePublisher{fail: func(e sweep.ExpiredEvent) error {
		if e.DatabaseKey == "flaky" {
			return errors.New("ThrottlingException: rate exceeded")
		}
		return nil
	}}
	sw := newSweeper(t, sweep.Config{Store: store, Publisher: pub, Now: newClock(t0).Now})

	res := run(t, sw)
	if res.Reported != 1 || res.Failed != 1 {
		t.Fatalf("first run Reported %d Failed %d, want 1 1", res.Reported, res.Failed)
	}
	if after, _ := store.Raw("flaky"); string(after) != string(before) {
		t.Fatalf("a record whose publish failed was written:\n got %s\nwant %s", after, before)
	}
	pub.take()

	pub.mu.Lock()
	pub.fail = nil
	pub.mu.Unlock()
	res = run(t, sw)
	got := pub.take()
	if len(got) != 1 || got[0].DatabaseKey != "flaky" || res.Reported != 1 || res.Failed != 0 {
		t.Fatalf("second run published %+v (result %+v), want flaky once", got, res)
	}
	if mustLoad(t, store, "flaky").Record.ExpiryReportedMs == 0 {
		t.Error("flaky not marked after its successful publish")
	}
}

// badCountPublisher breaks the Publisher contract by answering fewer results.
type badCountPublisher struct{ fakePublisher }

func (p *badCountPublisher) Publish(ctx context.Context, events []sweep.ExpiredEvent) []error {
	p.fakePublisher.Publish(ctx, events)
	return nil
}

func TestPublisherAnsweringTooFewResultsMarksNothing(t *testing.T) {
	t.Parallel()
	store := memory.New(memory.Options{})
	seed(t, store, rec("a", "h", 1, 1, t0-10), rec("b", "h", 1, 1, t0-10))
	res := run(t, newSweeper(t, sweep.Config{Store: store, Publisher: &badCountPublisher{}, Now: newClock(t0).Now}))
	if res.Failed != 2 || res.Reported != 0 {
		t.Errorf("Failed %d Reported %d, want 2 0", res.Failed, res.Reported)
	}
	for _, k := range []string{"a", "b"} {
		if mustLoad(t, store, k).Record.ExpiryReportedMs != 0 {
			t.Errorf("%s marked although the publisher confirmed nothing", k)
		}
	}
}

func TestThousandsOfKeysPaginated(t *testing.T) {
	t.Parallel()
	const n = 5000
	now := t0 + 1_000_000
	store := memory.New(memory.Options{})
	wantExpired := make(map[string]bool)
	for i := range n {
		key := fmt.Sprintf("tenant-%d/db-%04d.rdb", i%13, i)
		expires := now + 1000
		if i%3 != 0 {
			expires = now - uint64(i)
			wantExpired[key] = true
		}
		seed(t, store, rec(key, "h", 1, 1, expires))
	}
	pub := &fakePublisher{}
	sw := newSweeper(t, sweep.Config{Store: store, Publisher: pub, Now: newClock(now).Now, PageSize: 100})
	res := run(t, sw)

	got := keysOf(pub.take())
	for key, count := range got {
		if !wantExpired[key] || count != 1 {
			t.Errorf("%s published %d times; expired=%v", key, count, wantExpired[key])
		}
	}
	if len(got) != len(wantExpired) || res.Reported != len(wantExpired) {
		t.Errorf("published %d distinct keys, Reported %d, want %d", len(got), res.Reported, len(wantExpired))
	}
	if res.Pages != n/100 || res.Listed != n || res.Held != n-len(wantExpired) || res.Truncated {
		t.Errorf("result %+v, want %d pages, %d listed, not truncated", res, n/100, n)
	}
	if res := run(t, sw); res.Reported != 0 || res.AlreadyReported != len(wantExpired) || len(pub.take()) != 0 {
		t.Errorf("second run %+v reported again", res)
	}
}

func TestListFailureIsReturnedWithPartialResult(t *testing.T) {
	t.Parallel()
	inner := memory.New(memory.Options{})
	for i := range 10 {
		seed(t, inner, rec(fmt.Sprintf("k%02d", i), "h", 1, 1, t0-1))
	}
	store := &failingLister{Store: inner, okPages: 1}
	sink := &fakeSink{}
	res, err := newSweeper(t, sweep.Config{Store: store, Publisher: &fakePublisher{}, Now: newClock(t0).Now, PageSize: 4, Metrics: sink}).Run(context.Background())
	if !errors.Is(err, errListBroken) || !errors.Is(err, lease.ErrUnavailable) {
		t.Fatalf("Run error = %v, want the listing failure", err)
	}
	if !strings.Contains(err.Error(), "page 2") {
		t.Errorf("error %q does not say which page failed", err)
	}
	if res.Pages != 1 || res.Reported != 4 {
		t.Errorf("result %+v, want the first page's 4 records reported", res)
	}
	if len(sink.records) != 1 {
		t.Errorf("metrics emitted %d times on a failed run, want 1", len(sink.records))
	}
}

// stuckLister returns the same non-empty cursor forever.
type stuckLister struct{ *memory.Store }

func (s stuckLister) List(ctx context.Context, cursor string, limit int) (lease.Page, error) {
	p, err := s.Store.List(ctx, "", limit)
	p.Next = "same"
	return p, err
}

func TestCursorThatDoesNotAdvanceIsAnError(t *testing.T) {
	t.Parallel()
	store := stuckLister{memory.New(memory.Options{})}
	seed(t, store, rec("a", "h", 1, 1, t0+1))
	_, err := newSweeper(t, sweep.Config{Store: store, Publisher: &fakePublisher{}, Now: newClock(t0).Now}).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "did not advance") {
		t.Errorf("Run error = %v, want a cursor that did not advance", err)
	}
}
