package safety

import (
	"fmt"
	"sort"
)

// InvariantOptions tune CheckInvariants.
type InvariantOptions struct {
	// SharedClock says every service instance read the same clock, so that
	// lease times of different instances compare directly. Without it the
	// exclusivity check is left to the skew tests, which know the skew.
	SharedClock bool
}

type genKey struct {
	key string
	gen uint64
}

// relKey names a release by the holder of a generation.
type relKey struct {
	genKey
	holder string
}

// CheckInvariants checks the safety properties of a history directly,
// independently of the linearizability model:
//
//   - per key, the generations of successful acquires strictly increase in
//     real-time order (an acquire that returned before another was called
//     has the smaller generation), and no (key, generation) is handed out
//     twice; terms never decrease along that order;
//   - every successful op on a (key, generation) agrees with the acquire
//     that handed it out on holder, term and acquired_at (a refresh or
//     release never changes them);
//   - with a shared clock: no two holders overlap, i.e. an acquire by
//     another holder decided at t never succeeds while an earlier
//     generation's lease, as last granted to its holder, still ran at t,
//     unless that generation was released (or maybe released);
//   - no call ever ended in an unexpected error.
func CheckInvariants(ops []Op, opts InvariantOptions) []error {
	var errs []error
	byKey := map[string][]Op{}
	for _, op := range ops {
		if op.Output.Outcome == OutcomeUnexpected {
			errs = append(errs, fmt.Errorf("unexpected error: %s (%s)", op, op.Output.Err))
		}
		if op.Output.Outcome == OutcomeFenced && op.Output.AttemptedTerm >= op.Output.CurrentTerm {
			errs = append(errs, fmt.Errorf("fenced although term %d is not behind %d: %s",
				op.Output.AttemptedTerm, op.Output.CurrentTerm, op))
		}
		byKey[op.Input.Key] = append(byKey[op.Input.Key], op)
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		errs = append(errs, checkKey(byKey[k], opts)...)
	}
	return errs
}

func checkKey(ops []Op, opts InvariantOptions) []error {
	var errs []error
	var acquires []Op
	granted := map[genKey]Op{} // the acquire that handed out each generation
	for _, op := range ops {
		if op.Input.Kind == KindAcquire && op.Output.Outcome == OutcomeOK {
			acquires = append(acquires, op)
			gk := genKey{op.Input.Key, op.Output.Lease.Generation}
			if prev, dup := granted[gk]; dup {
				errs = append(errs, fmt.Errorf("generation handed out twice:\n  %s\n  %s", prev, op))
			}
			granted[gk] = op
		}
	}
	errs = append(errs, checkMonotonic(acquires)...)

	// Every success on a generation agrees with its acquire.
	released := map[relKey]bool{}
	for _, op := range ops {
		if op.Input.Kind == KindRelease && (op.Output.Outcome == OutcomeOK || op.Ambiguous()) {
			released[relKey{genKey{op.Input.Key, op.Input.Generation}, op.Input.Holder}] = true
		}
		if op.Output.Outcome != OutcomeOK || op.Input.Kind == KindAcquire || op.Input.Kind == KindGet {
			continue
		}
		l := op.Output.Lease
		if l.Generation != op.Input.Generation || l.HolderID != op.Input.Holder {
			errs = append(errs, fmt.Errorf("%s answered for another holder or generation: %s", op.Input.Kind, op))
		}
		if op.Input.Kind == KindRefresh && l.Released() {
			errs = append(errs, fmt.Errorf("refresh succeeded on a released lease: %s", op))
		}
		acq, ok := granted[genKey{op.Input.Key, l.Generation}]
		if !ok {
			continue // handed out by an ambiguous acquire
		}
		a := acq.Output.Lease
		if a.HolderID != l.HolderID || a.Term != l.Term || a.AcquiredAtMs != l.AcquiredAtMs {
			errs = append(errs, fmt.Errorf("%s changed holder, term or acquired_at of\n  %s\n  to %s",
				op.Input.Kind, acq, op))
		}
	}
	if opts.SharedClock {
		errs = append(errs, checkExclusive(ops, acquires, released)...)
	}
	return errs
}

