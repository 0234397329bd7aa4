package safety_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redlease/redlease/pkg/backend/faulty"
	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/safety"
)

// skewed is a service instance whose clock is the true (fake) clock plus an
// offset that the test can change at any time: skew, or a jump.
type skewed struct {
	svc    *lease.Service
	offset atomic.Int64 // ns
}

func newSkewed(t *testing.T, store lease.Store, truth *safety.Clock, offset time.Duration) *skewed {
	t.Helper()
	s := &skewed{}
	s.offset.Store(int64(offset))
	s.svc = newService(t, store, func() time.Time { return truth.Now().Add(time.Duration(s.offset.Load())) }, 0)
	return s
}

func (s *skewed) acquire(holder string, ttl time.Duration) (lease.Lease, error) {
	return s.svc.Acquire(context.Background(), lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: faultKey, HolderID: holder, TTLMs: uint64(ttl.Milliseconds()), Term: 1})
}

func (s *skewed) refresh(l lease.Lease, ttl time.Duration) (lease.Lease, error) {
	return s.svc.Refresh(context.Background(), lease.RefreshRequest{Principal: lease.Anonymous, DatabaseKey: faultKey, HolderID: l.HolderID,
		Generation: l.Generation, TTLMs: uint64(ttl.Milliseconds())})
}

// TestSkewBoundIsTight: instance A grants a lease at expires_at E (by A's
// clock); instance B runs d ahead of A. B lets another holder in exactly
// at E - d by A's clock, never a millisecond earlier; A itself not before
// E. With B behind (d < 0) the takeover comes later than E: safe.
func TestSkewBoundIsTight(t *testing.T) {
	t.Parallel()
	const ttl = 2 * time.Second
	for _, d := range []time.Duration{0, 1 * time.Millisecond, 300 * time.Millisecond, 700 * time.Millisecond, -300 * time.Millisecond} {
		t.Run(fmt.Sprintf("B%+dms", d.Milliseconds()), func(t *testing.T) {
			t.Parallel()
			truth := safety.NewClock(epoch)
			store := memory.New(memory.Options{})
			a, b := newSkewed(t, store, truth, 0), newSkewed(t, store, truth, d)
			first, err := a.acquire("holder-a", ttl)
			if err != nil {
				t.Fatal(err)
			}
			// The earliest takeover through either instance, by A's clock
			// (which is the true clock here).
			earliest := first.ExpiresAtMs - uint64(max(d, 0).Milliseconds())
			setTo := func(ms uint64) { truth.Advance(time.Duration(int64(ms)-int64(truth.Ms())) * time.Millisecond) }
			for at := first.AcquiredAtMs; at < earliest; at = min(at+25, earliest-1) {
				setTo(at)
				for name, inst := range map[string]*skewed{"A": a, "B": b} {
					if l, err := inst.acquire("holder-b", ttl); err == nil {
						t.Fatalf("instance %s let holder-b in at %d (A's clock), %d ms before the bound %d: %+v",
							name, at, earliest-at, earliest, l)
					}
				}
				if at == earliest-1 {
					break
				}
			}
			setTo(earliest)
			second, err := b.acquire("holder-b", ttl)
			switch {
			case d >= 0 && err != nil:
				t.Fatalf("at E - d = %d instance B refused: %v; the bound is not tight", earliest, err)
			case d < 0 && err == nil:
				t.Fatalf("instance B, behind by %s, let holder-b in at E: %+v", -d, second)
			case d < 0:
				if second, err = a.acquire("holder-b", ttl); err != nil {
					t.Fatalf("A refused at E = %d: %v", earliest, err)
				}
			}
			if second.Generation != first.Generation+1 {
				t.Fatalf("takeover got generation %d, want %d", second.Generation, first.Generation+1)
			}
			// The guarantee, from the holder's send time s = first.AcquiredAtMs.
			if got, bound := truth.Ms(), first.AcquiredAtMs+uint64((ttl-max(d, 0)).Milliseconds()); got < bound {
				t.Fatalf("takeover at %d, before s + ttl - D = %d", got, bound)
			}
		})
	}
}

