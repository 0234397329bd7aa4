// Package safety proves, inside `go test`, that the lease service never
// lets two writers hold one key and never hands out a fencing token that
// does not grow, under concurrency, storage faults and clock skew.
//
// It has three tools:
//
//   - a linearizability checker: concurrent clients run random acquire,
//     refresh, release and get calls against one or more lease.Service
//     instances sharing a store (Workload, Recorder); the history is
//     checked with porcupine against Model, a sequential specification of
//     one lease register per key written from the API contract. Every call
//     records the service clock before and after it, and the model accepts
//     any decision time in that window; a write that failed with
//     ErrUnavailable is "maybe applied" (applied at some time of its
//     window, or not at all);
//   - direct safety invariants on the same histories (CheckInvariants):
//     generations strictly grow in real-time order and are never repeated,
//     a refresh or release never changes term, generation or acquired_at,
//     and no acquire by another holder succeeds while the previous
//     generation is still granted;
//   - fault injection through pkg/backend/faulty, and clock skew and jumps
//     between service instances (skew_test.go).
//
// # The time guarantee
//
// Every time in a lease is decided by the clock of the service instance
// that handled the call. Let D bound how far the clocks of any two
// instances sharing a store can differ (clock skew, including any jump an
// instance's clock makes). Then:
//
// A holder whose acquire or refresh succeeded with ttl_ms = T holds the
// lease exclusively for at least T - D, measured on its own monotonic
// clock from the moment it sent that request. No instance lets another
// holder acquire the key before that, and once T - D has elapsed the holder
// must stop writing unless a later refresh succeeded.
//
// Why: the instance deciding at true time t0 >= send time s, with clock
// offset d_i, stores expires_at = t0 + d_i + T. Another instance j (offset
// d_j) accepts an acquire by someone else only when its clock reads at least
// expires_at, i.e. at a true time t1 >= t0 + T - (d_j - d_i) >= s + T - D.
// The bound is tight: with one instance d ahead of the one that granted the
// lease, another holder can acquire exactly at expires_at - d by the
// granting instance's clock, and never earlier (TestSkewBoundIsTight).
//
// "Latest request" matters: a refresh sets expires_at = now + ttl, so it
// can shorten the lease (a shorter ttl, or a deciding clock that is
// behind). The guarantee therefore runs from the holder's latest acquire
// or refresh of that generation, including one that failed with
// backend_unavailable, which may have been applied
// (TestAmbiguousRefreshCountsForTheGuarantee). A holder that always uses the
// same ttl only ever moves the expiry forward on a shared clock, and then
// its latest success is what counts.
//
// A backward jump of one instance's clock never makes a fencing token go
// backwards: the generation is always the stored generation plus one,
// written with compare-and-swap, so clocks play no part in it. A backward
// jump only makes the instance see leases live for longer (safe); a
// refresh it decides may shorten the lease, which the guarantee above
// covers because the jump is part of D.
//
// Nothing in this package is needed at run time; it is a test harness that
// other packages' tests (and the integration tests) can reuse.
package safety
