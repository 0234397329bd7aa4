package safety_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/safety"
)

// instance is one service on the shared store whose clock is the true
// clock plus offset, with the given clock tolerance (0: the default).
func instance(t *testing.T, store lease.Store, truth *safety.Clock, offset, tolerance time.Duration) *lease.Service {
	t.Helper()
	svc, err := lease.New(lease.Config{Store: store, ClockTolerance: tolerance,
		Now: func() time.Time { return truth.Now().Add(offset) }})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func stepAcquire(svc *lease.Service, holder string, ttl time.Duration) (lease.Lease, error) {
	return svc.Acquire(context.Background(), lease.AcquireRequest{Principal: lease.Anonymous,
		DatabaseKey: faultKey, HolderID: holder, TTLMs: uint64(ttl.Milliseconds()), Term: 1})
}

func stepRefresh(svc *lease.Service, l lease.Lease, ttl time.Duration) (lease.Lease, error) {
	return svc.Refresh(context.Background(), lease.RefreshRequest{Principal: lease.Anonymous,
		DatabaseKey: faultKey, HolderID: l.HolderID, Generation: l.Generation, TTLMs: uint64(ttl.Milliseconds())})
}

// noDetection is a tolerance no step in these tests reaches: the service
// as it was before the clock check, to show each scenario is real.
const noDetection = 24 * time.Hour

// TestStepBackRefreshNoLongerLetsASecondHolderIn is issue 13's overlap:
// x holds a 10 s lease through the correct instance C and refreshes
// through B, whose clock is 8 s behind; 2.5 s later y acquires through C.
// Without the check B's refresh shortens x's lease to 2.5 s by C's clock
// while x counts 10 s from its send time, and y gets in with 7.5 s of x's
// left. With it B refuses the refresh and writes nothing, and y is held.
func TestStepBackRefreshNoLongerLetsASecondHolderIn(t *testing.T) {
	t.Parallel()
	const ttl, step = 10 * time.Second, 8 * time.Second
	for _, tc := range []struct {
		name      string
		tolerance time.Duration
		overlap   bool
	}{
		{"without the check", noDetection, true},
		{"default tolerance", 0, false},
		{"tolerance just below the step", step - time.Second - time.Millisecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			truth := safety.NewClock(epoch)
			store := memory.New(memory.Options{})
			c := instance(t, store, truth, 0, tc.tolerance)
			b := instance(t, store, truth, -step, tc.tolerance)
			x, err := stepAcquire(c, "x", ttl)
			if err != nil {
				t.Fatal(err)
			}
			truth.Advance(time.Second) // x's refresh, ttl/10 later, lands on B
			sent := truth.Ms()
			r, refreshErr := stepRefresh(b, x, ttl)
			truth.Advance(2500 * time.Millisecond)
			y, acquireErr := stepAcquire(c, "y", ttl)
			if !tc.overlap {
				if !errors.Is(refreshErr, lease.ErrClockSkew) {
					t.Fatalf("refresh through B (8 s behind) = %+v, %v; want ErrClockSkew", r, refreshErr)
				}
				if !errors.Is(acquireErr, lease.ErrHeld) {
					t.Fatalf("y's acquire through C = %+v, %v; want ErrHeld (x's lease runs until %d)", y, acquireErr, x.ExpiresAtMs)
				}
				return
			}
			if refreshErr != nil || acquireErr != nil {
				t.Fatalf("without the check: refresh %v, acquire %v; the scenario did not happen", refreshErr, acquireErr)
			}
			if left := int64(sent+uint64(ttl.Milliseconds())) - int64(truth.Ms()); left != 7500 {
				t.Fatalf("y got in with %d ms of x's lease left, want the issue's 7500", left)
			}
		})
	}
}

