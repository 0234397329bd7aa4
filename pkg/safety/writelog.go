package safety

import (
	"fmt"

	"github.com/redlease/redlease/pkg/backend/faulty"
	"github.com/redlease/redlease/pkg/lease"
)

// CheckWriteLog checks the ground truth: the sequence of records that
// actually reached the store (faulty.Store.Writes), whatever the callers
// were told. Per key, each write either
//
//   - keeps the generation, holder, term and acquired_at of the record
//     before it and that record was not released (a refresh or a release), or
//   - is generation + 1 at a term no lower (an acquire), and, unless the
//     same holder re-acquired, the record before was released or expired at
//     the new acquired_at (with sharedClock; skip it when instances' clocks
//     differ).
//
// The first write of a key is generation 1.
func CheckWriteLog(writes []faulty.Write, sharedClock bool) []error {
	var errs []error
	last := map[string]lease.Record{}
	for _, w := range writes {
		r := w.Record
		prev, ok := last[r.DatabaseKey]
		last[r.DatabaseKey] = r
		desc := fmt.Sprintf("write #%d (%s, caller saw %s) %s", w.Seq, w.Op, w.Fault, describeLease(r.Lease))
		if !ok {
			if r.Generation != 1 {
				errs = append(errs, fmt.Errorf("%s: first record of the key is not generation 1", desc))
			}
			continue
		}
		switch r.Generation {
		case prev.Generation:
			if r.HolderID != prev.HolderID || r.Term != prev.Term || r.AcquiredAtMs != prev.AcquiredAtMs {
				errs = append(errs, fmt.Errorf("%s changed holder, term or acquired_at of %s", desc, describeLease(prev.Lease)))
			}
			if prev.Released() {
				errs = append(errs, fmt.Errorf("%s rewrote the released %s", desc, describeLease(prev.Lease)))
			}
		case prev.Generation + 1:
			if r.Term < prev.Term {
				errs = append(errs, fmt.Errorf("%s lowered the term of %s", desc, describeLease(prev.Lease)))
			}
			if sharedClock && r.HolderID != prev.HolderID && !prev.FreeAt(r.AcquiredAtMs) {
				errs = append(errs, fmt.Errorf("%s took over the live %s", desc, describeLease(prev.Lease)))
			}
			if r.Released() {
				errs = append(errs, fmt.Errorf("%s: an acquire wrote a released record", desc))
			}
		default:
			errs = append(errs, fmt.Errorf("%s: generation jumped from %d", desc, prev.Generation))
		}
	}
	return errs
}

// CheckAnswersStored checks that every successful write call returned a
// record that really reached the store (never a success for a write that
// did not happen). A repeated release answers a record that an earlier
// write stored.
func CheckAnswersStored(ops []Op, writes []faulty.Write) []error {
	stored := map[lease.Lease]bool{}
	for _, w := range writes {
		stored[w.Record.Lease] = true
	}
	var errs []error
	for _, op := range ops {
		if op.Output.Outcome != OutcomeOK || op.Input.Kind == KindGet {
			continue
		}
		if !stored[op.Output.Lease] {
			errs = append(errs, fmt.Errorf("answered a record that was never stored: %s", op))
		}
	}
	return errs
}
