package lease

import "time"

// DefaultTerm is the replication term RedDB assumes when a lease object
// carries none, and the term an acquire uses when the caller names none.
const DefaultTerm uint64 = 1

// MaxSafeInteger is the largest term or generation the service accepts or
// hands out. RedDB serialises these numbers through f64, so anything larger
// would not survive a round trip through a RedDB instance.
const MaxSafeInteger uint64 = 1<<53 - 1

// Lease is the lease as RedDB defines it. Times are wall-clock milliseconds
// since the UNIX epoch, decided by the service's clock.
type Lease struct {
	DatabaseKey  string `json:"database_key"`
	HolderID     string `json:"holder_id"`
	Term         uint64 `json:"term"`
	Generation   uint64 `json:"generation"`
	AcquiredAtMs uint64 `json:"acquired_at_ms"`
	ExpiresAtMs  uint64 `json:"expires_at_ms"`
	// ReleasedAtMs is set (non-zero) once the holder released this
	// generation. It is redlease's extension; RedDB ignores it.
	ReleasedAtMs uint64 `json:"released_at_ms,omitempty"`
}

// FencingToken is the pair that only ever grows for a key.
func (l Lease) FencingToken() (term, generation uint64) { return l.Term, l.Generation }

// Released reports whether the holder gave this generation up.
func (l Lease) Released() bool { return l.ReleasedAtMs != 0 }

// ExpiredAt reports whether the lease is no longer live at nowMs, using
// RedDB's rule: expired means expires_at_ms <= now.
func (l Lease) ExpiredAt(nowMs uint64) bool { return l.ExpiresAtMs <= nowMs }

// FreeAt reports whether anyone may acquire the key at nowMs (subject to the
// term fence): the lease was released or has expired.
func (l Lease) FreeAt(nowMs uint64) bool { return l.Released() || l.ExpiredAt(nowMs) }

// State names the lease's condition at nowMs as the read route reports it.
type State string

// The states of the read route.
const (
	StateHeld     State = "held"
	StateExpired  State = "expired"
	StateReleased State = "released"
)

// StateAt classifies the lease at nowMs.
func (l Lease) StateAt(nowMs uint64) State {
	switch {
	case l.Released():
		return StateReleased
	case l.ExpiredAt(nowMs):
		return StateExpired
	default:
		return StateHeld
	}
}

// ExpiresInMs is how long the lease stays live after nowMs (0 once expired
// or released).
func (l Lease) ExpiresInMs(nowMs uint64) uint64 {
	if l.Released() || l.ExpiresAtMs <= nowMs {
		return 0
	}
	return l.ExpiresAtMs - nowMs
}

// Record is what a backend stores for one key: the lease plus bookkeeping
// that only redlease reads.
type Record struct {
	Lease
	// Principal is the principal that acquired this generation (stored as
	// "principal", which RedDB's reader ignores). Only it may refresh or
	// release the lease. Empty in records written before principals
	// existed, or written by RedDB itself: those behave as they always did
	// (anyone with the holder id and generation) until the next acquire.
	Principal string
	// TTLMs is the TTL a RedDB asked for when it acquired this generation
	// through the RedDB face (its record's expires_at_ms - acquired_at_ms;
	// stored as "ttl_ms", which RedDB's reader ignores). The face's
	// refreshes extend the lease by it: a refresh body carries RedDB's own
	// times, whose difference is the lease's age plus its TTL. Zero for
	// leases acquired through the JSON API.
	TTLMs uint64
	// ExpiryReportedMs is set by the sweep (Service.MarkExpiryReported)
	// once it published a "Lease Expired" event for this generation and
	// expiry, so that no later run reports it again. Acquire, refresh and
	// release clear it (rules.go, written).
	ExpiryReportedMs uint64
}

// UnixMs converts a time to RedDB's millisecond timestamps.
func UnixMs(t time.Time) uint64 {
	ms := t.UnixMilli()
	if ms < 0 {
		return 0
	}
	return uint64(ms)
}