// checkMonotonic checks that generations and terms of successful acquires
// grow along real time.
func checkMonotonic(acquires []Op) []error {
	var errs []error
	byReturn := append([]Op(nil), acquires...)
	sort.Slice(byReturn, func(i, j int) bool { return byReturn[i].Return < byReturn[j].Return })
	byCall := append([]Op(nil), acquires...)
	sort.Slice(byCall, func(i, j int) bool { return byCall[i].Call < byCall[j].Call })
	var (
		i       int
		maxGen  Op
		maxTerm Op
		seen    bool
	)
	for _, b := range byCall {
		for i < len(byReturn) && byReturn[i].Return < b.Call {
			a := byReturn[i]
			if !seen || a.Output.Lease.Generation > maxGen.Output.Lease.Generation {
				maxGen = a
			}
			if !seen || a.Output.Lease.Term > maxTerm.Output.Lease.Term {
				maxTerm = a
			}
			seen = true
			i++
		}
		if !seen {
			continue
		}
		if b.Output.Lease.Generation <= maxGen.Output.Lease.Generation {
			errs = append(errs, fmt.Errorf("generation did not grow: acquire\n  %s\nreturned before\n  %s\nwas called", maxGen, b))
		}
		if b.Output.Lease.Term < maxTerm.Output.Lease.Term {
			errs = append(errs, fmt.Errorf("term went backwards: acquire\n  %s\nreturned before\n  %s\nwas called", maxTerm, b))
		}
	}
	return errs
}

// checkExclusive checks that no acquire by another holder succeeded while
// the generation before it was still granted and not released. Checking
// the generation just before suffices: each acquire is checked against its
// own predecessor. A re-acquire by the same holder supersedes its own
// earlier generation, as in RedDB.
//
// A refresh sets expires_at = now + ttl, so a refresh with a shorter ttl
// shortens the lease: what counts is the grant decided last (on a shared,
// monotonic clock, decision time orders the grants of one generation).
// Where that order is unclear (same decision time, or an ambiguous
// refresh that may have landed last) the earliest possible expiry counts.
func checkExclusive(ops, acquires []Op, released map[relKey]bool) []error {
	type grant struct {
		at, until uint64
		by        Op
	}
	last := map[uint64]grant{}
	for _, op := range ops {
		if op.Output.Outcome != OutcomeOK || (op.Input.Kind != KindAcquire && op.Input.Kind != KindRefresh) {
			continue
		}
		l := op.Output.Lease
		at := l.AcquiredAtMs
		if op.Input.Kind == KindRefresh {
			at = l.ExpiresAtMs - op.Input.TTLMs
		}
		cur, ok := last[l.Generation]
		if !ok || at > cur.at || (at == cur.at && l.ExpiresAtMs < cur.until) {
			last[l.Generation] = grant{at: at, until: l.ExpiresAtMs, by: op}
		}
	}
	for _, op := range ops {
		if !op.Ambiguous() || op.Input.Kind != KindRefresh {
			continue
		}
		cur, ok := last[op.Input.Generation]
		if !ok || cur.by.Input.Holder != op.Input.Holder || op.Output.EndMs < cur.at {
			continue
		}
		if until := max(op.Output.StartMs, cur.at) + op.Input.TTLMs; until < cur.until {
			cur.until, cur.by = until, op
			last[op.Input.Generation] = cur
		}
	}
	var errs []error
	for _, b := range acquires {
		nb := b.Output.Lease
		a, ok := last[nb.Generation-1]
		if !ok {
			continue
		}
		if a.by.Input.Holder == nb.HolderID || released[relKey{genKey{nb.DatabaseKey, nb.Generation - 1}, a.by.Input.Holder}] {
			continue
		}
		if a.until > nb.AcquiredAtMs {
			errs = append(errs, fmt.Errorf("two holders at once: %s was granted generation %d until %d by\n  %s\nbut\n  %s\nacquired at %d",
				a.by.Input.Holder, nb.Generation-1, a.until, a.by, b, nb.AcquiredAtMs))
		}
	}
	return errs
}
