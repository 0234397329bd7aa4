package lease

import "fmt"

// The rules of RedDB's own lease protocol, as the RedDB face serves it
// (pkg/api/reddb). RedDB writes its lease object whole, with its own
// clock's times, by compare-and-swap at a version it read. The face hands
// over the record RedDB sent and the version it named; these rules read
// the record as an intent (refresh, or acquire of the next generation),
// decide it with the service's clock and build the record to store, whose
// times are the service's. They are pure, like rules.go.

// objectIntent is RedDB's PUT of its lease object, decoded.
type objectIntent struct {
	body      Record
	principal Principal
}

// IntentError refuses a write of a lease object that does not follow from
// what is stored: the status RedDB reads as a failed precondition, so that
// it reports the lease as held (when it is, by its own clock) or as lost.
// Nothing was written. Current is the stored lease when there is one.
type IntentError struct {
	Reason  string
	Current *Lease
}

func (e *IntentError) Error() string { return "lease object write refused: " + e.Reason }

// Is makes errors.Is(err, ErrPrecondition) true.
func (e *IntentError) Is(target error) bool { return target == ErrPrecondition }

func refused(cur *Record, format string, args ...any) error {
	e := &IntentError{Reason: fmt.Sprintf(format, args...)}
	if cur != nil {
		l := cur.Lease
		e.Current = &l
	}
	return e
}

// decideObjectPut decides RedDB's write of its lease object over cur, the
// record stored at the version RedDB named (nil when it named none, with
// If-None-Match: *).
//
//   - Same holder and generation as stored: a refresh. Only the expiry
//     changes, to now plus the TTL learnt at the acquire.
//   - The stored generation + 1 at a term not behind the stored one, over
//     a lease that is free by the service's clock or is the same holder's
//     and principal's: an acquire. Nothing (generation 1) likewise.
//   - Anything else: refused, nothing written.
//
// An acquire learns the TTL from the body (expires_at_ms - acquired_at_ms,
// which RedDB sets from its own clock a moment apart) and keeps it in the
// record; a refresh body's difference is the lease's age plus its TTL, so
// refreshes always use the stored value.
func decideObjectPut(cur *Record, in objectIntent, nowMs uint64, limits Limits) (Record, error) {
	b := in.body
	if cur == nil {
		if b.Generation != 1 {
			return Record{}, refused(nil, "there is no lease object, so the next generation is 1, not %d", b.Generation)
		}
		return acquiredObject(b, 1, in.principal, nowMs, DefaultTerm, limits)
	}
	if b.HolderID == cur.HolderID && b.Generation == cur.Generation {
		return refreshedObject(cur, b, in.principal, nowMs)
	}
	if b.Generation != cur.Generation+1 {
		return Record{}, refused(cur, "generation %d does not follow the stored generation %d", b.Generation, cur.Generation)
	}
	if b.Term < cur.Term {
		return Record{}, refused(cur, "term %d is behind the current term %d", b.Term, cur.Term)
	}
	sameHolder := cur.HolderID == b.HolderID && !ownedByOther(*cur, in.principal)
	if !cur.FreeAt(nowMs) && !sameHolder {
		return Record{}, refused(cur, "the lease is held by %q (generation %d) for another %d ms",
			cur.HolderID, cur.Generation, cur.ExpiresAtMs-nowMs)
	}
	if cur.Generation >= MaxSafeInteger {
		return Record{}, ErrExhausted
	}
	return acquiredObject(b, cur.Generation+1, in.principal, nowMs, cur.Term, limits)
}

