package safety_test

import (
	"os"
	"strings"
	"testing"

	"github.com/anishathalye/porcupine"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/safety"
)

const t0 = uint64(1767225600000)

// hist builds hand-made histories: each op is called and returns in the
// order given unless its stamps say otherwise.
type hist struct{ ops []safety.Op }

func (h *hist) add(call, ret int64, lo, hi uint64, in safety.Input, out safety.Output) *hist {
	in.Key = "k"
	out.StartMs, out.EndMs = lo, hi
	h.ops = append(h.ops, safety.Op{Client: len(h.ops), Input: in, Output: out, Call: call, Return: ret})
	return h
}

func acq(holder string, term, ttl uint64) safety.Input {
	return safety.Input{Kind: safety.KindAcquire, Holder: holder, Term: term, TTLMs: ttl}
}

func ref(holder string, gen, ttl uint64) safety.Input {
	return safety.Input{Kind: safety.KindRefresh, Holder: holder, Generation: gen, TTLMs: ttl}
}

func rel(holder string, gen uint64) safety.Input {
	return safety.Input{Kind: safety.KindRelease, Holder: holder, Generation: gen}
}

func get() safety.Input { return safety.Input{Kind: safety.KindGet} }

func lse(holder string, gen, term, at, until uint64) lease.Lease {
	return lease.Lease{DatabaseKey: "k", HolderID: holder, Term: term, Generation: gen, AcquiredAtMs: at, ExpiresAtMs: until}
}

func ok(l lease.Lease) safety.Output {
	return safety.Output{Outcome: safety.OutcomeOK, Lease: l, HasLease: true}
}

func snap(l lease.Lease, state lease.State, left, at uint64) safety.Output {
	o := ok(l)
	o.State, o.ExpiresInMs, o.ReadAtMs = state, left, at
	return o
}

func outcome(o safety.Outcome) safety.Output { return safety.Output{Outcome: o} }

func held(l lease.Lease, retry uint64) safety.Output {
	return safety.Output{Outcome: safety.OutcomeHeld, Lease: l, HasLease: true, RetryAfterMs: retry}
}

func released(l lease.Lease, at uint64) lease.Lease {
	l.ReleasedAtMs, l.ExpiresAtMs = at, min(l.ExpiresAtMs, at)
	return l
}

