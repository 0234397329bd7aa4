package lease

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// MaxLeaseObjectBytes bounds the body of a lease object write: a record is
// a few hundred bytes.
const MaxLeaseObjectBytes = 4 << 10

// LeaseObjectPut is RedDB's PUT of its lease object
// ({prefix}{DatabaseKey}.lease.json), which always carries exactly one of
// the two conditions.
type LeaseObjectPut struct {
	Principal   Principal
	DatabaseKey string
	// Body is the record RedDB sent, as sent.
	Body []byte
	// IfNoneMatch: RedDB expects no object (If-None-Match: *).
	IfNoneMatch bool
	// IfMatch: RedDB expects the object at this version (If-Match).
	IfMatch Version
}

// LeaseObjectDelete is RedDB's DELETE of its lease object (If-Match).
type LeaseObjectDelete struct {
	Principal   Principal
	DatabaseKey string
	IfMatch     Version
}

// ReadLeaseObject reads the record behind a lease object with its version,
// fresh from the store (never from the cache), for a HEAD or GET: RedDB
// compares the versions of two reads around a GET, so they must be current.
// A missing record is ErrNotFound.
func (s *Service) ReadLeaseObject(ctx context.Context, p Principal, key string) (Versioned, error) {
	if err := s.checkKey(p, key); err != nil {
		return Versioned{}, fmt.Errorf("read lease object %q: %w", key, err)
	}
	var v *Versioned
	err := s.retryUnavailable(ctx, func() (err error) {
		v, err = s.load(ctx, key)
		return err
	})
	if err != nil {
		return Versioned{}, fmt.Errorf("read lease object %q: %w", key, err)
	}
	if v.Version == "" {
		return Versioned{}, fmt.Errorf("read lease object %q: %w", key, ErrNotFound)
	}
	return *v, nil
}

// RedDB gives up its lease for good on the first failed request of a
// refresh (it drains and never re-acquires; docs/reddb-protocol.md), so
// the face absorbs what storage failures it can before answering: reads
// are repeated, and an ambiguous conditional write is resolved by reading
// what it left (commit). objectAttempts bounds both, with a short pause
// between attempts: well under RedDB's shortest refresh interval (1 s).
const objectAttempts = 3

var objectRetryPause = 50 * time.Millisecond

// retryUnavailable runs op until it succeeds, fails with anything but
// ErrUnavailable, or objectAttempts are spent.
func (s *Service) retryUnavailable(ctx context.Context, op func() error) error {
	var err error
	for attempt := range objectAttempts {
		if attempt > 0 {
			if perr := pause(ctx, attempt); perr != nil {
				return err
			}
		}
		if err = op(); err == nil || !errors.Is(err, ErrUnavailable) {
			return err
		}
	}
	return err
}

