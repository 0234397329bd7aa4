package safety

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strings"

	"github.com/anishathalye/porcupine"
	"github.com/redlease/redlease/pkg/lease"
)

// register is the sequential specification's state for one key: what the
// store holds. It is written from docs/api.md's rules, independently of
// pkg/lease's own implementation of them, so the two can disagree.
type register struct {
	exists bool
	l      lease.Lease // includes ReleasedAtMs
}

func (r register) String() string {
	if !r.exists {
		return "∅"
	}
	return describeLease(r.l)
}

func (r register) freeAt(t uint64) bool { return r.l.ReleasedAtMs != 0 || r.l.ExpiresAtMs <= t }

// within reports whether t lies in the op's service-clock window.
func within(out Output, t uint64) bool { return out.StartMs <= t && t <= out.EndMs }

// candidates lists the decision times an ambiguous write may have used.
func candidates(out Output) []uint64 {
	if out.Candidates != nil {
		return out.Candidates
	}
	ts := make([]uint64, 0, out.EndMs-out.StartMs+1)
	for t := out.StartMs; t <= out.EndMs; t++ {
		ts = append(ts, t)
	}
	return ts
}

// step returns every state the register may be in after the op, given
// what the caller saw; none when the observation is impossible.
func step(s register, in Input, out Output) []register {
	if out.Outcome == OutcomeUnexpected {
		return nil
	}
	switch in.Kind {
	case KindAcquire:
		return stepWrite(s, in, out, acquireAt)
	case KindRefresh:
		return stepWrite(s, in, out, refreshAt)
	case KindRelease:
		return stepWrite(s, in, out, releaseAt)
	case KindGet:
		return stepGet(s, in, out)
	}
	return nil
}

// effect is the specification of one write: at decision time t, from
// state s, either the refusal the caller must see (refusal != 0) or the
// next state (write or no-op).
type effect func(s register, in Input, t uint64) (next register, refusal Outcome, want Output)

func stepWrite(s register, in Input, out Output, spec effect) []register {
	switch out.Outcome {
	case OutcomeLostRace, OutcomeClockSkew:
		return []register{s} // every conditional write lost, or none tried: nothing changed
	case OutcomeUnavailable:
		// Maybe applied, at any decision time in the window.
		next := []register{s}
		for _, t := range candidates(out) {
			if n, refusal, _ := spec(s, in, t); refusal == 0 {
				next = append(next, n)
			}
		}
		return next
	case OutcomeOK:
		t, ok := decisionTime(s, in, out)
		if !ok || !within(out, t) {
			return nil
		}
		n, refusal, _ := spec(s, in, t)
		if refusal != 0 || !n.exists || n.l != out.Lease || !out.HasLease {
			return nil
		}
		return []register{n}
	default:
		// A refusal: the spec must refuse the same way at some time in the
		// window, and nothing changes. Refusals here do not depend on time
		// except held, whose hint pins the time down.
		t := out.StartMs
		if out.Outcome == OutcomeHeld {
			if out.Lease.ExpiresAtMs < out.RetryAfterMs {
				return nil
			}
			t = out.Lease.ExpiresAtMs - out.RetryAfterMs
			if !within(out, t) {
				return nil
			}
		}
		_, refusal, want := spec(s, in, t)
		if refusal != out.Outcome || !sameRefusal(want, out) {
			return nil
		}
		return []register{s}
	}
}

// decisionTime reads the service's decision time back from a successful
// write's lease.
func decisionTime(s register, in Input, out Output) (uint64, bool) {
	l := out.Lease
	switch in.Kind {
	case KindAcquire:
		return l.AcquiredAtMs, true
	case KindRefresh:
		return l.ExpiresAtMs - in.TTLMs, l.ExpiresAtMs >= in.TTLMs
	default: // release
		if s.exists && s.l.ReleasedAtMs != 0 {
			return out.StartMs, true // a repeated release decides nothing
		}
		return l.ReleasedAtMs, true
	}
}

func sameRefusal(want, got Output) bool {
	if want.HasLease != got.HasLease || (want.HasLease && want.Lease != got.Lease) {
		return false
	}
	return want.AttemptedTerm == got.AttemptedTerm && want.CurrentTerm == got.CurrentTerm
}