// TestBackwardJumpKeepsTokensAndTheGuarantee walks through a backward jump
// of one instance's clock, step by step: within the clock tolerance the
// jump counts in D; beyond it the jumped instance refuses the refresh.
func TestBackwardJumpKeepsTokensAndTheGuarantee(t *testing.T) {
	t.Parallel()
	const ttl = 2 * time.Second
	for _, jump := range []time.Duration{800 * time.Millisecond, 1500 * time.Millisecond} {
		t.Run(fmt.Sprintf("back%dms", jump.Milliseconds()), func(t *testing.T) {
			t.Parallel()
			backwardJump(t, ttl, jump, jump > lease.DefaultClockTolerance)
		})
	}
}

func backwardJump(t *testing.T, ttl, jump time.Duration, detected bool) {
	t.Helper()
	truth := safety.NewClock(epoch)
	store := memory.New(memory.Options{})
	a, b := newSkewed(t, store, truth, 0), newSkewed(t, store, truth, 0)
	x, err := b.acquire("x", ttl)
	if err != nil {
		t.Fatal(err)
	}
	a.offset.Store(int64(-jump)) // A's clock jumps back

	// A sees x's lease live for longer: safe (and beyond the tolerance it
	// refuses to judge at all).
	truth.Advance(ttl)
	if l, err := a.acquire("y", ttl); err == nil {
		t.Fatalf("A (clock %s behind) let y in at true expiry+0: %+v", jump, l)
	}
	truth.Advance(-ttl)

	// x refreshes through A 100 ms later. Within the tolerance A's clock
	// puts the expiry *earlier* than the lease x got from B; generation,
	// term and acquired_at stay. Beyond it A refuses and writes nothing.
	truth.Advance(100 * time.Millisecond)
	sent := truth.Ms()
	r, err := a.refresh(x, ttl)
	D := jump
	switch {
	case detected && !errors.Is(err, lease.ErrClockSkew):
		t.Fatalf("refresh through A (clock %s behind) = %+v, %v; want ErrClockSkew", jump, r, err)
	case detected:
		if cur, _ := store.Load(context.Background(), faultKey); cur.Record.Lease != x {
			t.Fatalf("the refused refresh changed the record: %+v, want %+v", cur.Record.Lease, x)
		}
		// x keeps the lease B gave it: the guarantee is its own send time
		// + ttl, D = 0.
		sent, D = x.AcquiredAtMs, 0
	case err != nil:
		t.Fatal(err)
	case r.Generation != x.Generation || r.Term != x.Term || r.AcquiredAtMs != x.AcquiredAtMs:
		t.Fatalf("refresh changed the token or acquired_at: %+v -> %+v", x, r)
	case r.ExpiresAtMs >= x.ExpiresAtMs:
		t.Fatalf("expected the jump to shorten the lease, got %d >= %d", r.ExpiresAtMs, x.ExpiresAtMs)
	}
	// B lets y in at the (shortened) expiry, which is exactly the
	// guarantee for x: sent + ttl - D.
	bound := sent + uint64((ttl - D).Milliseconds())
	truth.Advance(time.Duration(bound-1-truth.Ms()) * time.Millisecond)
	if l, err := b.acquire("y", ttl); err == nil {
		t.Fatalf("y got in at %d, before the guarantee %d: %+v", truth.Ms(), bound, l)
	}
	truth.Advance(time.Millisecond)
	y, err := b.acquire("y", ttl)
	if err != nil {
		t.Fatalf("y refused at the bound %d: %v", bound, err)
	}
	if y.Generation != x.Generation+1 {
		t.Fatalf("y got generation %d, want %d", y.Generation, x.Generation+1)
	}
	// A, still behind, keeps y's lease for longer (or refuses to judge)
	// and never hands out a generation that does not grow.
	truth.Advance(ttl)
	if l, err := a.acquire("z", ttl); err == nil {
		t.Fatalf("A let z in while y's lease runs by A's clock: %+v", l)
	}
	truth.Advance(jump)
	z, err := a.acquire("z", ttl)
	if err != nil {
		t.Fatal(err)
	}
	if z.Generation != y.Generation+1 {
		t.Fatalf("generation went from %d to %d", y.Generation, z.Generation)
	}
}

