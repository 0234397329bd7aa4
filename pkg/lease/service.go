package lease

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Config wires a Service. Store is required; the rest has defaults.
type Config struct {
	Store  Store
	Now    func() time.Time // the service's clock; time.Now by default
	Limits Limits           // DefaultLimits() when zero
	// MaxAttempts bounds how often one request re-reads and re-decides
	// after losing a conditional write to a concurrent writer (default 5).
	MaxAttempts int
	// LostRaceRetryAfter is the retry hint returned with ErrLostRace
	// (default 100 ms).
	LostRaceRetryAfter time.Duration
	// CacheSize bounds the per-instance cache of the last record and
	// version seen per key (default 4096; negative disables it).
	CacheSize int
	// ClockTolerance is how far Now may read behind the latest time a
	// stored record proves (Record.ProvenMs) before every change to that
	// record is refused with a *ClockSkewError (DefaultClockTolerance when
	// zero; at least 1 ms).
	ClockTolerance time.Duration
}

// Service applies the lease rules on top of a Store. It is safe for
// concurrent use; many Services may share one Store.
type Service struct {
	store       Store
	now         func() time.Time
	limits      Limits
	maxAttempts int
	raceHint    time.Duration
	toleranceMs uint64
	cache       *versionCache
}

// New checks cfg and returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("lease: Config.Store is required")
	}
	s := &Service{
		store:       cfg.Store,
		now:         cfg.Now,
		limits:      cfg.Limits,
		maxAttempts: cfg.MaxAttempts,
		raceHint:    cfg.LostRaceRetryAfter,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.limits == (Limits{}) {
		s.limits = DefaultLimits()
	}
	if s.limits.MaxTermJump == 0 {
		s.limits.MaxTermJump = DefaultMaxTermJump
	}
	if s.maxAttempts <= 0 {
		s.maxAttempts = 5
	}
	if s.raceHint <= 0 {
		s.raceHint = 100 * time.Millisecond
	}
	tolerance := DefaultClockTolerance
	if cfg.ClockTolerance > 0 {
		tolerance = max(cfg.ClockTolerance, time.Millisecond)
	}
	s.toleranceMs = uint64(tolerance.Milliseconds()) //nolint:gosec // at least 1 ms, so positive
	switch {
	case cfg.CacheSize == 0:
		s.cache = newVersionCache(4096)
	case cfg.CacheSize > 0:
		s.cache = newVersionCache(cfg.CacheSize)
	}
	return s, nil
}

// Limits returns the validation bounds in force.
func (s *Service) Limits() Limits { return s.limits }

// Acquire takes the lease for a holder as r.Principal, or refuses with
// ErrFenced, ErrHeld, ErrForbidden, ErrLostRace, ErrUnavailable or
// ErrInvalid (a term more than Limits.MaxTermJump above the stored one,
// or above DefaultTerm for a first acquire, is invalid).
func (s *Service) Acquire(ctx context.Context, r AcquireRequest) (Lease, error) {
	if err := s.validateAcquire(r); err != nil {
		return Lease{}, err
	}
	l, err := s.mutate(ctx, r.DatabaseKey, func(cur *Record, nowMs uint64) (Record, bool, error) {
		return decideAcquire(cur, r, nowMs, s.limits.MaxTermJump)
	})
	if err != nil {
		return Lease{}, fmt.Errorf("acquire %q: %w", r.DatabaseKey, err)
	}
	return l, nil
}

// Refresh extends the lease of one generation of one holder. Only the
// lease's principal may (ErrForbidden otherwise), unless the record has no
// principal.
func (s *Service) Refresh(ctx context.Context, r RefreshRequest) (Lease, error) {
	if err := s.validateRefresh(r); err != nil {
		return Lease{}, err
	}
	if err := fencedBeforeIO(r); err != nil {
		return Lease{}, fmt.Errorf("refresh %q: %w", r.DatabaseKey, err)
	}
	l, err := s.mutate(ctx, r.DatabaseKey, func(cur *Record, nowMs uint64) (Record, bool, error) {
		return decideRefresh(cur, r, nowMs)
	})
	if err != nil {
		return Lease{}, fmt.Errorf("refresh %q: %w", r.DatabaseKey, err)
	}
	return l, nil
}

