package lease

import (
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
	v, err := s.load(ctx, key)
	if err != nil {
		return Versioned{}, fmt.Errorf("read lease object %q: %w", key, err)
	}
	if v.Version == "" {
		return Versioned{}, fmt.Errorf("read lease object %q: %w", key, ErrNotFound)
	}
	return *v, nil
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
		version, err := s.store.Create(ctx, next)
		return s.written(r.DatabaseKey, next, version, err)
	}
	cur, err := s.atVersion(ctx, r.DatabaseKey, r.IfMatch)
	if err != nil {
		return Versioned{}, err
	}
	next, err := decideObjectPut(&cur, in, UnixMs(s.now()), s.limits)
	if err != nil {
		return Versioned{}, err
	}
	version, err := s.store.Replace(ctx, next, r.IfMatch)
	return s.written(r.DatabaseKey, next, version, err)
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
	version, err := s.store.Replace(ctx, next, r.IfMatch)
	return s.written(r.DatabaseKey, next, version, err)
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
		var err error
		if cur, err = s.load(ctx, key); err != nil {
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

// written finishes a conditional write: a lost compare-and-swap is a
// refusal (RedDB named a version, or no object, and that no longer holds).
func (s *Service) written(key string, next Record, version Version, err error) (Versioned, error) {
	if err != nil {
		s.cache.drop(key)
		if errors.Is(err, ErrPrecondition) {
			return Versioned{}, refused(nil, "the lease object changed before the write")
		}
		return Versioned{}, err
	}
	v := Versioned{Record: next, Version: version}
	s.cache.put(key, v)
	return v, nil
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
	v, err := s.load(ctx, r.DatabaseKey)
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