// TestRandomSkewAndJumps: three instances whose clocks wander and jump
// (back and forth) within ±D/2 of the true clock serve random calls. For
// every takeover by another holder, at true time t1, the holder of the
// generation before, whose last successful acquire or refresh was sent at
// true time s with ttl T, must have had its T - D: t1 >= s + T - D. And
// generations grow with every acquire, whatever the clocks do.
func TestRandomSkewAndJumps(t *testing.T) {
	t.Parallel()
	const (
		bound = 600 * time.Millisecond // D
		ttl   = 2 * time.Second
	)
	calls := envInt(t, "REDLEASE_SKEW_CALLS", 6000, 1500)
	rng := rand.New(rand.NewPCG(seed(t), 7))
	truth := safety.NewClock(epoch)
	store := faulty.New(memory.New(memory.Options{}), faulty.Options{})
	insts := []*skewed{newSkewed(t, store, truth, 0), newSkewed(t, store, truth, 0), newSkewed(t, store, truth, 0)}
	type grant struct {
		holder string
		sent   uint64 // true ms
		ttl    uint64
	}
	var (
		last      = map[uint64]grant{} // generation -> latest grant
		releasedG = map[uint64]bool{}
		mine      = map[string]lease.Lease{}
		maxGen    uint64
		takeovers int
	)
	holders := []string{"h0", "h1", "h2"}
	for range calls {
		if rng.IntN(4) == 0 {
			// Wander or jump: any offset within ±D/2, so any two clocks
			// differ by at most D.
			insts[rng.IntN(len(insts))].offset.Store(rng.Int64N(int64(bound)+1) - int64(bound)/2)
		}
		truth.Advance(time.Duration(rng.IntN(400)) * time.Millisecond)
		inst, h := insts[rng.IntN(len(insts))], holders[rng.IntN(len(holders))]
		ttlMs := uint64(ttl.Milliseconds()) - uint64(rng.IntN(3))*500
		now := truth.Ms()
		switch r := rng.IntN(10); {
		case r < 5:
			l, err := inst.acquire(h, time.Duration(ttlMs)*time.Millisecond)
			if err != nil {
				continue
			}
			if l.Generation <= maxGen {
				t.Fatalf("generation %d after %d", l.Generation, maxGen)
			}
			maxGen = l.Generation
			if prev, ok := last[l.Generation-1]; ok && prev.holder != h && !releasedG[l.Generation-1] {
				takeovers++
				if need := prev.sent + prev.ttl - uint64(bound.Milliseconds()); now < need {
					t.Fatalf("%s took generation %d at true %d, but %s was promised until %d (sent %d, ttl %d, D %s)",
						h, l.Generation, now, prev.holder, need, prev.sent, prev.ttl, bound)
				}
			}
			last[l.Generation] = grant{h, now, ttlMs}
			mine[h] = l
		case r < 8:
			m, ok := mine[h]
			if !ok {
				continue
			}
			l, err := inst.refresh(m, time.Duration(ttlMs)*time.Millisecond)
			if err != nil {
				continue
			}
			if l.Generation != m.Generation || l.AcquiredAtMs != m.AcquiredAtMs || l.Term != m.Term {
				t.Fatalf("refresh changed %+v into %+v", m, l)
			}
			last[l.Generation] = grant{h, now, ttlMs}
		default:
			m, ok := mine[h]
			if !ok {
				continue
			}
			if _, err := inst.svc.Release(context.Background(), lease.ReleaseRequest{Principal: lease.Anonymous, DatabaseKey: faultKey, HolderID: h, Generation: m.Generation}); err == nil {
				releasedG[m.Generation] = true
				delete(mine, h)
			}
		}
	}
	for _, err := range safety.CheckWriteLog(store.Writes(), false) {
		t.Error(err)
	}
	if takeovers < 20 {
		t.Fatalf("only %d takeovers by another holder: the run tested little", takeovers)
	}
	t.Logf("%d calls, %d generations, %d takeovers by another holder checked against s + ttl - D", calls, maxGen, takeovers)
}
