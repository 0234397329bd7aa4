package client_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/redlease/redlease/pkg/client"
	"github.com/redlease/redlease/pkg/lease"
)

func TestRetryHonoursServerHints(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		faults []fault
		// wantMin is the least each sleep must last (the server's hint).
		wantMin []time.Duration
	}{
		{
			name: "503 with retry_after_ms",
			faults: []fault{
				{status: 503, body: `{"error":{"code":"backend_unavailable","message":"x","retry_after_ms":700}}`},
				{status: 503, body: `{"error":{"code":"backend_unavailable","message":"x","retry_after_ms":1500}}`},
			},
			wantMin: []time.Duration{700 * time.Millisecond, 1500 * time.Millisecond},
		},
		{
			name:    "503 with only a Retry-After header",
			faults:  []fault{{status: 503, header: map[string]string{"Retry-After": "3"}, body: `{"error":{"code":"backend_unavailable","message":"x"}}`}},
			wantMin: []time.Duration{3 * time.Second},
		},
		{
			name:    "lost_race",
			faults:  []fault{{status: 409, body: `{"error":{"code":"lost_race","message":"x","retry_after_ms":100}}`}},
			wantMin: []time.Duration{100 * time.Millisecond},
		},
		{
			name:    "API Gateway throttling 429",
			faults:  []fault{{status: 429, header: map[string]string{"Retry-After": "2"}, body: `{"message":"Too Many Requests"}`}},
			wantMin: []time.Duration{2 * time.Second},
		},
		{
			name:    "502 from the gateway, no hint",
			faults:  []fault{{status: 502, body: `{"message":"Internal server error"}`}},
			wantMin: []time.Duration{50 * time.Millisecond}, // half the first 100 ms step
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.clock.AutoAdvance(true)
			e.faults.add("acquire", tc.faults...)
			g, err := e.c.Acquire(context.Background(), client.AcquireRequest{DatabaseKey: key, HolderID: "a", TTL: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			if g.Lease.Generation != 1 {
				t.Errorf("generation: got %d, want 1", g.Lease.Generation)
			}
			slept := e.clock.Slept()
			if len(slept) != len(tc.wantMin) {
				t.Fatalf("sleeps: got %v, want %d", slept, len(tc.wantMin))
			}
			for i, d := range slept {
				// at least the hint, at most the hint plus one backoff step of jitter
				if d < tc.wantMin[i] || d > tc.wantMin[i]+2*time.Second {
					t.Errorf("sleep %d: got %v, want %v plus jitter", i, d, tc.wantMin[i])
				}
			}
			if got := e.faults.count("acquire"); got != len(tc.faults)+1 {
				t.Errorf("attempts: got %d, want %d", got, len(tc.faults)+1)
			}
			// the grant's send time is the successful attempt's, after the sleeps
			if !g.SentAt.Equal(e.clock.Now()) {
				t.Errorf("SentAt: got %v, want the last attempt's %v", g.SentAt, e.clock.Now())
			}
		})
	}
}

func TestBackoffIsJitteredAndBounded(t *testing.T) {
	t.Parallel()
	draws := []float64{0, 0.99, 0.5, 0.25, 0.75}
	i := 0
	e := newEnv(t, withRetry(client.RetryPolicy{MaxAttempts: 6, BaseDelay: 100 * time.Millisecond, MaxDelay: 400 * time.Millisecond}),
		withRand(func() float64 { d := draws[i%len(draws)]; i++; return d }))
	e.clock.AutoAdvance(true)
	for range 10 {
		e.faults.add("get", fault{status: 502})
	}
	_, err := e.c.Get(context.Background(), key)
	if !errors.Is(err, lease.ErrUnavailable) {
		t.Fatalf("got %v, want ErrUnavailable after the last attempt", err)
	}
	if errors.Is(err, client.ErrOutcomeUnknown) {
		t.Errorf("a read has no unknown outcome: %v", err)
	}
	if got := e.faults.count("get"); got != 6 {
		t.Errorf("attempts: got %d, want MaxAttempts 6", got)
	}
	// equal jitter: step/2 + draw*step/2, steps 100, 200, 400, 400, 400 ms
	want := []time.Duration{50 * time.Millisecond, 199 * time.Millisecond, 300 * time.Millisecond, 250 * time.Millisecond, 350 * time.Millisecond}
	got := e.clock.Slept()
	if !slices.Equal(got, want) {
		t.Errorf("sleeps: got %v, want %v", got, want)
	}
}

func TestNoRetryWhenTheDeadlineIsTooClose(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.faults.add("acquire", fault{status: 503, body: `{"error":{"code":"backend_unavailable","message":"x","retry_after_ms":60000}}`})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	_, err := e.c.Acquire(ctx, client.AcquireRequest{DatabaseKey: key, HolderID: "a", TTL: time.Minute})
	if !errors.Is(err, lease.ErrUnavailable) || time.Since(start) > 2*time.Second {
		t.Fatalf("got %v after %v, want ErrUnavailable at once: the hint outlasts the deadline", err, time.Since(start))
	}
}

func TestContextCancelsAHungRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.faults.add("refresh", fault{hang: true})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := e.c.Refresh(ctx, client.RefreshRequest{DatabaseKey: key, HolderID: "a", Generation: 1, TTL: time.Minute})
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, client.ErrOutcomeUnknown) {
		t.Fatalf("got %v, want DeadlineExceeded and ErrOutcomeUnknown (the request was sent)", err)
	}
	if got := e.faults.count("refresh"); got != 1 {
		t.Errorf("attempts: got %d, want 1", got)
	}
}

func TestConnectionRefusedIsRetriedAndNotAmbiguous(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.clock.AutoAdvance(true)
	e.srv.Close() // nothing listens any more: dialing fails, nothing was sent
	_, err := e.c.Acquire(context.Background(), client.AcquireRequest{DatabaseKey: key, HolderID: "a", TTL: time.Minute})
	if !errors.Is(err, lease.ErrUnavailable) {
		t.Fatalf("got %v, want ErrUnavailable", err)
	}
	if errors.Is(err, client.ErrOutcomeUnknown) {
		t.Errorf("a refused connection never sent the request: %v", err)
	}
	if got := len(e.clock.Slept()); got != 3 {
		t.Errorf("retries: got %d sleeps, want 3 (4 attempts)", got)
	}
}

// TestAmbiguousFailures breaks the connection after the service applied a
// write, so the client never sees the answer, and checks what each method
// promises in the package doc.
func TestAmbiguousFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("acquire: the retry supersedes the unseen generation", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.clock.AutoAdvance(true)
		e.faults.add("acquire", fault{resetAfter: true})
		g := e.mustAcquire(key, "a", time.Minute)
		if g.Lease.Generation != 2 {
			t.Fatalf("generation: got %d, want 2 (generation 1 was applied but unseen)", g.Lease.Generation)
		}
		if rec := e.stored(key); rec.Generation != 2 || rec.HolderID != "a" {
			t.Fatalf("stored: got %+v, want a's generation 2", rec.Lease)
		}
		_, err := e.c.Refresh(ctx, client.RefreshRequest{DatabaseKey: key, HolderID: "a", Generation: 1, TTL: time.Minute})
		if !errors.Is(err, lease.ErrStale) {
			t.Errorf("refresh of the unseen generation 1: got %v, want stale (only the returned one is live)", err)
		}
	})

	t.Run("acquire: every attempt lost reports unknown, never 'not held'", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.clock.AutoAdvance(true)
		e.faults.add("acquire", fault{resetAfter: true}, fault{status: 429}, fault{status: 429}, fault{status: 429})
		_, err := e.c.Acquire(ctx, client.AcquireRequest{DatabaseKey: key, HolderID: "a", TTL: time.Minute})
		if !errors.Is(err, client.ErrOutcomeUnknown) {
			t.Fatalf("got %v, want ErrOutcomeUnknown: generation 1 exists", err)
		}
		if rec := e.stored(key); rec.HolderID != "a" {
			t.Fatalf("stored: %+v", rec.Lease)
		}
	})

	t.Run("refresh: retried, the lease is extended once more", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.clock.AutoAdvance(true)
		e.mustAcquire(key, "a", time.Minute)
		e.faults.add("refresh", fault{resetAfter: true})
		g, err := e.c.Refresh(ctx, client.RefreshRequest{DatabaseKey: key, HolderID: "a", Generation: 1, TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if rec := e.stored(key); rec.ExpiresAtMs != g.Lease.ExpiresAtMs || rec.Generation != 1 {
			t.Errorf("stored %+v, returned %+v: want the same generation and expiry", rec.Lease, g.Lease)
		}
		if !g.Deadline().Equal(g.SentAt.Add(time.Minute)) || g.SentAt.Before(epoch.Add(time.Millisecond)) {
			t.Errorf("deadline %v: want the retry's send time + TTL", g.Deadline())
		}
	})

	t.Run("release: idempotent", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.clock.AutoAdvance(true)
		e.mustAcquire(key, "a", time.Minute)
		e.faults.add("release", fault{resetAfter: true})
		l, err := e.c.Release(ctx, client.ReleaseRequest{DatabaseKey: key, HolderID: "a", Generation: 1})
		if err != nil || !l.Released() {
			t.Fatalf("got %+v, %v; want the released record", l, err)
		}
	})

	t.Run("a refusal that says nothing of the lease does not settle it", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.clock.AutoAdvance(true)
		e.faults.add("acquire", fault{resetAfter: true}, fault{status: 403, body: `{"message":"The security token included in the request is expired"}`})
		_, err := e.c.Acquire(ctx, client.AcquireRequest{DatabaseKey: key, HolderID: "a", TTL: time.Minute})
		if !errors.Is(err, client.ErrOutcomeUnknown) || !errors.Is(err, client.ErrUnauthorized) {
			t.Fatalf("got %v, want unauthorized with the outcome still unknown", err)
		}
	})

	t.Run("a definitive answer after an unknown one settles it", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.clock.AutoAdvance(true)
		e.mustAcquire(key, "b", time.Minute)
		e.faults.add("acquire", fault{reset: true})
		_, err := e.c.Acquire(ctx, client.AcquireRequest{DatabaseKey: key, HolderID: "a", TTL: time.Minute})
		if !errors.Is(err, lease.ErrHeld) || errors.Is(err, client.ErrOutcomeUnknown) {
			t.Fatalf("got %v, want held and a known outcome", err)
		}
	})
}
