package lease

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. Every error the Service returns matches exactly one of
// these with errors.Is; the typed errors below carry the details.
var (
	// ErrInvalid: the request is malformed or out of range. Nothing was read
	// or written.
	ErrInvalid = errors.New("invalid request")
	// ErrNotFound: no record exists for the key.
	ErrNotFound = errors.New("not found")
	// ErrHeld: a live lease of another holder exists.
	ErrHeld = errors.New("lease held")
	// ErrFenced: the caller's term is behind the published term.
	ErrFenced = errors.New("fenced")
	// ErrStale: refresh or release of a generation that is not this holder's
	// (any more).
	ErrStale = errors.New("stale lease")
	// ErrLostRace: concurrent writers kept winning; safe to retry.
	ErrLostRace = errors.New("lost race")
	// ErrUnavailable: storage timed out, throttled or failed; retry later.
	// For a write this is ambiguous: it may or may not have been applied.
	ErrUnavailable = errors.New("backend unavailable")
	// ErrClockSkew: the service's clock reads earlier than the stored
	// record proves had already happened, by more than the tolerance, so
	// its judgement of time cannot be trusted; nothing was written. Another
	// instance (or this one, once its clock is right) may answer.
	ErrClockSkew = errors.New("clock behind the stored record")
	// ErrCorrupt: a stored object is not a lease record RedDB could read.
	ErrCorrupt = errors.New("corrupt lease record")
	// ErrExhausted: the fencing token cannot grow any further.
	ErrExhausted = errors.New("fencing token exhausted")
	// ErrPrecondition is a backend's answer to a compare-and-swap whose
	// expectation did not hold. Of the Service's methods only
	// MarkExpiryReported returns it, since its caller names the version.
	ErrPrecondition = errors.New("precondition failed")
	// ErrForbidden: the principal may not touch this key, or this lease
	// belongs to another principal, or the operation needs an admin.
	// Refusals on the key alone come before any storage request, so they
	// never reveal whether the key exists.
	ErrForbidden = errors.New("forbidden")
	// ErrUnauthorized: the request carries no credentials, or credentials
	// nobody issued, or malformed ones. Entry points return it (the
	// Service never authenticates) so that one table maps every error.
	ErrUnauthorized = errors.New("unauthorized")
)

// InvalidError names the request field that was refused and why.
type InvalidError struct {
	Field  string
	Reason string
}

func (e *InvalidError) Error() string { return fmt.Sprintf("invalid %s: %s", e.Field, e.Reason) }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// HeldError carries the live lease that refused the acquire.
type HeldError struct {
	Current    Lease
	RetryAfter time.Duration
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("lease for %q held by %q (generation %d, expires in %s)",
		e.Current.DatabaseKey, e.Current.HolderID, e.Current.Generation, e.RetryAfter)
}

// Is makes errors.Is(err, ErrHeld) true.
func (e *HeldError) Is(target error) bool { return target == ErrHeld }

// FencedError says which term the caller had and which term fenced it.
type FencedError struct {
	AttemptedTerm uint64
	CurrentTerm   uint64
}

func (e *FencedError) Error() string {
	return fmt.Sprintf("term %d is behind current term %d", e.AttemptedTerm, e.CurrentTerm)
}

// Is makes errors.Is(err, ErrFenced) true.
func (e *FencedError) Is(target error) bool { return target == ErrFenced }

// StaleError says which generation the caller named and what is stored now
// (nil when no record exists).
type StaleError struct {
	HolderID   string
	Generation uint64
	Current    *Lease
}

func (e *StaleError) Error() string {
	if e.Current == nil {
		return fmt.Sprintf("holder %q generation %d is stale: no lease present", e.HolderID, e.Generation)
	}
	return fmt.Sprintf("holder %q generation %d is stale: current is %q generation %d",
		e.HolderID, e.Generation, e.Current.HolderID, e.Current.Generation)
}

// Is makes errors.Is(err, ErrStale) true.
func (e *StaleError) Is(target error) bool { return target == ErrStale }

// LostRaceError reports that concurrent writers won every attempt.
type LostRaceError struct {
	Attempts   int
	RetryAfter time.Duration
}

func (e *LostRaceError) Error() string {
	return fmt.Sprintf("lost the race to concurrent writers %d times", e.Attempts)
}

// Is makes errors.Is(err, ErrLostRace) true.
func (e *LostRaceError) Is(target error) bool { return target == ErrLostRace }

// UnavailableError wraps a storage failure with a retry hint.
type UnavailableError struct {
	RetryAfter time.Duration
	Err        error
}

func (e *UnavailableError) Error() string { return "backend unavailable: " + e.Err.Error() }

// Unwrap exposes the storage error for logs.
func (e *UnavailableError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnavailable) true.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// PreconditionError is returned by a Store when a conditional write found
// something other than what it expected. Current is what the store holds now
// when the backend returned it for free (DynamoDB's ALL_OLD); nil otherwise.
type PreconditionError struct {
	Current *Versioned
}

func (e *PreconditionError) Error() string { return "precondition failed" }

// Is makes errors.Is(err, ErrPrecondition) true.
func (e *PreconditionError) Is(target error) bool { return target == ErrPrecondition }

// Unavailable wraps a storage failure so that errors.Is(err, ErrUnavailable)
// holds. Backends use it for timeouts, throttling and transport errors.
func Unavailable(err error, retryAfter time.Duration) error {
	return &UnavailableError{Err: err, RetryAfter: retryAfter}
}

// Why a principal was refused, in words a client may read: none names
// another principal or says whether the key exists.
const (
	ReasonNoPrincipal     = "the request has no principal"
	ReasonOutsidePrefixes = "the database_key is outside the principal's prefixes"
	ReasonOtherPrincipal  = "the lease belongs to another principal"
	ReasonNotAdmin        = "the operation needs an admin principal"
)

// ForbiddenError says which principal was refused on which key and why.
// Owner is the principal the lease belongs to when that was the reason; it
// is for the log, never for the client.
type ForbiddenError struct {
	Principal string
	Key       string
	Reason    string
	Owner     string
}

func (e *ForbiddenError) Error() string {
	s := fmt.Sprintf("principal %q on %q: %s", e.Principal, e.Key, e.Reason)
	if e.Owner != "" {
		s += fmt.Sprintf(" (%q)", e.Owner)
	}
	return s
}

// Is makes errors.Is(err, ErrForbidden) true.
func (e *ForbiddenError) Is(target error) bool { return target == ErrForbidden }

// UnauthorizedError says why no principal could be established. Reason is
// safe to show the client; it never echoes the credential.
type UnauthorizedError struct {
	Reason string
	// Presented is true when credentials were sent but not accepted
	// (unknown or malformed), false when none were sent.
	Presented bool
}

func (e *UnauthorizedError) Error() string { return "unauthorized: " + e.Reason }

// Is makes errors.Is(err, ErrUnauthorized) true.
func (e *UnauthorizedError) Is(target error) bool { return target == ErrUnauthorized }