// TestModelJudgesHandMadeHistories: the model accepts what the contract
// allows and refuses each kind of violation.
func TestModelJudgesHandMadeHistories(t *testing.T) {
	t.Parallel()
	g1 := lse("a", 1, 1, t0, t0+1000)
	g2b := lse("b", 2, 1, t0+1000, t0+2000)
	tests := []struct {
		name     string
		h        *hist
		inFlight bool
		want     porcupine.CheckResult
	}{
		{"acquire then read", new(hist).
			add(1, 2, t0, t0, acq("a", 1, 1000), ok(g1)).
			add(3, 4, t0+10, t0+10, get(), snap(g1, lease.StateHeld, 990, t0+10)), false, porcupine.Ok},
		{"takeover exactly at expiry", new(hist).
			add(1, 2, t0, t0, acq("a", 1, 1000), ok(g1)).
			add(3, 4, t0+1000, t0+1000, acq("b", 1, 1000), ok(g2b)), false, porcupine.Ok},
		{"takeover one ms early", new(hist).
			add(1, 2, t0, t0, acq("a", 1, 1000), ok(g1)).
			add(3, 4, t0+999, t0+999, acq("b", 1, 1000), ok(lse("b", 2, 1, t0+999, t0+1999))), false, porcupine.Illegal},
		{"generation handed out twice", new(hist).
			add(1, 2, t0, t0, acq("a", 1, 1000), ok(g1)).
			add(3, 4, t0+2000, t0+2000, acq("b", 1, 1000), ok(lse("b", 1, 1, t0+2000, t0+3000))), false, porcupine.Illegal},
		{"refused acquire changed the record", new(hist).
			add(1, 2, t0, t0, acq("a", 1, 1000), ok(g1)).
			add(3, 4, t0+10, t0+10, acq("b", 1, 1000), held(g1, 990)).
			add(5, 6, t0+20, t0+20, get(), snap(lse("b", 2, 1, t0+10, t0+1010), lease.StateHeld, 990, t0+20)), false, porcupine.Illegal},
		{"held with a wrong retry hint", new(hist).
			add(1, 2, t0, t0, acq("a", 1, 1000), ok(g1)).
			add(3, 4, t0+10, t0+10, acq("b", 1, 1000), held(g1, 900)), false, porcupine.Illegal},
		{"refresh moved acquired_at", new(hist).
			add(1, 2, t0, t0, acq("a", 1, 1000), ok(g1)).
			add(3, 4, t0+500, t0+500, ref("a", 1, 1000), ok(lse("a", 1, 1, t0+500, t0+1500))), false, porcupine.Illegal},
		{"refresh keeps acquired_at", new(hist).
			add(1, 2, t0, t0, acq("a", 1, 1000), ok(g1)).
			add(3, 4, t0+500, t0+500, ref("a", 1, 1000), ok(lse("a", 1, 1, t0, t0+1500))), false, porcupine.Ok},
		{"decision outside the call's clock window", new(hist).
			add(1, 2, t0, t0+2, acq("a", 1, 1000), ok(lse("a", 1, 1, t0+5, t0+1005))), false, porcupine.Illegal},
		{"read misses a completed acquire", new(hist).
			add(1, 2, t0, t0, acq("a", 1, 1000), ok(g1)).
			add(3, 4, t0, t0, get(), outcome(safety.OutcomeNotFound)), false, porcupine.Illegal},
		{"concurrent read may miss it", new(hist).
			add(1, 4, t0, t0, acq("a", 1, 1000), ok(g1)).
			add(2, 3, t0, t0, get(), outcome(safety.OutcomeNotFound)), false, porcupine.Ok},
		{"lost race changed the record", new(hist).
			add(1, 2, t0, t0, acq("a", 1, 1000), outcome(safety.OutcomeLostRace)).
			add(3, 4, t0, t0, get(), snap(g1, lease.StateHeld, 1000, t0)), false, porcupine.Illegal},
		{"ambiguous acquire applied", new(hist).
			add(1, 2, t0, t0+1, acq("a", 1, 1000), outcome(safety.OutcomeUnavailable)).
			add(3, 4, t0+5, t0+5, get(), snap(lse("a", 1, 1, t0+1, t0+1001), lease.StateHeld, 996, t0+5)), false, porcupine.Ok},
		{"ambiguous acquire not applied", new(hist).
			add(1, 2, t0, t0+1, acq("a", 1, 1000), outcome(safety.OutcomeUnavailable)).
			add(3, 4, t0+5, t0+5, get(), outcome(safety.OutcomeNotFound)), false, porcupine.Ok},
		{"ambiguous acquire applied outside its window", new(hist).
			add(1, 2, t0, t0+1, acq("a", 1, 1000), outcome(safety.OutcomeUnavailable)).
			add(3, 4, t0+5, t0+5, get(), snap(lse("a", 1, 1, t0+2, t0+1002), lease.StateHeld, 997, t0+5)), false, porcupine.Illegal},
		// A release that failed ambiguously, then a refresh of the same
		// generation succeeded, then a read shows the release. With a
		// synchronous store the release took effect before it returned,
		// so the refresh could not have succeeded; with a write still in
		// flight it may land after the refresh.
		{"ambiguous release landing late, synchronous", new(hist).
			add(1, 2, t0, t0, acq("a", 1, 1000), ok(g1)).
			add(3, 4, t0+10, t0+10, rel("a", 1), outcome(safety.OutcomeUnavailable)).
			add(5, 6, t0+20, t0+20, ref("a", 1, 1000), ok(lse("a", 1, 1, t0, t0+1020))).
			add(7, 8, t0+30, t0+30, get(), snap(released(lse("a", 1, 1, t0, t0+1020), t0+10), lease.StateReleased, 0, t0+30)), false, porcupine.Illegal},
		{"ambiguous release landing late, in flight", new(hist).
			add(1, 2, t0, t0, acq("a", 1, 1000), ok(g1)).
			add(3, 4, t0+10, t0+10, rel("a", 1), outcome(safety.OutcomeUnavailable)).
			add(5, 6, t0+20, t0+20, ref("a", 1, 1000), ok(lse("a", 1, 1, t0, t0+1020))).
			add(7, 8, t0+30, t0+30, get(), snap(released(lse("a", 1, 1, t0, t0+1020), t0+10), lease.StateReleased, 0, t0+30)), true, porcupine.Ok},
		{"fenced acquire", new(hist).
			add(1, 2, t0, t0, acq("a", 3, 1000), ok(lse("a", 1, 3, t0, t0+1000))).
			add(3, 4, t0+2000, t0+2000, acq("b", 2, 1000), safety.Output{Outcome: safety.OutcomeFenced, AttemptedTerm: 2, CurrentTerm: 3}), false, porcupine.Ok},
		{"acquire at a lower term succeeded", new(hist).
			add(1, 2, t0, t0, acq("a", 3, 1000), ok(lse("a", 1, 3, t0, t0+1000))).
			add(3, 4, t0+2000, t0+2000, acq("b", 2, 1000), ok(lse("b", 2, 2, t0+2000, t0+3000))), false, porcupine.Illegal},
		{"release twice answers the same record", new(hist).
			add(1, 2, t0, t0, acq("a", 1, 1000), ok(g1)).
			add(3, 4, t0+10, t0+10, rel("a", 1), ok(released(g1, t0+10))).
			add(5, 6, t0+20, t0+20, rel("a", 1), ok(released(g1, t0+10))), false, porcupine.Ok},
		{"refresh after release", new(hist).
			add(1, 2, t0, t0, acq("a", 1, 1000), ok(g1)).
			add(3, 4, t0+10, t0+10, rel("a", 1), ok(released(g1, t0+10))).
			add(5, 6, t0+20, t0+20, ref("a", 1, 1000), ok(lse("a", 1, 1, t0, t0+1020))), false, porcupine.Illegal},
		{"read reports a live lease as expired", new(hist).
			add(1, 2, t0, t0, acq("a", 1, 1000), ok(g1)).
			add(3, 4, t0+10, t0+10, get(), snap(g1, lease.StateExpired, 0, t0+10)), false, porcupine.Illegal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, _ := safety.Linearizable(tc.h.ops, safety.LinOptions{InFlight: tc.inFlight})
			if res.Result != tc.want {
				t.Fatalf("porcupine says %s, want %s", res.Result, tc.want)
			}
		})
	}
}