// acquiredObject is the record an acquire through the face stores.
func acquiredObject(b Record, generation uint64, p Principal, nowMs, baseTerm uint64, limits Limits) (Record, error) {
	if b.Term-baseTerm > limits.MaxTermJump { // b.Term >= baseTerm here
		return Record{}, invalid("term", "may be at most %d above the current term %d, got %d", limits.MaxTermJump, baseTerm, b.Term)
	}
	if b.ExpiresAtMs < b.AcquiredAtMs {
		return Record{}, invalid("ttl_ms", "expires_at_ms %d is before acquired_at_ms %d", b.ExpiresAtMs, b.AcquiredAtMs)
	}
	ttl := b.ExpiresAtMs - b.AcquiredAtMs
	if err := limits.ValidateTTL(ttl); err != nil {
		return Record{}, fmt.Errorf("RedDB's lease TTL (RED_LEASE_TTL_SECS, expires_at_ms - acquired_at_ms): %w", err)
	}
	next := written(Lease{
		DatabaseKey:  b.DatabaseKey,
		HolderID:     b.HolderID,
		Term:         b.Term,
		Generation:   generation,
		AcquiredAtMs: nowMs,
		ExpiresAtMs:  nowMs + ttl,
	}, stored(p))
	next.TTLMs = ttl
	return next, nil
}

// refreshedObject is cur refreshed by RedDB's write of the same holder and
// generation.
func refreshedObject(cur *Record, b Record, p Principal, nowMs uint64) (Record, error) {
	switch {
	case cur.Released():
		return Record{}, refused(cur, "generation %d was released", cur.Generation)
	case ownedByOther(*cur, p):
		return Record{}, refused(cur, "the lease belongs to another principal")
	case b.Term != cur.Term:
		return Record{}, refused(cur, "term %d is not the lease's term %d", b.Term, cur.Term)
	case cur.TTLMs == 0:
		return Record{}, refused(cur, "the lease was not acquired through the RedDB face, so it has no TTL to refresh by")
	}
	next := written(cur.Lease, cur.Principal)
	next.TTLMs = cur.TTLMs
	next.ExpiresAtMs = nowMs + cur.TTLMs
	return next, nil
}

// decideObjectDelete is RedDB's release: a DELETE of its lease object at
// the version it read becomes the released marker, so the generation
// survives and the next acquire takes generation + 1.
func decideObjectDelete(cur Record, p Principal, nowMs uint64) (Record, error) {
	switch {
	case cur.Released():
		return Record{}, refused(&cur, "generation %d was released already", cur.Generation)
	case ownedByOther(cur, p):
		return Record{}, refused(&cur, "the lease belongs to another principal")
	}
	return releasedAt(cur, nowMs), nil
}

// Why a data write was refused (DataWriteError.Reason).
const (
	DataNoLease     = "no lease record exists for the database, and the service requires one"
	DataNotHeld     = "the database's lease is not held (expired or released); writes are refused until someone holds it"
	DataExpiring    = "the database's lease expires within the fence margin; refresh it first"
	DataHeldByOther = "the database's lease is held by another principal"
)

// DataWriteError refuses a write of a database's data object: the writer
// does not hold the database's live lease. It matches ErrForbidden.
type DataWriteError struct {
	DatabaseKey string
	Reason      string
}

func (e *DataWriteError) Error() string {
	return fmt.Sprintf("data write to %q refused: %s", e.DatabaseKey, e.Reason)
}

// Is makes errors.Is(err, ErrForbidden) true.
func (e *DataWriteError) Is(target error) bool { return target == ErrForbidden }

// decideDataWrite is the fence on a database's data objects: a write is
// accepted only from the principal that holds the database's live lease,
// and only while the lease has more than marginMs to run, so that it
// completes before anyone else can acquire. With no record at all the
// write is allowed unless requireLease. A record without a principal
// (written before principals, or by an open server) fences by liveness
// only. It returns the lease's expiry when there is one.
func decideDataWrite(cur *Record, p Principal, nowMs, marginMs uint64, requireLease bool) (uint64, error) {
	if cur == nil {
		if requireLease {
			return 0, &DataWriteError{Reason: DataNoLease}
		}
		return 0, nil
	}
	switch {
	case cur.FreeAt(nowMs):
		return 0, &DataWriteError{DatabaseKey: cur.DatabaseKey, Reason: DataNotHeld}
	case ownedByOther(*cur, p):
		return 0, &DataWriteError{DatabaseKey: cur.DatabaseKey, Reason: DataHeldByOther}
	case cur.ExpiresAtMs-nowMs <= marginMs:
		return 0, &DataWriteError{DatabaseKey: cur.DatabaseKey, Reason: DataExpiring}
	}
	return cur.ExpiresAtMs, nil
}