// TestStepBackNoLongerRevivesAnExpiredLease: x's 10 s lease expired 20 s
// ago. B, stepped back an hour, sees it live: it would accept x's refresh
// (writing an expiry already past, so C lets y in at once while x counts
// 10 s) and refuse y as held. With the check B refuses both with
// ErrClockSkew, and C grants y as it should.
func TestStepBackNoLongerRevivesAnExpiredLease(t *testing.T) {
	t.Parallel()
	const ttl = 10 * time.Second
	for _, tc := range []struct {
		name      string
		tolerance time.Duration
	}{{"without the check", noDetection}, {"default tolerance", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			truth := safety.NewClock(epoch)
			store := memory.New(memory.Options{})
			c := instance(t, store, truth, 0, tc.tolerance)
			b := instance(t, store, truth, -time.Hour, tc.tolerance)
			x, err := stepAcquire(c, "x", ttl)
			if err != nil {
				t.Fatal(err)
			}
			truth.Advance(30 * time.Second)
			_, heldErr := stepAcquire(b, "y", ttl)
			r, refreshErr := stepRefresh(b, x, ttl)
			if tc.tolerance == noDetection {
				if !errors.Is(heldErr, lease.ErrHeld) || refreshErr != nil || r.ExpiresAtMs > truth.Ms() {
					t.Fatalf("without the check: acquire %v, refresh %+v, %v; the scenario did not happen", heldErr, r, refreshErr)
				}
				if _, err := stepAcquire(c, "y", ttl); err != nil {
					t.Fatalf("C refused y over the revived lease: %v", err)
				}
				return // x was told it holds for 10 s; y holds it too
			}
			for name, err := range map[string]error{"acquire": heldErr, "refresh": refreshErr} {
				var skew *lease.ClockSkewError
				if !errors.As(err, &skew) {
					t.Fatalf("%s through B (1 h behind) = %v; want a *ClockSkewError", name, err)
				}
				if skew.ProvenMs-skew.NowMs < uint64((time.Hour - 31*time.Second).Milliseconds()) {
					t.Fatalf("%s: skew %+v does not say the clock is an hour behind", name, skew)
				}
			}
			if cur, _ := store.Load(context.Background(), faultKey); cur.Record.Lease != x {
				t.Fatalf("B's refusals changed the record: %+v, want %+v", cur.Record.Lease, x)
			}
			if y, err := stepAcquire(c, "y", ttl); err != nil || y.Generation != x.Generation+1 {
				t.Fatalf("C's acquire for y = %+v, %v; want generation %d", y, err, x.Generation+1)
			}
		})
	}
}

// TestForwardStep pins what the service does when an instance's clock
// steps forward, since no record can show it: F judges every lease from
// its early clock and lets y in 8 s before x's expiry (the T - D bound
// then needs D to cover the step). What the record check adds: F's future
// stamps make the correct instance C refuse writes on that record until
// its clock comes within the tolerance of them, and then accept again.
func TestForwardStep(t *testing.T) {
	t.Parallel()
	const ttl, step = 10 * time.Second, 8 * time.Second
	truth := safety.NewClock(epoch)
	store := memory.New(memory.Options{})
	c := instance(t, store, truth, 0, 0)
	f := instance(t, store, truth, step, 0)
	x, err := stepAcquire(c, "x", ttl)
	if err != nil {
		t.Fatal(err)
	}
	truth.Advance(ttl - step) // 2 s in, F reads x's expiry
	y, err := stepAcquire(f, "y", ttl)
	if err != nil {
		t.Fatalf("F refused y at its clock's expiry of x: %v; the forward step is detected after all, update the docs", err)
	}
	if y.AcquiredAtMs-truth.Ms() != uint64(step.Milliseconds()) {
		t.Fatalf("y's acquired_at %d is not F's clock (true %d + %s)", y.AcquiredAtMs, truth.Ms(), step)
	}
	if y.Generation != x.Generation+1 {
		t.Fatalf("y got generation %d, want %d", y.Generation, x.Generation+1)
	}
	// y refreshes through C: C reads 8 s before F's acquired_at.
	truth.Advance(time.Second)
	if _, err := stepRefresh(c, y, ttl); !errors.Is(err, lease.ErrClockSkew) {
		t.Fatalf("C's refresh of a record F stamped 7 s ahead = %v; want ErrClockSkew", err)
	}
	// Once C's clock is within the tolerance of the stamp, C writes again.
	truth.Advance(step - time.Second - lease.DefaultClockTolerance)
	if _, err := stepRefresh(c, y, ttl); err != nil {
		t.Fatalf("C's refresh within the tolerance of F's stamp: %v", err)
	}
}
