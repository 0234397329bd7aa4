package safety_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/anishathalye/porcupine"
	"github.com/redlease/redlease/pkg/backend/faulty"
	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/safety"
)

// TestInvariantsCatchViolations: each broken history trips the invariant it
// breaks, and the legal ones trip none.
func TestInvariantsCatchViolations(t *testing.T) {
	t.Parallel()
	g1 := lse("a", 1, 1, t0, t0+1000)
	tests := []struct {
		name string
		h    *hist
		want string // substring of the first error; "" for none
	}{
		{"legal takeover", new(hist).
			add(1, 2, t0, t0, acq("a", 1, 1000), ok(g1)).
			add(3, 4, t0+1000, t0+1000, acq("b", 1, 1000), ok(lse("b", 2, 1, t0+1000, t0+2000))), ""},
		{"takeover after release", new(hist).
			add(1, 2, t0, t0, acq("a", 1, 1000), ok(g1)).
			add(3, 4, t0+10, t0+10, rel("a", 1), ok(released(g1, t0+10))).
			add(5, 6, t0+20, t0+20, acq("b", 1, 1000), ok(lse("b", 2, 1, t0+20, t0+1020))), ""},
		{"release, an ambiguous refresh, then takeover", new(hist).
			add(1, 2, t0, t0, acq("a", 1, 3000), ok(lse("a", 1, 1, t0, t0+3000))).
			add(3, 6, t0+10, t0+10, rel("a", 1), ok(released(lse("a", 1, 1, t0, t0+3000), t0+10))).
			add(4, 5, t0+10, t0+10, ref("a", 1, 3000), outcome(safety.OutcomeUnavailable)).
			add(7, 8, t0+20, t0+20, acq("b", 1, 1000), ok(lse("b", 2, 1, t0+20, t0+1020))), ""},
		{"re-acquire by the same holder", new(hist).
			add(1, 2, t0, t0, acq("a", 1, 1000), ok(g1)).
			add(3, 4, t0+10, t0+10, acq("a", 1, 1000), ok(lse("a", 2, 1, t0+10, t0+1010))), ""},
		{"shortening refresh, then takeover", new(hist).
			add(1, 2, t0, t0, acq("a", 1, 3000), ok(lse("a", 1, 1, t0, t0+3000))).
			add(3, 4, t0+10, t0+10, ref("a", 1, 1000), ok(lse("a", 1, 1, t0, t0+1010))).
			add(5, 6, t0+1010, t0+1010, acq("b", 1, 1000), ok(lse("b", 2, 1, t0+1010, t0+2010))), ""},
		{"two holders", new(hist).
			add(1, 2, t0, t0, acq("a", 1, 1000), ok(g1)).
			add(3, 4, t0+999, t0+999, acq("b", 1, 1000), ok(lse("b", 2, 1, t0+999, t0+1999))), "two holders"},
		{"two holders after a refresh", new(hist).
			add(1, 2, t0, t0, acq("a", 1, 1000), ok(g1)).
			add(3, 4, t0+500, t0+500, ref("a", 1, 1000), ok(lse("a", 1, 1, t0, t0+1500))).
			add(5, 6, t0+1200, t0+1200, acq("b", 1, 1000), ok(lse("b", 2, 1, t0+1200, t0+2200))), "two holders"},
		{"generation twice", new(hist).
			add(1, 2, t0, t0, acq("a", 1, 1000), ok(g1)).
			add(1, 2, t0, t0, acq("b", 1, 1000), ok(lse("b", 1, 1, t0, t0+1000))), "handed out twice"},
		{"generation went backwards", new(hist).
			add(1, 2, t0, t0, acq("a", 1, 1000), ok(lse("a", 5, 1, t0, t0+1000))).
			add(3, 4, t0+2000, t0+2000, acq("b", 1, 1000), ok(lse("b", 4, 1, t0+2000, t0+3000))), "did not grow"},
		{"term went backwards", new(hist).
			add(1, 2, t0, t0, acq("a", 2, 1000), ok(lse("a", 1, 2, t0, t0+1000))).
			add(3, 4, t0+2000, t0+2000, acq("b", 1, 1000), ok(lse("b", 2, 1, t0+2000, t0+3000))), "term went backwards"},
		{"refresh changed acquired_at", new(hist).
			add(1, 2, t0, t0, acq("a", 1, 1000), ok(g1)).
			add(3, 4, t0+10, t0+10, ref("a", 1, 1000), ok(lse("a", 1, 1, t0+10, t0+1010))), "changed holder, term or acquired_at"},
		{"release answered another generation", new(hist).
			add(1, 2, t0, t0, acq("a", 1, 1000), ok(g1)).
			add(3, 4, t0+10, t0+10, rel("a", 2), ok(released(g1, t0+10))), "another holder or generation"},
		{"unexpected error", new(hist).
			add(1, 2, t0, t0, acq("a", 1, 1000), safety.Output{Outcome: safety.OutcomeUnexpected, Err: "boom"}), "unexpected error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			errs := safety.CheckInvariants(tc.h.ops, safety.InvariantOptions{SharedClock: true})
			switch {
			case tc.want == "" && len(errs) > 0:
				t.Fatalf("legal history flagged: %v", errs)
			case tc.want != "" && len(errs) == 0:
				t.Fatalf("violation %q not caught", tc.want)
			case tc.want != "" && !strings.Contains(errs[0].Error(), tc.want):
				t.Fatalf("got %v, want an error about %q", errs[0], tc.want)
			}
		})
	}
}

