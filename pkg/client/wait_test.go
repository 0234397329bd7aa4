package client_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/redlease/redlease/pkg/client"
	"github.com/redlease/redlease/pkg/lease"
)

const realTimeout = 5 * time.Second // bound on waiting for goroutines, never on lease time

type waitResult struct {
	g   client.Grant
	err error
}

func startWait(e *env, holder string, o *client.WaitOptions) <-chan waitResult {
	ch := make(chan waitResult, 1)
	go func() {
		g, err := e.c.Wait(context.Background(), client.AcquireRequest{DatabaseKey: key, HolderID: holder, TTL: 10 * time.Second}, o)
		ch <- waitResult{g, err}
	}()
	return ch
}

func TestWaitSleepsUntilExpiryPlusJitterThenAcquires(t *testing.T) {
	t.Parallel()
	e := newEnv(t) // Rand is 0.5
	e.mustAcquire(key, "a", 10*time.Second)
	e.clock.Advance(4 * time.Second)

	done := startWait(e, "b", &client.WaitOptions{MaxJitter: 200 * time.Millisecond})
	// 6 s left on a's lease, +1 ms to be past expires_at, +0.5*200 ms jitter
	want := 6*time.Second + time.Millisecond + 100*time.Millisecond
	if !e.clock.WaitForTimer(realTimeout, want) {
		t.Fatalf("pending timers %v, want one of %v", e.clock.Pending(), want)
	}
	if got := e.faults.count("acquire"); got != 2 {
		t.Fatalf("acquires before sleeping: got %d, want 2 (a's, and b's refused one)", got)
	}
	e.clock.Advance(want - time.Millisecond)
	select {
	case r := <-done:
		t.Fatalf("Wait returned %+v before its sleep ended", r)
	case <-time.After(20 * time.Millisecond):
	}
	e.clock.Advance(time.Millisecond)
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.g.Lease.HolderID != "b" || r.g.Lease.Generation != 2 {
		t.Errorf("got %+v, want b's generation 2", r.g.Lease)
	}
	if got := e.faults.count("acquire"); got != 3 {
		t.Errorf("acquires: got %d, want 3: one request per expiry, no polling", got)
	}
}

func TestWaitFollowsAHolderThatRefreshes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustAcquire(key, "a", 10*time.Second)
	var mu sync.Mutex
	var sleeps []time.Duration
	done := startWait(e, "b", &client.WaitOptions{MaxJitter: 200 * time.Millisecond,
		OnHeld: func(h *lease.HeldError, d time.Duration) { mu.Lock(); sleeps = append(sleeps, d); mu.Unlock() }})
	first := 10*time.Second + 101*time.Millisecond
	if !e.clock.WaitForTimer(realTimeout, first) {
		t.Fatalf("pending %v, want %v", e.clock.Pending(), first)
	}
	e.clock.Advance(3 * time.Second)
	if _, err := e.c.Refresh(context.Background(), client.RefreshRequest{DatabaseKey: key, HolderID: "a", Generation: 1, TTL: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(first - 3*time.Second) // b wakes at 10.101 s; a now runs to 13 s
	second := 13*time.Second - first + 101*time.Millisecond
	if !e.clock.WaitForTimer(realTimeout, second) {
		t.Fatalf("pending %v, want %v", e.clock.Pending(), second)
	}
	e.clock.Advance(second)
	r := <-done
	if r.err != nil || r.g.Lease.HolderID != "b" {
		t.Fatalf("got %+v, %v", r.g.Lease, r.err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sleeps) != 2 || sleeps[0] != first || sleeps[1] != second {
		t.Errorf("sleeps: got %v, want [%v %v]", sleeps, first, second)
	}
}

func TestWaitJitterSpreadsWaiters(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		draw float64
		want time.Duration
	}{
		{0, 10*time.Second + time.Millisecond},
		{0.5, 10*time.Second + time.Millisecond + 250*time.Millisecond},
		{0.999, 10*time.Second + time.Millisecond + 499500*time.Microsecond},
	} {
		e := newEnv(t, withRand(func() float64 { return tc.draw }))
		e.mustAcquire(key, "a", 10*time.Second)
		var got time.Duration
		ctx, cancel := context.WithCancel(context.Background())
		_, err := e.c.Wait(ctx, client.AcquireRequest{DatabaseKey: key, HolderID: "b", TTL: 10 * time.Second},
			&client.WaitOptions{MaxJitter: 500 * time.Millisecond, OnHeld: func(_ *lease.HeldError, d time.Duration) { got = d; cancel() }})
		if !errors.Is(err, context.Canceled) || !errors.Is(err, lease.ErrHeld) {
			t.Errorf("draw %v: got %v, want Canceled wrapping the held refusal", tc.draw, err)
		}
		if got != tc.want {
			t.Errorf("draw %v: sleep %v, want %v", tc.draw, got, tc.want)
		}
	}
}

func TestWaitEndsOnFencedAndRetriesTransient(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.clock.AutoAdvance(true)
	if _, err := e.c.Acquire(context.Background(), client.AcquireRequest{DatabaseKey: key, HolderID: "a", TTL: time.Second, Term: 4}); err != nil {
		t.Fatal(err)
	}
	_, err := e.c.Wait(context.Background(), client.AcquireRequest{DatabaseKey: key, HolderID: "b", TTL: time.Second, Term: 2}, nil)
	if !errors.Is(err, lease.ErrFenced) {
		t.Fatalf("got %v, want fenced at once", err)
	}

	for range 6 { // more than one Acquire's four attempts
		e.faults.add("acquire", fault{status: 503, body: `{"error":{"code":"backend_unavailable","message":"x","retry_after_ms":100}}`})
	}
	g, err := e.c.Wait(context.Background(), client.AcquireRequest{DatabaseKey: "other", HolderID: "b", TTL: time.Second}, nil)
	if err != nil || g.Lease.Generation != 1 {
		t.Fatalf("got %+v, %v; want the lease after the storage recovered", g.Lease, err)
	}
}

func TestWaitTimesOutWhileHeld(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustAcquire(key, "a", time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := e.c.Wait(ctx, client.AcquireRequest{DatabaseKey: key, HolderID: "b", TTL: time.Minute}, nil)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, lease.ErrHeld) {
		t.Fatalf("got %v, want DeadlineExceeded and held", err)
	}
}
