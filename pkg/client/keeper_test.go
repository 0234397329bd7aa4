package client_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redlease/redlease/pkg/client"
	"github.com/redlease/redlease/pkg/lease"
)

func waitDone(t *testing.T, k *client.Keeper) *client.LostError {
	t.Helper()
	select {
	case <-k.Done():
	case <-time.After(realTimeout):
		t.Fatal("the keeper did not report the loss")
	}
	var lost *client.LostError
	if !errors.As(k.Err(), &lost) {
		t.Fatalf("Err: got %v, want a *LostError", k.Err())
	}
	if cause := context.Cause(k.Context()); !errors.Is(cause, k.Err()) {
		t.Errorf("context cause %v, want the LostError", cause)
	}
	if _, held := k.Lease(); held {
		t.Error("Lease reports held after the loss")
	}
	return lost
}

func TestKeeperRefreshCadence(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ttl, interval time.Duration
	}{
		{9 * time.Second, 3 * time.Second},    // ttl/3
		{time.Minute, 20 * time.Second},       // RedDB's default TTL
		{2 * time.Second, time.Second},        // the 1 s floor
		{time.Second, 500 * time.Millisecond}, // never more than ttl/2
	} {
		t.Run(tc.ttl.String(), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			g := e.mustAcquire(key, "a", tc.ttl)
			refreshed := make(chan client.Grant, 10)
			k := e.c.Keep(context.Background(), g, client.KeeperOptions{OnRefresh: func(g client.Grant) { refreshed <- g }})
			defer k.Close(context.Background())
			for i := 1; i <= 3; i++ {
				if !e.clock.WaitForTimer(realTimeout, tc.interval) {
					t.Fatalf("refresh %d: pending %v, want %v", i, e.clock.Pending(), tc.interval)
				}
				e.clock.Advance(tc.interval)
				r := <-refreshed
				now := epoch.Add(time.Duration(i) * tc.interval)
				if !r.SentAt.Equal(now) || r.Lease.ExpiresAtMs != lease.UnixMs(now.Add(tc.ttl)) {
					t.Fatalf("refresh %d: sent %v expires %d, want %v and +ttl", i, r.SentAt, r.Lease.ExpiresAtMs, now)
				}
				if got := k.Deadline(); !got.Equal(now.Add(tc.ttl)) {
					t.Errorf("refresh %d: deadline %v, want %v", i, got, now.Add(tc.ttl))
				}
				if l, held := k.Lease(); !held || l.Generation != 1 {
					t.Errorf("refresh %d: Lease() = %+v, %v", i, l, held)
				}
			}
			if got := e.faults.count("refresh"); got != 3 {
				t.Errorf("refreshes: got %d, want exactly 3", got)
			}
		})
	}
}

func TestKeeperReportsStaleAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.mustAcquire(key, "a", 9*time.Second)
	k := e.c.Keep(context.Background(), g, client.KeeperOptions{})
	e.mustAcquire(key, "a", 9*time.Second) // the same holder re-acquired elsewhere: generation 2
	e.clock.WaitForTimer(realTimeout, 3*time.Second)
	e.clock.Advance(3 * time.Second)
	lost := waitDone(t, k)
	if lost.Reason != client.ReasonStale || !errors.Is(lost, lease.ErrStale) || lost.Lease.Generation != 1 {
		t.Errorf("got %v, want stale generation 1", lost)
	}
	if got := e.faults.count("refresh"); got != 1 {
		t.Errorf("refreshes: got %d, want 1: stale is final", got)
	}
	if err := k.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rec := e.stored(key); rec.Released() || rec.Generation != 2 {
		t.Errorf("Close released someone else's generation: %+v", rec.Lease)
	}
}