// spyTB records failures instead of failing the test.
type spyTB struct {
	testing.TB
	errs []string
}

func (s *spyTB) Errorf(format string, args ...any) {
	s.errs = append(s.errs, strings.TrimSpace(format))
	_ = args
}

// TestIllegalHistoryWritesAVisualisation: a failing check fails the test
// and names the file it wrote.
func TestIllegalHistoryWritesAVisualisation(t *testing.T) {
	t.Setenv("REDLEASE_LIN_OUT", t.TempDir())
	h := new(hist).
		add(1, 2, t0, t0, acq("a", 1, 1000), ok(lse("a", 1, 1, t0, t0+1000))).
		add(3, 4, t0+10, t0+10, acq("b", 1, 1000), ok(lse("b", 2, 1, t0+10, t0+1010)))
	spy := &spyTB{TB: t}
	res := safety.CheckLinearizable(spy, h.ops, safety.LinOptions{Name: "two holders"})
	if res.Result != porcupine.Illegal || len(spy.errs) != 1 {
		t.Fatalf("result %s with errors %q, want Illegal and one error", res.Result, spy.errs)
	}
	if !strings.HasPrefix(res.Visual, os.Getenv("REDLEASE_LIN_OUT")) {
		t.Fatalf("visualisation at %q, not under REDLEASE_LIN_OUT", res.Visual)
	}
	data, err := os.ReadFile(res.Visual)
	if err != nil || !strings.Contains(string(data), "<html") {
		t.Fatalf("visualisation %s unreadable or not HTML: %v", res.Visual, err)
	}
}