// Release gives a generation up. The record stays, marked released, so the
// next acquire gets the next generation. Releasing twice returns the same
// released record. Only the lease's principal may (ErrForbidden otherwise),
// unless the record has no principal.
func (s *Service) Release(ctx context.Context, r ReleaseRequest) (Lease, error) {
	if err := s.validateRelease(r); err != nil {
		return Lease{}, err
	}
	l, err := s.mutate(ctx, r.DatabaseKey, func(cur *Record, nowMs uint64) (Record, bool, error) {
		return decideRelease(cur, r, nowMs)
	})
	if err != nil {
		return Lease{}, fmt.Errorf("release %q: %w", r.DatabaseKey, err)
	}
	return l, nil
}

// ForceRelease is the break-glass release for an admin principal: it
// writes the released marker whatever the holder and its principal, so the
// next acquire gets generation + 1 and the released holder's refresh is
// stale. A non-admin principal, or one whose prefixes do not allow the
// key, is refused with ErrForbidden before any storage request; a key
// without a record is ErrNotFound. The caller logs the result: who held
// the lease, as which principal.
func (s *Service) ForceRelease(ctx context.Context, r ForceReleaseRequest) (ForceReleased, error) {
	if err := s.validateForceRelease(r); err != nil {
		return ForceReleased{}, fmt.Errorf("force release %q: %w", r.DatabaseKey, err)
	}
	var out ForceReleased
	l, err := s.mutate(ctx, r.DatabaseKey, func(cur *Record, nowMs uint64) (Record, bool, error) {
		next, write, err := decideForceRelease(cur, nowMs)
		if cur != nil { // the decision that counts is the last one
			out.Principal, out.AlreadyReleased = cur.Principal, !write
		}
		return next, write, err
	})
	if err != nil {
		return ForceReleased{}, fmt.Errorf("force release %q: %w", r.DatabaseKey, err)
	}
	out.Lease = l
	return out, nil
}

// Get reads the lease of a key with a strongly consistent read, for a
// principal whose prefixes allow the key.
func (s *Service) Get(ctx context.Context, p Principal, key string) (Snapshot, error) {
	if err := s.limits.ValidateKey(key); err != nil {
		return Snapshot{}, err
	}
	if err := authorize(p, key); err != nil {
		return Snapshot{}, fmt.Errorf("get %q: %w", key, err)
	}
	v, err := s.load(ctx, key)
	if err != nil {
		return Snapshot{}, fmt.Errorf("get %q: %w", key, err)
	}
	if v.Version == "" {
		return Snapshot{}, fmt.Errorf("get %q: %w", key, ErrNotFound)
	}
	nowMs := UnixMs(s.now())
	l := v.Record.Lease
	return Snapshot{Lease: l, State: l.StateAt(nowMs), ExpiresInMs: l.ExpiresInMs(nowMs), ReadAtMs: nowMs}, nil
}

// MarkExpiryReported records on a listed record that the expiry it shows
// was reported (the sweep published its "Lease Expired" event), so that no
// later sweep reports it again. It is one conditional write at
// listed.Version and nothing else: it never re-reads, never retries and
// never writes over another version, so a record that changed after it was
// listed is left exactly as its writer left it, and the error matches
// ErrPrecondition. The key is the store's, as listed; an acquire, refresh
// or release later drops the mark again (see written).
func (s *Service) MarkExpiryReported(ctx context.Context, listed Versioned) (Version, error) {
	key := listed.Record.DatabaseKey
	if listed.Version == "" {
		return "", fmt.Errorf("mark %q: %w", key, invalid("version", "must name the listed version"))
	}
	nowMs := UnixMs(s.now())
	if err := checkClock(&listed.Record, nowMs, s.toleranceMs); err != nil {
		return "", fmt.Errorf("mark %q: %w", key, err)
	}
	next, write, err := decideMarkReported(listed.Record, nowMs)
	if err != nil {
		return "", fmt.Errorf("mark %q: %w", key, err)
	}
	if !write {
		return listed.Version, nil
	}
	version, err := s.store.Replace(ctx, next, listed.Version)
	if err != nil {
		s.cache.drop(key)
		return "", fmt.Errorf("mark %q: %w", key, err)
	}
	s.cache.put(key, Versioned{Record: next, Version: version})
	return version, nil
}