func TestKeeperReportsFenced(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.mustAcquire(key, "a", 9*time.Second)
	k := e.c.Keep(context.Background(), g, client.KeeperOptions{CurrentTerm: 5})
	e.clock.WaitForTimer(realTimeout, 3*time.Second)
	e.clock.Advance(3 * time.Second)
	lost := waitDone(t, k)
	var f *lease.FencedError
	if lost.Reason != client.ReasonFenced || !errors.As(lost, &f) || f.CurrentTerm != 5 || f.AttemptedTerm != 1 {
		t.Errorf("got %v (%#v), want fenced: term 1 behind 5", lost, f)
	}
	if err := k.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rec := e.stored(key); !rec.Released() {
		t.Errorf("a fenced lease is still this holder's record and Close should release it: %+v", rec.Lease)
	}
}

func TestKeeperLosesAtTheDeadlineWhileARefreshHangs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.mustAcquire(key, "a", 9*time.Second)
	k := e.c.Keep(context.Background(), g, client.KeeperOptions{})
	e.faults.add("refresh", fault{hang: true})
	e.clock.WaitForTimer(realTimeout, 3*time.Second)
	e.clock.Advance(3 * time.Second)
	// the refresh hangs; the only pending timer is the deadline, 6 s away
	if !e.clock.WaitForTimer(realTimeout, 6*time.Second) {
		t.Fatalf("pending %v, want the deadline in 6s", e.clock.Pending())
	}
	e.clock.Advance(6*time.Second - time.Millisecond)
	if _, held := k.Lease(); !held {
		t.Fatal("not held 1 ms before the deadline")
	}
	e.clock.Advance(time.Millisecond)
	if _, held := k.Lease(); held {
		t.Fatal("held at the deadline") // checked against the clock, before the loop notices
	}
	lost := waitDone(t, k)
	if lost.Reason != client.ReasonExpired || !errors.Is(lost, client.ErrDeadlinePassed) {
		t.Errorf("got %v, want expired", lost)
	}
	if !lost.Deadline.Equal(epoch.Add(9 * time.Second)) {
		t.Errorf("deadline %v, want the acquire's send time + ttl", lost.Deadline)
	}
}

func TestKeeperRetriesTransientErrorsUntilTheDeadline(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.mustAcquire(key, "a", 9*time.Second)
	retries := make(chan error, 100)
	k := e.c.Keep(context.Background(), g, client.KeeperOptions{OnRetry: func(err error, _ time.Time) { retries <- err }})
	for range 100 {
		e.faults.add("refresh", fault{status: 503, body: `{"error":{"code":"backend_unavailable","message":"x","retry_after_ms":400}}`})
	}
	// Drive the clock: to each backoff timer (those before the deadline) as
	// soon as the code under test sets one, and to the deadline once only
	// that is left.
	deadline := epoch.Add(9 * time.Second)
	for stop := time.Now().Add(realTimeout); time.Now().Before(stop); {
		select {
		case <-k.Done():
		default:
			remaining := deadline.Sub(e.clock.Now())
			if e.clock.WaitFor(time.Second, func(p []time.Duration) bool { return len(p) > 0 && p[0] < remaining }) {
				e.clock.Advance(e.clock.Pending()[0])
			} else {
				e.clock.AdvanceTo(deadline)
			}
			continue
		}
		break
	}
	lost := waitDone(t, k)
	if lost.Reason != client.ReasonExpired || !errors.Is(lost, lease.ErrUnavailable) {
		t.Errorf("got %v, want expired with the last refresh error", lost)
	}
	if now := e.clock.Now(); now.Before(epoch.Add(9 * time.Second)) {
		t.Errorf("lost at %v, before the deadline", now.Sub(epoch))
	}
	if n := e.faults.count("refresh"); n < 5 {
		t.Errorf("refresh attempts: got %d, want retries until the deadline", n)
	}
	if len(retries) == 0 {
		t.Error("OnRetry never called")
	}
}