func TestWriteLogCatchesViolations(t *testing.T) {
	t.Parallel()
	w := func(l lease.Lease) faulty.Write { return faulty.Write{Record: lease.Record{Lease: l}} }
	g1 := lse("a", 1, 1, t0, t0+1000)
	tests := []struct {
		name   string
		writes []faulty.Write
		want   string
	}{
		{"legal", []faulty.Write{w(g1), w(lse("a", 1, 1, t0, t0+1500)), w(released(lse("a", 1, 1, t0, t0+1500), t0+20)),
			w(lse("b", 2, 1, t0+30, t0+1030))}, ""},
		{"first is not generation 1", []faulty.Write{w(lse("a", 2, 1, t0, t0+1000))}, "not generation 1"},
		{"jump", []faulty.Write{w(g1), w(lse("b", 3, 1, t0+2000, t0+3000))}, "jumped"},
		{"takeover of a live lease", []faulty.Write{w(g1), w(lse("b", 2, 1, t0+10, t0+1010))}, "took over"},
		{"refresh rewrote acquired_at", []faulty.Write{w(g1), w(lse("a", 1, 1, t0+5, t0+1010))}, "changed holder"},
		{"refresh of a released record", []faulty.Write{w(g1), w(released(g1, t0+5)), w(lse("a", 1, 1, t0, t0+1010))}, "rewrote the released"},
		{"term lowered", []faulty.Write{w(lse("a", 1, 2, t0, t0+1000)), w(lse("b", 2, 1, t0+1000, t0+2000))}, "lowered the term"},
	}
	for _, tc := range tests {
		errs := safety.CheckWriteLog(tc.writes, true)
		switch {
		case tc.want == "" && len(errs) > 0:
			t.Errorf("%s: legal log flagged: %v", tc.name, errs)
		case tc.want != "" && (len(errs) == 0 || !strings.Contains(errs[0].Error(), tc.want)):
			t.Errorf("%s: got %v, want an error about %q", tc.name, errs, tc.want)
		}
	}
}

// blindStore forgets compare-and-swap: Replace ignores the expected
// version. The checkers must catch the double holders it allows.
type blindStore struct{ *memory.Store }

func (b blindStore) Replace(ctx context.Context, rec lease.Record, _ lease.Version) (lease.Version, error) {
	cur, err := b.Load(ctx, rec.DatabaseKey)
	if err != nil {
		return "", err
	}
	return b.Store.Replace(ctx, rec, cur.Version)
}

// TestCheckersCatchAStoreWithoutCAS runs the faulted workload (with
// writers sneaking in between read and write) on a store that ignores
// versions: both porcupine and the invariants must report it.
func TestCheckersCatchAStoreWithoutCAS(t *testing.T) {
	t.Parallel()
	clock := safety.NewClock(epoch)
	rec := safety.NewRecorder(safety.SeqStamp(), clock.Ms)
	var (
		sneakSvc *lease.Service
		sneaks   atomic.Uint64
	)
	inner := memory.New(memory.Options{})
	store := faulty.New(blindStore{inner}, faulty.Options{
		Seed: 3, Rules: []faulty.Rule{{Rate: 0.2, Kind: faulty.Sneak}},
		Sneak: func(ctx context.Context, key string) {
			// At the stored term, so that the sneaker is never fenced off.
			term := uint64(1)
			if v, err := inner.Load(ctx, key); err == nil {
				term = v.Record.Term
			}
			n := sneaks.Add(1)
			rec.Do(ctx, 8, sneakSvc, safety.Input{Kind: safety.KindAcquire, Key: key,
				Holder: testHolders[n%uint64(len(testHolders))], TTLMs: 1000, Term: term})
		},
	})
	sneakSvc = newService(t, store, clock.Now, -1)
	svcs := []*lease.Service{newService(t, store, clock.Now, -1)}
	ctx, cancel := context.WithCancel(background(t))
	stepper := &safety.Stepper{Clock: clock, Steps: clockSteps, MaxCalls: 8, Seed: 3}
	after, wait := stepper.Start(ctx)
	ops := safety.Workload{Clients: 4, OpsPerClient: 150, Keys: testKeys[:1], Holders: testHolders,
		TTLs: tickTTLs, Seed: 3, Services: svcs, AfterCall: after, Recorder: rec}.Run(ctx)
	cancel()
	wait()
	res, _ := safety.Linearizable(ops, safety.LinOptions{ClockValues: clock.Values()})
	if res.Result != porcupine.Illegal {
		t.Errorf("porcupine says %s for a store without CAS, want Illegal; faults %v; %s", res.Result, store.Fired(), safety.Summary(ops))
	}
	if errs := safety.CheckInvariants(ops, safety.InvariantOptions{SharedClock: true}); len(errs) == 0 {
		t.Error("the invariants found nothing wrong with a store without CAS")
	} else {
		t.Logf("caught: %v", errs[0])
	}
	if errs := safety.CheckWriteLog(store.Writes(), true); len(errs) == 0 {
		t.Error("the write log check found nothing wrong with a store without CAS")
	}
}
