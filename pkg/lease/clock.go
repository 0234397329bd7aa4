package lease

import (
	"fmt"
	"time"
)

// DefaultClockTolerance is how far the service's clock may read behind the
// latest time a stored record proves (Record.ProvenMs) before the service
// refuses to act on that record. It is far above the offsets between
// synchronised clocks (Amazon Time Sync and NTP keep instances within
// milliseconds) and far below the steps that break a lease (a step of s
// shortens, from a correct clock's view, every expiry the stepped instance
// writes by s).
const DefaultClockTolerance = time.Second

// ClockSkewError is the refusal of a change to a record that proves a time
// later than the service's clock by more than the tolerance: the clock (or
// the clock of the record's last writer) stepped. Stamp names the record's
// member that proved it.
type ClockSkewError struct {
	Key         string
	NowMs       uint64 // the service's clock
	ProvenMs    uint64 // Record.ProvenMs of the stored record
	Stamp       string // the member that holds ProvenMs
	ToleranceMs uint64
	// RetryAfter is the hint for the caller: another instance, or this one
	// with its clock fixed, may answer.
	RetryAfter time.Duration
}

func (e *ClockSkewError) Error() string {
	return fmt.Sprintf("clock reads %d ms, %d ms before the %s %d of the record of %q (tolerance %d ms)",
		e.NowMs, e.ProvenMs-e.NowMs, e.Stamp, e.ProvenMs, e.Key, e.ToleranceMs)
}

// Is makes errors.Is(err, ErrClockSkew) true.
func (e *ClockSkewError) Is(target error) bool { return target == ErrClockSkew }

// clockSkewRetry is the retry hint of a clock skew refusal: about the time
// a caller needs to reach another instance, not how long the clock is off.
const clockSkewRetry = time.Second

// checkClock refuses to act on cur at nowMs when cur proves a time later
// than nowMs + toleranceMs.
func checkClock(cur *Record, nowMs, toleranceMs uint64) error {
	if cur == nil {
		return nil
	}
	proven := cur.ProvenMs()
	if proven <= nowMs || proven-nowMs <= toleranceMs {
		return nil
	}
	return &ClockSkewError{Key: cur.DatabaseKey, NowMs: nowMs, ProvenMs: proven, Stamp: provenStamp(*cur),
		ToleranceMs: toleranceMs, RetryAfter: clockSkewRetry}
}

// provenStamp names the member that holds r.ProvenMs.
func provenStamp(r Record) string {
	switch r.ProvenMs() {
	case r.WrittenAtMs:
		return fieldWrittenAt
	case r.ReleasedAtMs:
		return fieldReleasedAt
	case r.ExpiryReportedMs:
		return fieldExpiryReported
	default:
		return fieldAcquiredAt
	}
}
