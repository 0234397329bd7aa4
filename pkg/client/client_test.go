package client_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redlease/redlease/pkg/client"
	"github.com/redlease/redlease/pkg/lease"
)

const key = "clusters/dev/data.rdb"

func TestAcquireRefreshReleaseGet(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	g := e.mustAcquire(key, "reddb-0-1", time.Minute)
	want := lease.Lease{DatabaseKey: key, HolderID: "reddb-0-1", Term: 1, Generation: 1,
		AcquiredAtMs: 1767225600000, ExpiresAtMs: 1767225660000}
	if g.Lease != want {
		t.Fatalf("acquire: got %+v, want %+v", g.Lease, want)
	}
	if !g.SentAt.Equal(epoch) || !g.Deadline().Equal(epoch.Add(time.Minute)) || g.RequestID == "" {
		t.Fatalf("grant: sent %v deadline %v request id %q", g.SentAt, g.Deadline(), g.RequestID)
	}

	e.clock.Advance(20 * time.Second)
	r, err := e.c.Refresh(ctx, client.RefreshRequest{DatabaseKey: key, HolderID: "reddb-0-1", Generation: 1, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if r.Lease.ExpiresAtMs != 1767225680000 || r.Lease.AcquiredAtMs != want.AcquiredAtMs {
		t.Fatalf("refresh: got %+v", r.Lease)
	}

	snap, err := e.c.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if snap.State != lease.StateHeld || snap.ExpiresIn != time.Minute || snap.Lease.Generation != 1 {
		t.Fatalf("get: got %+v", snap)
	}

	rel, err := e.c.Release(ctx, client.ReleaseRequest{DatabaseKey: key, HolderID: "reddb-0-1", Generation: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !rel.Released() {
		t.Fatalf("release: got %+v, want a released record", rel)
	}
	again, err := e.c.Release(ctx, client.ReleaseRequest{DatabaseKey: key, HolderID: "reddb-0-1", Generation: 1})
	if err != nil || again != rel {
		t.Fatalf("second release: got %+v, %v; want the same record, nil", again, err)
	}
	snap, err = e.c.Get(ctx, key)
	if err != nil || snap.State != lease.StateReleased {
		t.Fatalf("get after release: got %+v, %v", snap, err)
	}
}

func TestGetEscapesKeySegments(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, k := range []string{"a b/c%d/é?#x", "main", "x/y;z,w"} {
		e.mustAcquire(k, "h", time.Minute)
		snap, err := e.c.Get(context.Background(), k)
		if err != nil || snap.Lease.DatabaseKey != k {
			t.Errorf("get %q: got %+v, %v", k, snap.Lease, err)
		}
	}
	for _, bad := range []string{"", "/a", "a//b", "a/./b", "a/..", "a/"} {
		if _, err := e.c.Get(context.Background(), bad); !errors.Is(err, lease.ErrInvalid) {
			t.Errorf("get %q: got %v, want ErrInvalid before any request", bad, err)
		}
	}
	if n := e.faults.count("get"); n != 3 {
		t.Errorf("get requests sent: got %d, want 3", n)
	}
}

// TestErrorCodes covers every code of the contract: the sentinel, the typed
// error's fields and the APIError around it, and that none of the final
// refusals is retried.
func TestErrorCodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name     string
		setup    func(e *env)
		call     func(e *env) error
		route    string
		status   int
		code     string
		sentinel error
		attempts int
		check    func(t *testing.T, err error)
	}{
		{
			name: "invalid_request",
			call: func(e *env) error {
				_, err := e.c.Acquire(ctx, client.AcquireRequest{DatabaseKey: key, HolderID: "a", TTL: 10})
				return err
			},
			route: "acquire", status: 400, code: "invalid_request", sentinel: lease.ErrInvalid, attempts: 1,
			check: func(t *testing.T, err error) {
				var inv *lease.InvalidError
				if !errors.As(err, &inv) || inv.Field != "ttl_ms" {
					t.Errorf("got %#v, want InvalidError for ttl_ms", inv)
				}
			},
		},
		{
			name:  "not_found",
			call:  func(e *env) error { _, err := e.c.Get(ctx, "never/taken"); return err },
			route: "get", status: 404, code: "not_found", sentinel: lease.ErrNotFound, attempts: 1,
		},
		{
			name:  "held",
			setup: func(e *env) { e.mustAcquire(key, "a", time.Minute); e.clock.Advance(15 * time.Second) },
			call: func(e *env) error {
				_, err := e.c.Acquire(ctx, client.AcquireRequest{DatabaseKey: key, HolderID: "b", TTL: time.Minute})
				return err
			},
			route: "acquire", status: 409, code: "held", sentinel: lease.ErrHeld, attempts: 1,
			check: func(t *testing.T, err error) {
				var held *lease.HeldError
				if !errors.As(err, &held) || held.Current.HolderID != "a" || held.Current.Generation != 1 ||
					held.RetryAfter != 45*time.Second {
					t.Errorf("got %#v, want a's generation 1 with 45s to go", held)
				}
			},
		},
		{
			name: "fenced",
			setup: func(e *env) {
				if _, err := e.c.Acquire(ctx, client.AcquireRequest{DatabaseKey: key, HolderID: "a", TTL: time.Second, Term: 7}); err != nil {
					t.Fatal(err)
				}
			},
			call: func(e *env) error {
				_, err := e.c.Acquire(ctx, client.AcquireRequest{DatabaseKey: key, HolderID: "b", TTL: time.Second, Term: 3})
				return err
			},
			route: "acquire", status: 409, code: "fenced", sentinel: lease.ErrFenced, attempts: 1,
			check: func(t *testing.T, err error) {
				var f *lease.FencedError
				if !errors.As(err, &f) || f.CurrentTerm != 7 || f.AttemptedTerm != 3 {
					t.Errorf("got %#v, want term 3 behind 7", f)
				}
			},
		},
		{
			name:  "stale",
			setup: func(e *env) { e.mustAcquire(key, "a", time.Minute) },
			call: func(e *env) error {
				_, err := e.c.Refresh(ctx, client.RefreshRequest{DatabaseKey: key, HolderID: "b", Generation: 1, TTL: time.Minute})
				return err
			},
			route: "refresh", status: 409, code: "stale", sentinel: lease.ErrStale, attempts: 1,
			check: func(t *testing.T, err error) {
				var s *lease.StaleError
				if !errors.As(err, &s) || s.HolderID != "b" || s.Generation != 1 || s.Current == nil || s.Current.HolderID != "a" {
					t.Errorf("got %#v, want b's generation 1 stale against a's", s)
				}
			},
		},
		{
			name: "lost_race",
			setup: func(e *env) {
				for range 4 {
					e.faults.add("acquire", fault{status: 409, body: `{"error":{"code":"lost_race","message":"m","retry_after_ms":100}}`})
				}
			},
			call: func(e *env) error {
				_, err := e.c.Acquire(ctx, client.AcquireRequest{DatabaseKey: key, HolderID: "a", TTL: time.Minute})
				return err
			},
			route: "acquire", status: 409, code: "lost_race", sentinel: lease.ErrLostRace, attempts: 4,
			check: func(t *testing.T, err error) {
				if errors.Is(err, client.ErrOutcomeUnknown) {
					t.Errorf("lost_race wrote nothing, yet the outcome is reported unknown: %v", err)
				}
			},
		},
		{
			name: "backend_unavailable",
			setup: func(e *env) {
				for range 4 {
					e.faults.add("refresh", fault{status: 503, header: map[string]string{"Retry-After": "1"},
						body: `{"error":{"code":"backend_unavailable","message":"throttled","retry_after_ms":250}}`})
				}
			},
			call: func(e *env) error {
				_, err := e.c.Refresh(ctx, client.RefreshRequest{DatabaseKey: key, HolderID: "a", Generation: 1, TTL: time.Minute})
				return err
			},
			route: "refresh", status: 503, code: "backend_unavailable", sentinel: lease.ErrUnavailable, attempts: 4,
			check: func(t *testing.T, err error) {
				var ue *lease.UnavailableError
				if !errors.As(err, &ue) || ue.RetryAfter != 250*time.Millisecond {
					t.Errorf("got %#v, want the 250 ms hint", ue)
				}
				if !errors.Is(err, client.ErrOutcomeUnknown) {
					t.Errorf("a write that storage may have applied must report ErrOutcomeUnknown: %v", err)
				}
			},
		},
		{
			name: "clock_skew",
			setup: func(e *env) {
				for range 4 {
					e.faults.add("refresh", fault{status: 503, header: map[string]string{"Retry-After": "1"},
						body: `{"error":{"code":"clock_skew","message":"clock behind","retry_after_ms":300}}`})
				}
			},
			call: func(e *env) error {
				_, err := e.c.Refresh(ctx, client.RefreshRequest{DatabaseKey: key, HolderID: "a", Generation: 1, TTL: time.Minute})
				return err
			},
			route: "refresh", status: 503, code: "clock_skew", sentinel: lease.ErrClockSkew, attempts: 4,
			check: func(t *testing.T, err error) {
				var skew *lease.ClockSkewError
				if !errors.As(err, &skew) || skew.RetryAfter != 300*time.Millisecond {
					t.Errorf("got %#v, want the 300 ms hint", skew)
				}
				if errors.Is(err, client.ErrOutcomeUnknown) || errors.Is(err, lease.ErrUnavailable) {
					t.Errorf("clock_skew wrote nothing, yet it reads as unknown or unavailable: %v", err)
				}
			},
		},
		{
			name: "too_large",
			setup: func(e *env) {
				e.faults.add("acquire", fault{status: 413, body: `{"error":{"code":"too_large","message":"body over 16 KiB"}}`})
			},
			call: func(e *env) error {
				_, err := e.c.Acquire(ctx, client.AcquireRequest{DatabaseKey: strings.Repeat("k", 20000), HolderID: "a", TTL: time.Minute})
				return err
			},
			route: "acquire", status: 413, code: "too_large", sentinel: lease.ErrInvalid, attempts: 1,
		},
		{
			name: "internal",
			setup: func(e *env) {
				e.faults.add("release", fault{status: 500, body: `{"error":{"code":"internal","message":"internal error"}}`})
			},
			call: func(e *env) error {
				_, err := e.c.Release(ctx, client.ReleaseRequest{DatabaseKey: key, HolderID: "a", Generation: 1})
				return err
			},
			route: "release", status: 500, code: "internal", sentinel: client.ErrInternal, attempts: 1,
		},
		{
			name: "storage_corrupt",
			setup: func(e *env) {
				e.faults.add("get", fault{status: 500, body: `{"error":{"code":"storage_corrupt","message":"lease storage holds an object that is not a valid lease record or lock file"}}`})
			},
			call:  func(e *env) error { _, err := e.c.Get(ctx, key); return err },
			route: "get", status: 500, code: "storage_corrupt", sentinel: lease.ErrCorrupt, attempts: 1,
		},
		{
			name:  "gateway 403 without a contract body",
			setup: func(e *env) { e.faults.add("get", fault{status: 403, body: `{"message":"Forbidden"}`}) },
			call:  func(e *env) error { _, err := e.c.Get(ctx, key); return err },
			route: "get", status: 403, code: "", sentinel: client.ErrUnauthorized, attempts: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.clock.AutoAdvance(true)
			if tc.setup != nil {
				tc.setup(e)
			}
			before := e.faults.count(tc.route)
			err := tc.call(e)
			if !errors.Is(err, tc.sentinel) {
				t.Fatalf("got %v, want errors.Is %v", err, tc.sentinel)
			}
			var ae *client.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("got %T %v, want an *client.APIError inside", err, err)
			}
			if ae.StatusCode != tc.status || ae.Code != tc.code || ae.Message == "" {
				t.Errorf("APIError: got status %d code %q message %q, want %d %q and a message", ae.StatusCode, ae.Code, ae.Message, tc.status, tc.code)
			}
			if got := e.faults.count(tc.route) - before; got != tc.attempts {
				t.Errorf("attempts: got %d, want %d", got, tc.attempts)
			}
			if tc.check != nil {
				tc.check(t, err)
			}
		})
	}
}

func TestRequestIDFromGateway(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.faults.add("get", fault{status: 404, header: map[string]string{"Apigw-Requestid": "gw-1"}, body: `{"message":"Not Found"}`})
	_, err := e.c.Get(context.Background(), key)
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.RequestID != "gw-1" || !errors.Is(err, lease.ErrNotFound) {
		t.Fatalf("got %v, want not found with API Gateway's request id", err)
	}
	if !strings.Contains(err.Error(), "gw-1") {
		t.Errorf("message %q should quote the request id", err)
	}
}