type decision func(cur *Record, nowMs uint64) (next Record, write bool, err error)

// mutate runs read, decide, conditional write. Every decision on a stored
// record first checks the clock against it (checkClock): a clock that reads
// before what the record proves is refused whatever the decision, since
// expiry judgements and the expiry it would write are both off by the step. A decision taken on a cached
// record is only trusted when it leads to a write, because the write's
// version check proves the cache was current; refusals and no-op answers are
// always re-decided on a fresh read. After a lost conditional write it
// re-reads and re-decides, at most maxAttempts times.
func (s *Service) mutate(ctx context.Context, key string, decide decision) (Lease, error) {
	cur, fresh := s.cache.get(key), false
	for attempt := 0; attempt < s.maxAttempts; {
		if !fresh && cur == nil {
			v, err := s.load(ctx, key)
			if err != nil {
				return Lease{}, err
			}
			cur, fresh = v, true
		}
		var rec *Record
		if cur != nil && cur.Version != "" {
			rec = &cur.Record
		}
		next, write, err := s.decideChecked(rec, UnixMs(s.now()), decide)
		if (err != nil || !write) && !fresh {
			cur = nil // re-decide on a fresh read
			continue
		}
		if err != nil {
			return Lease{}, err
		}
		if !write {
			return next.Lease, nil
		}
		var version Version
		if rec == nil {
			version, err = s.store.Create(ctx, next)
		} else {
			version, err = s.store.Replace(ctx, next, cur.Version)
		}
		if err == nil {
			s.cache.put(key, Versioned{Record: next, Version: version})
			return next.Lease, nil
		}
		s.cache.drop(key)
		var pre *PreconditionError
		if !errors.As(err, &pre) {
			return Lease{}, err
		}
		if fresh {
			attempt++ // a fresh decision lost to a concurrent writer
		}
		cur, fresh = nil, false
		if pre.Current != nil {
			v := *pre.Current
			cur, fresh = &v, true
		}
	}
	return Lease{}, &LostRaceError{Attempts: s.maxAttempts, RetryAfter: s.raceHint}
}

// decideChecked is decide behind the clock check.
func (s *Service) decideChecked(rec *Record, nowMs uint64, decide decision) (Record, bool, error) {
	if err := checkClock(rec, nowMs, s.toleranceMs); err != nil {
		return Record{}, false, err
	}
	return decide(rec, nowMs)
}

// load reads a key; a missing record is returned as an empty Versioned
// (Version "") so that callers can tell "absent" from "not read yet".
func (s *Service) load(ctx context.Context, key string) (*Versioned, error) {
	v, err := s.store.Load(ctx, key)
	switch {
	case errors.Is(err, ErrNotFound):
		s.cache.drop(key)
		return &Versioned{}, nil
	case err != nil:
		s.cache.drop(key)
		return nil, err
	}
	s.cache.put(key, v)
	return &v, nil
}

// versionCache remembers the last record and version seen per key so that a
// warm instance can try its conditional write without reading first.
type versionCache struct {
	mu      sync.Mutex
	max     int
	entries map[string]Versioned
}

func newVersionCache(size int) *versionCache {
	return &versionCache{max: size, entries: make(map[string]Versioned)}
}

func (c *versionCache) get(key string) *Versioned {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.entries[key]
	if !ok {
		return nil
	}
	return &v
}

func (c *versionCache) put(key string, v Versioned) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; !ok && len(c.entries) >= c.max {
		for k := range c.entries { // evict an arbitrary entry
			delete(c.entries, k)
			break
		}
	}
	c.entries[key] = v
}

func (c *versionCache) drop(key string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, key)
}