func TestKeeperRecoversFromATransientError(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withRetry(client.RetryPolicy{MaxAttempts: 1}))
	g := e.mustAcquire(key, "a", 9*time.Second)
	refreshed := make(chan client.Grant, 1)
	k := e.c.Keep(context.Background(), g, client.KeeperOptions{OnRefresh: func(g client.Grant) { refreshed <- g }})
	defer k.Close(context.Background())
	e.faults.add("refresh", fault{reset: true})
	e.clock.WaitForTimer(realTimeout, 3*time.Second)
	e.clock.Advance(3 * time.Second)
	// the keeper's own backoff: equal jitter of the first 100 ms step with draw 0.5
	if !e.clock.WaitForTimer(realTimeout, 75*time.Millisecond) {
		t.Fatalf("pending %v, want a 75ms retry", e.clock.Pending())
	}
	e.clock.Advance(75 * time.Millisecond)
	r := <-refreshed
	if _, held := k.Lease(); !held || !k.Deadline().Equal(r.SentAt.Add(9*time.Second)) {
		t.Errorf("after recovery: held %v deadline %v", held, k.Deadline())
	}
}

// TestKeeperDeadlineIsTheClientsOwn: whatever the service's clock says, the
// Keeper's deadline is its own send time + TTL, so a service whose clock runs
// ahead cannot make the client believe in a lease that has expired.
func TestKeeperDeadlineIsTheClientsOwn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withServerSkew(time.Hour))
	g := e.mustAcquire(key, "a", 9*time.Second)
	if want := epoch.Add(time.Hour + 9*time.Second); g.Lease.ExpiresAtMs != lease.UnixMs(want) {
		t.Fatalf("server expiry %d, want its skewed clock's", g.Lease.ExpiresAtMs)
	}
	refreshed := make(chan client.Grant, 1)
	k := e.c.Keep(context.Background(), g, client.KeeperOptions{OnRefresh: func(g client.Grant) { refreshed <- g }})
	defer k.Close(context.Background())
	if !k.Deadline().Equal(epoch.Add(9 * time.Second)) {
		t.Fatalf("deadline %v, want send time + ttl", k.Deadline())
	}
	// a refresh that takes 2 s to arrive: the deadline counts from its send
	e.faults.add("refresh", fault{advance: 2 * time.Second})
	e.clock.WaitForTimer(realTimeout, 3*time.Second)
	e.clock.Advance(3 * time.Second)
	<-refreshed
	if want := epoch.Add(3*time.Second + 9*time.Second); !k.Deadline().Equal(want) {
		t.Errorf("deadline %v, want %v (send time 3 s + ttl, not arrival 5 s)", k.Deadline().Sub(epoch), want.Sub(epoch))
	}
}

func TestKeeperDoesNotTrustARefreshAnsweredAfterTheDeadline(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.mustAcquire(key, "a", 9*time.Second)
	k := e.c.Keep(context.Background(), g, client.KeeperOptions{})
	e.faults.add("refresh", fault{advance: 7 * time.Second}) // arrives at 10 s, past the 9 s deadline
	e.clock.WaitForTimer(realTimeout, 3*time.Second)
	e.clock.Advance(3 * time.Second)
	lost := waitDone(t, k)
	if lost.Reason != client.ReasonExpired {
		t.Errorf("got %v, want expired", lost)
	}
}

func TestKeeperCloseReleases(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.mustAcquire(key, "a", 9*time.Second)
	k := e.c.Keep(context.Background(), g, client.KeeperOptions{})
	if err := k.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	lost := waitDone(t, k)
	if lost.Reason != client.ReasonClosed || !errors.Is(lost, client.ErrKeeperClosed) {
		t.Errorf("got %v, want closed", lost)
	}
	if rec := e.stored(key); !rec.Released() {
		t.Errorf("not released: %+v", rec.Lease)
	}
	if err := k.Close(context.Background()); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if got := e.faults.count("release"); got != 1 {
		t.Errorf("releases: got %d, want 1", got)
	}
}

func TestKeeperStopsWithItsParentContext(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.mustAcquire(key, "a", 9*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	k := e.c.Keep(ctx, g, client.KeeperOptions{})
	cancel()
	lost := waitDone(t, k)
	if lost.Reason != client.ReasonClosed || !errors.Is(lost, context.Canceled) {
		t.Errorf("got %v, want closed by the parent", lost)
	}
	if rec := e.stored(key); rec.Released() {
		t.Error("released without Close")
	}
	if err := k.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rec := e.stored(key); !rec.Released() {
		t.Error("Close did not release")
	}
}
