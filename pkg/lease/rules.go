package lease

import (
	"math"
	"time"
)

// The rules below are pure: given what is stored (nil when nothing is) and
// the service's clock, they either refuse or return the record to write.
// write=false means the answer is cur itself and nothing needs storing.
// They are every change redlease makes to a stored record, each reached
// through one Service method: Acquire, Refresh, Release, ForceRelease and
// MarkExpiryReported.

// written is the record an acquire, refresh or release stores for l,
// owned by principal. It never carries the sweep's mark: each of them
// starts a new expiry (or ends the lease), and a new expiry must be
// reported again when it passes.
func written(l Lease, principal string) Record { return Record{Lease: l, Principal: principal} }

func decideAcquire(cur *Record, r AcquireRequest, nowMs, maxTermJump uint64) (next Record, write bool, err error) {
	generation, base := uint64(1), DefaultTerm
	if cur != nil {
		// The term fence comes first, even over an expired or released lease.
		if r.Term < cur.Term {
			return Record{}, false, &FencedError{AttemptedTerm: r.Term, CurrentTerm: cur.Term}
		}
		base = cur.Term
	}
	if r.Term-base > maxTermJump { // r.Term >= base here
		return Record{}, false, invalid("term",
			"may be at most %d above the current term %d, got %d", maxTermJump, base, r.Term)
	}
	if cur != nil {
		// The same holder id re-acquires only as the same principal: a
		// live lease of another principal is held, whatever its holder id.
		sameHolder := cur.HolderID == r.HolderID && !ownedByOther(*cur, r.Principal)
		if !cur.FreeAt(nowMs) && !sameHolder {
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
	}, stored(r.Principal)), true, nil
}

// stored is the principal name an acquire records: none for Anonymous, so
// that an open server writes exactly RedDB's bytes and its records behave
// as records without a principal if tokens are turned on later.
func stored(p Principal) string {
	if p.Name == AnonymousName {
		return ""
	}
	return p.Name
}

// forbiddenOwner refuses a request on a lease another principal owns.
func forbiddenOwner(cur Record, p Principal) error {
	return &ForbiddenError{Principal: p.Name, Key: cur.DatabaseKey, Reason: ReasonOtherPrincipal, Owner: cur.Principal}
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
	if ownedByOther(*cur, r.Principal) {
		return Record{}, false, forbiddenOwner(*cur, r.Principal)
	}
	if cur.HolderID != r.HolderID || cur.Generation != r.Generation || cur.Released() ||
		(r.Term != 0 && cur.Term != r.Term) {
		current := cur.Lease
		return Record{}, false, &StaleError{HolderID: r.HolderID, Generation: r.Generation, Current: &current}
	}
	if r.CurrentTerm != 0 && cur.Term < r.CurrentTerm {
		return Record{}, false, &FencedError{AttemptedTerm: cur.Term, CurrentTerm: r.CurrentTerm}
	}
	next = written(cur.Lease, cur.Principal) // a legacy record stays without one
	next.TTLMs = cur.TTLMs                   // what a RedDB's refreshes through the face extend by
	next.ExpiresAtMs = nowMs + r.TTLMs
	return next, true, nil
}

func decideRelease(cur *Record, r ReleaseRequest, nowMs uint64) (next Record, write bool, err error) {
	if cur == nil {
		return Record{}, false, &StaleError{HolderID: r.HolderID, Generation: r.Generation}
	}
	if ownedByOther(*cur, r.Principal) {
		return Record{}, false, forbiddenOwner(*cur, r.Principal)
	}
	if cur.HolderID != r.HolderID || cur.Generation != r.Generation {
		current := cur.Lease
		return Record{}, false, &StaleError{HolderID: r.HolderID, Generation: r.Generation, Current: &current}
	}
	if cur.Released() {
		return *cur, false, nil // releasing twice answers the same record
	}
	return releasedAt(*cur, nowMs), true, nil
}

// releasedAt is cur released at nowMs: RedDB then reads an expired lease
// of nobody, and the next acquire takes generation + 1.
func releasedAt(cur Record, nowMs uint64) Record {
	next := written(cur.Lease, cur.Principal)
	next.ReleasedAtMs = max(nowMs, 1)
	next.ExpiresAtMs = min(cur.ExpiresAtMs, nowMs)
	return next
}

// decideForceRelease is the break-glass release: the released marker
// whatever the holder and its principal. The admin's authority was checked
// before any storage request (validateForceRelease). A missing record is
// not found; one already released needs no write.
func decideForceRelease(cur *Record, nowMs uint64) (next Record, write bool, err error) {
	if cur == nil {
		return Record{}, false, ErrNotFound
	}
	if cur.Released() {
		return *cur, false, nil
	}
	return releasedAt(*cur, nowMs), true, nil
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