// pause waits before attempt (1, 2, ...), doubling each time.
func pause(ctx context.Context, attempt int) error {
	t := time.NewTimer(objectRetryPause << (attempt - 1))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// PutLeaseObject decides RedDB's write of its lease object by the rules of
// rules_reddb.go and stores the record they build, with the service's
// times, by compare-and-swap at exactly the version RedDB named. A refusal
// is an *IntentError (ErrPrecondition), also when the version RedDB named
// is not the stored one; nothing is written then.
//
// It costs one conditional write when the cache holds the record at the
// named version (RedDB has just read it, through this instance), else one
// read and one write. Unlike Acquire it never retries: RedDB named a
// version, and a write at any other version would not be the one it asked
// for.
func (s *Service) PutLeaseObject(ctx context.Context, r LeaseObjectPut) (Versioned, error) {
	v, err := s.putLeaseObject(ctx, r)
	if err != nil {
		return Versioned{}, fmt.Errorf("put lease object %q: %w", r.DatabaseKey, err)
	}
	return v, nil
}

func (s *Service) putLeaseObject(ctx context.Context, r LeaseObjectPut) (Versioned, error) {
	if err := s.checkKey(r.Principal, r.DatabaseKey); err != nil {
		return Versioned{}, err
	}
	if r.IfNoneMatch == (r.IfMatch != "") {
		return Versioned{}, invalid("if-match", "a lease object write needs exactly one of If-None-Match: * and If-Match")
	}
	body, err := s.decodeLeaseObject(r.DatabaseKey, r.Body)
	if err != nil {
		return Versioned{}, err
	}
	in := objectIntent{body: body, principal: r.Principal}
	if r.IfNoneMatch {
		next, err := decideObjectPut(nil, in, UnixMs(s.now()), s.limits)
		if err != nil {
			return Versioned{}, err
		}
		return s.commit(ctx, next, "")
	}
	cur, err := s.atVersion(ctx, r.DatabaseKey, r.IfMatch)
	if err != nil {
		return Versioned{}, err
	}
	next, err := decideObjectPut(&cur, in, UnixMs(s.now()), s.limits)
	if err != nil {
		return Versioned{}, err
	}
	return s.commit(ctx, next, r.IfMatch)
}

// DeleteLeaseObject is RedDB's release: at the version it named, the
// record becomes the released marker (never deleted), so the next acquire
// takes generation + 1. Refusals are *IntentError, as for PutLeaseObject.
func (s *Service) DeleteLeaseObject(ctx context.Context, r LeaseObjectDelete) (Versioned, error) {
	v, err := s.deleteLeaseObject(ctx, r)
	if err != nil {
		return Versioned{}, fmt.Errorf("delete lease object %q: %w", r.DatabaseKey, err)
	}
	return v, nil
}

func (s *Service) deleteLeaseObject(ctx context.Context, r LeaseObjectDelete) (Versioned, error) {
	if err := s.checkKey(r.Principal, r.DatabaseKey); err != nil {
		return Versioned{}, err
	}
	if r.IfMatch == "" {
		return Versioned{}, invalid("if-match", "a lease object delete needs If-Match")
	}
	cur, err := s.atVersion(ctx, r.DatabaseKey, r.IfMatch)
	if err != nil {
		return Versioned{}, err
	}
	next, err := decideObjectDelete(cur, r.Principal, UnixMs(s.now()))
	if err != nil {
		return Versioned{}, err
	}
	return s.commit(ctx, next, r.IfMatch)
}

// checkKey is the validation and authorisation every face operation makes
// before any storage request.
func (s *Service) checkKey(p Principal, key string) error {
	if err := s.limits.ValidateKey(key); err != nil {
		return err
	}
	return authorize(p, key)
}

// decodeLeaseObject reads RedDB's body with RedDB's own rules and checks
// what the rules rely on.
func (s *Service) decodeLeaseObject(key string, data []byte) (Record, error) {
	if len(data) > MaxLeaseObjectBytes {
		return Record{}, invalid("body", "a lease object is at most %d bytes, got %d", MaxLeaseObjectBytes, len(data))
	}
	b, err := DecodeRecord(data)
	if err != nil {
		return Record{}, invalid("body", "is not a lease record: %s", strings.TrimPrefix(err.Error(), ErrCorrupt.Error()+": "))
	}
	switch {
	case b.DatabaseKey != key:
		return Record{}, invalid("database_key", "the record names %q but is written to the lease object of %q", b.DatabaseKey, key)
	case b.Released(), b.ExpiryReportedMs != 0, b.Principal != "", b.TTLMs != 0:
		// What redlease alone writes; a RedDB never sends it.
		return Record{}, invalid("body", "holds members only the service writes (released_at_ms, released_holder_id, expiry_reported_ms, principal, ttl_ms)")
	}
	if err := s.limits.ValidateHolder(b.HolderID); err != nil {
		return Record{}, err
	}
	if err := ValidatePositive("generation", b.Generation); err != nil {
		return Record{}, err
	}
	if err := ValidatePositive("term", b.Term); err != nil {
		return Record{}, err
	}
	return b, nil
}

// atVersion is the record stored at version: from the cache when it holds
// exactly that version (a version names one content, so the cached record
// is the stored one if the store is still at it, and the conditional write
// that follows proves whether it is), else read. Another version, or none,
// is a refusal.
func (s *Service) atVersion(ctx context.Context, key string, version Version) (Record, error) {
	cur := s.cache.get(key)
	if cur == nil || cur.Version != version {
		if err := s.retryUnavailable(ctx, func() (err error) {
			cur, err = s.load(ctx, key)
			return err
		}); err != nil {
			return Record{}, err
		}
	}
	switch {
	case cur.Version == "":
		return Record{}, refused(nil, "there is no lease object")
	case cur.Version != version:
		return Record{}, refused(&cur.Record, "the lease object is not at the version named in If-Match")
	}
	return cur.Record, nil
}

// commit writes next by compare-and-swap at expect (create when empty). A
// lost compare-and-swap is a refusal: RedDB named a version, or no object,
// and that no longer holds. A write that failed with ErrUnavailable may or
// may not have been applied, and RedDB would drain on the error, so commit
// reads what it left: next itself means it was applied (success), the
// version RedDB named means it was not (write again), anything else is a
// refusal. At most objectAttempts writes.
func (s *Service) commit(ctx context.Context, next Record, expect Version) (Versioned, error) {
	key := next.DatabaseKey
	write := func() (Version, error) {
		if expect == "" {
			return s.store.Create(ctx, next)
		}
		return s.store.Replace(ctx, next, expect)
	}
	var err error
	for attempt := range objectAttempts {
		if attempt > 0 {
			if perr := pause(ctx, attempt); perr != nil {
				break
			}
			applied, retry, rerr := s.inspect(ctx, next, expect)
			switch {
			case rerr != nil:
				continue // cannot tell yet; look again after the next pause
			case applied != nil:
				s.cache.put(key, *applied)
				return *applied, nil
			case !retry:
				s.cache.drop(key)
				return Versioned{}, refused(nil, "the lease object changed while the service retried its write")
			}
		}
		var version Version
		if version, err = write(); err == nil {
			v := Versioned{Record: next, Version: version}
			s.cache.put(key, v)
			return v, nil
		}
		s.cache.drop(key)
		if errors.Is(err, ErrPrecondition) {
			return Versioned{}, refused(nil, "the lease object changed before the write")
		}
		if !errors.Is(err, ErrUnavailable) {
			return Versioned{}, err
		}
	}
	return Versioned{}, err
}

// inspect reads what an ambiguous write left: applied is set when the
// stored record is the one written, retry when the store is still at the
// version the write expected (nothing stored, for a create).
func (s *Service) inspect(ctx context.Context, next Record, expect Version) (applied *Versioned, retry bool, err error) {
	v, err := s.store.Load(ctx, next.DatabaseKey)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, expect == "", nil
	case err != nil:
		return nil, false, err
	case bytes.Equal(EncodeRecord(v.Record), EncodeRecord(next)):
		return &v, false, nil
	}
	return nil, expect != "" && v.Version == expect, nil
}