func acquireAt(s register, in Input, t uint64) (register, Outcome, Output) {
	gen := uint64(1)
	if s.exists {
		if in.Term < s.l.Term {
			return s, OutcomeFenced, Output{AttemptedTerm: in.Term, CurrentTerm: s.l.Term}
		}
		if !s.freeAt(t) && s.l.HolderID != in.Holder {
			return s, OutcomeHeld, Output{Lease: s.l, HasLease: true}
		}
		gen = s.l.Generation + 1
	}
	return register{exists: true, l: lease.Lease{
		DatabaseKey: in.Key, HolderID: in.Holder, Term: in.Term, Generation: gen,
		AcquiredAtMs: t, ExpiresAtMs: t + in.TTLMs,
	}}, 0, Output{}
}

func refreshAt(s register, in Input, t uint64) (register, Outcome, Output) {
	if in.Term != 0 && in.CurrentTerm != 0 && in.Term < in.CurrentTerm {
		return s, OutcomeFenced, Output{AttemptedTerm: in.Term, CurrentTerm: in.CurrentTerm}
	}
	if !s.exists {
		return s, OutcomeStale, Output{}
	}
	if s.l.HolderID != in.Holder || s.l.Generation != in.Generation || s.l.ReleasedAtMs != 0 ||
		(in.Term != 0 && s.l.Term != in.Term) {
		return s, OutcomeStale, Output{Lease: s.l, HasLease: true}
	}
	if in.CurrentTerm != 0 && s.l.Term < in.CurrentTerm {
		return s, OutcomeFenced, Output{AttemptedTerm: s.l.Term, CurrentTerm: in.CurrentTerm}
	}
	n := s
	n.l.ExpiresAtMs = t + in.TTLMs
	return n, 0, Output{}
}

func releaseAt(s register, in Input, t uint64) (register, Outcome, Output) {
	if !s.exists {
		return s, OutcomeStale, Output{}
	}
	if s.l.HolderID != in.Holder || s.l.Generation != in.Generation {
		return s, OutcomeStale, Output{Lease: s.l, HasLease: true}
	}
	if s.l.ReleasedAtMs != 0 {
		return s, 0, Output{}
	}
	n := s
	n.l.ReleasedAtMs = max(t, 1)
	n.l.ExpiresAtMs = min(s.l.ExpiresAtMs, t)
	return n, 0, Output{}
}

func stepGet(s register, _ Input, out Output) []register {
	switch out.Outcome {
	case OutcomeUnavailable:
		return []register{s}
	case OutcomeNotFound:
		if s.exists {
			return nil
		}
		return []register{s}
	case OutcomeOK:
		t := out.ReadAtMs
		if !s.exists || !out.HasLease || out.Lease != s.l || !within(out, t) {
			return nil
		}
		state, left := lease.StateHeld, uint64(0)
		switch {
		case s.l.ReleasedAtMs != 0:
			state = lease.StateReleased
		case s.l.ExpiresAtMs <= t:
			state = lease.StateExpired
		default:
			left = s.l.ExpiresAtMs - t
		}
		if out.State != state || out.ExpiresInMs != left {
			return nil
		}
		return []register{s}
	}
	return nil
}

// Model is the porcupine specification of the lease service: one register
// per key, partitioned by key, with ambiguous writes as nondeterministic
// steps (applied at some time of their window, or not at all).
func Model() porcupine.Model {
	nm := porcupine.NondeterministicModel{
		Partition: partitionByKey,
		Init:      func() []any { return []any{register{}} },
		Step: func(state, input, output any) []any {
			next := step(state.(register), input.(Input), output.(Output))
			res := make([]any, len(next))
			for i, n := range next {
				res[i] = n
			}
			return res
		},
		Equal: func(a, b any) bool { return a.(register) == b.(register) },
		Hash: func(state any) uint64 {
			r := state.(register)
			h := fnv.New64a()
			fmt.Fprintf(h, "%t|%s|%d|%d|%d|%d|%d", r.exists, r.l.HolderID, r.l.Term, r.l.Generation,
				r.l.AcquiredAtMs, r.l.ExpiresAtMs, r.l.ReleasedAtMs)
			return h.Sum64()
		},
		DescribeOperation: func(input, output any) string {
			return Op{Input: input.(Input), Output: output.(Output)}.String()
		},
		DescribeState: func(state any) string { return state.(register).String() },
	}
	return nm.ToModel()
}

func partitionByKey(history []porcupine.Operation) [][]porcupine.Operation {
	byKey := map[string][]porcupine.Operation{}
	for _, op := range history {
		k := op.Input.(Input).Key
		byKey[k] = append(byKey[k], op)
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([][]porcupine.Operation, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, byKey[k])
	}
	return parts
}

// describeOps renders a few ops for failure messages.
func describeOps(ops []Op) string {
	var b strings.Builder
	for _, op := range ops {
		b.WriteString("\n  ")
		b.WriteString(op.String())
	}
	return b.String()
}
