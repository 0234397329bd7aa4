package lease

import (
	"math"
	"time"
)

// The rules below are pure: given what is stored (nil when nothing is) and
// the service's clock, they either refuse or return the record to write.
// write=false means the answer is cur itself and nothing needs storing.
// They are every change redlease makes to a stored record, each reached
// through one Service method: Acquire, Refresh, Release and
// MarkExpiryReported.

// written is the record an acquire, refresh or release stores for l. It
// never carries the sweep's mark: each of them starts a new expiry (or ends
// the lease), and a new expiry must be reported again when it passes.
func written(l Lease) Record { return Record{Lease: l} }

func decideAcquire(cur *Record, r AcquireRequest, nowMs uint64) (next Record, write bool, err error) {
	generation := uint64(1)
	if cur != nil {
		// The term fence comes first, even over an expired or released lease.
		if r.Term < cur.Term {
			return Record{}, false, &FencedError{AttemptedTerm: r.Term, CurrentTerm: cur.Term}
		}
		if !cur.FreeAt(nowMs) && cur.HolderID != r.HolderID {
			return Record{}, false, &HeldError{
				Current:    cur.Lease,
				RetryAfter: msDuration(cur.ExpiresAtMs - nowMs),
			}
		}
		if cur.Generation >= MaxSafeInteger {
			return Record{}, false, ErrExhausted
		}
		generation = cur.Generation + 1
	}
	return written(Lease{
		DatabaseKey:  r.DatabaseKey,
		HolderID:     r.HolderID,
		Term:         r.Term,
		Generation:   generation,
		AcquiredAtMs: nowMs,
		ExpiresAtMs:  nowMs + r.TTLMs,
	}), true, nil
}

// fencedBeforeIO applies refresh_for_term's check that needs no storage.
func fencedBeforeIO(r RefreshRequest) error {
	if r.Term != 0 && r.CurrentTerm != 0 && r.Term < r.CurrentTerm {
		return &FencedError{AttemptedTerm: r.Term, CurrentTerm: r.CurrentTerm}
	}
	return nil
}

func decideRefresh(cur *Record, r RefreshRequest, nowMs uint64) (next Record, write bool, err error) {
	if cur == nil {
		return Record{}, false, &StaleError{HolderID: r.HolderID, Generation: r.Generation}
	}
	if cur.HolderID != r.HolderID || cur.Generation != r.Generation || cur.Released() ||
		(r.Term != 0 && cur.Term != r.Term) {
		current := cur.Lease
		return Record{}, false, &StaleError{HolderID: r.HolderID, Generation: r.Generation, Current: &current}
	}
	if r.CurrentTerm != 0 && cur.Term < r.CurrentTerm {
		return Record{}, false, &FencedError{AttemptedTerm: cur.Term, CurrentTerm: r.CurrentTerm}
	}
	next = written(cur.Lease)
	next.ExpiresAtMs = nowMs + r.TTLMs
	return next, true, nil
}

func decideRelease(cur *Record, r ReleaseRequest, nowMs uint64) (next Record, write bool, err error) {
	if cur == nil {
		return Record{}, false, &StaleError{HolderID: r.HolderID, Generation: r.Generation}
	}
	if cur.HolderID != r.HolderID || cur.Generation != r.Generation {
		current := cur.Lease
		return Record{}, false, &StaleError{HolderID: r.HolderID, Generation: r.Generation, Current: &current}
	}
	if cur.Released() {
		return *cur, false, nil // releasing twice answers the same record
	}
	next = written(cur.Lease)
	next.ReleasedAtMs = max(nowMs, 1)
	next.ExpiresAtMs = min(cur.ExpiresAtMs, nowMs)
	return next, true, nil
}

// decideMarkReported is the sweep's only write: the same record with
// ExpiryReportedMs set, saying that a "Lease Expired" event went out for
// this generation and expiry. Only a lease that expired without release is
// marked; a live or released one is refused (the sweep's expectation did
// not hold), because a mark on it would silence the report of an expiry
// still to come. A record already marked needs no write.
func decideMarkReported(cur Record, nowMs uint64) (next Record, write bool, err error) {
	if cur.StateAt(nowMs) != StateExpired {
		return Record{}, false, &PreconditionError{}
	}
	if cur.ExpiryReportedMs != 0 {
		return cur, false, nil
	}
	next = cur
	next.ExpiryReportedMs = max(nowMs, 1) // 0 would mean "not reported"
	return next, true, nil
}

// msDuration converts milliseconds to a Duration, saturating instead of
// overflowing for absurd stored expiries.
func msDuration(ms uint64) time.Duration {
	const maxMs = uint64(math.MaxInt64 / int64(time.Millisecond))
	if ms > maxMs {
		ms = maxMs
	}
	return time.Duration(ms) * time.Millisecond //nolint:gosec // bounded above
}