// DataWrite asks whether a principal may write a data object of the
// database DatabaseKey.
type DataWrite struct {
	Principal   Principal
	DatabaseKey string
	// RequireLease refuses writes to a database that has no lease record.
	RequireLease bool
	// Margin is how long the lease must still run for the write to go
	// ahead: the write is abandoned at the lease's expiry minus Margin, so
	// that it lands before anyone else can acquire the lease.
	Margin time.Duration
}

// DataWriteGrant is an accepted data write.
type DataWriteGrant struct {
	// Leased is true when the database has a live lease (of the writer);
	// false when it has no lease record at all.
	Leased bool
	// Remaining is how long the write may take to land, from the check:
	// the lease's remaining time less the margin. Zero when not Leased.
	Remaining time.Duration
}

// CheckDataWrite is the fence of RedDB's data objects: one read of the
// database's record, never from the cache, then decideDataWrite with the
// service's clock. A refusal is a *DataWriteError (ErrForbidden).
func (s *Service) CheckDataWrite(ctx context.Context, r DataWrite) (DataWriteGrant, error) {
	if err := s.checkKey(r.Principal, r.DatabaseKey); err != nil {
		return DataWriteGrant{}, fmt.Errorf("data write to %q: %w", r.DatabaseKey, err)
	}
	var v *Versioned
	err := s.retryUnavailable(ctx, func() (err error) {
		v, err = s.load(ctx, r.DatabaseKey)
		return err
	})
	if err != nil {
		return DataWriteGrant{}, fmt.Errorf("data write to %q: %w", r.DatabaseKey, err)
	}
	var cur *Record
	if v.Version != "" {
		cur = &v.Record
	}
	now := s.now()
	margin := uint64(max(r.Margin.Milliseconds(), 0)) //nolint:gosec // clamped to >= 0
	expires, err := decideDataWrite(cur, r.Principal, UnixMs(now), margin, r.RequireLease)
	if err != nil {
		var dw *DataWriteError
		if errors.As(err, &dw) && dw.DatabaseKey == "" {
			dw.DatabaseKey = r.DatabaseKey
		}
		return DataWriteGrant{}, err
	}
	if cur == nil {
		return DataWriteGrant{}, nil
	}
	return DataWriteGrant{Leased: true, Remaining: msDuration(expires - UnixMs(now) - margin)}, nil
}
