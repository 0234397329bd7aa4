// Package sweep is redlease's expiry sweep: it walks every lease record and
// reports each lease that expired without being released, once, as a
// "Lease Expired" event, so that operators can automate failover.
//
// The package has no AWS imports. It needs a lease.ListingStore, a
// Publisher (pkg/eventbus implements one on EventBridge) and, optionally, a
// MetricsSink (pkg/observe's EMF writer satisfies it).
//
// # Reporting once
//
// A record is a candidate when it is expired (expires_at_ms <= now), not
// released, and carries no expiry_reported_ms. For a candidate the sweep
//
//  1. publishes the event, then
//  2. marks the record through lease.Service.MarkExpiryReported: a
//     conditional Replace, at the version it listed, of the same record
//     with only ExpiryReportedMs set (the rule is lease's, in rules.go).
//
// Every other write of the service (acquire, refresh, release) drops the
// mark, so a lease refreshed after its expiry and then expired again is
// reported again: that is a new expiry with a new expires_at_ms.
//
// Publish-then-mark is deliberate. It gives at-least-once delivery: a crash,
// timeout or storage failure between the two steps leaves the record
// unmarked and the next run publishes the same event again. The opposite
// order (mark, then publish) would lose the event for good in the same
// situations, and an operator who automates failover on these events needs
// every expiry more than a duplicate-free stream. Duplicates are easy to
// drop: every event carries a deterministic event_id, a hash of the
// database key, generation and expires_at_ms, which is the same for every
// report of one expiry and different for any other.
//
// # Never clobber
//
// The sweep never deletes a record and never changes a field other than
// ExpiryReportedMs. When the conditional mark fails because the record
// changed after it was listed (refreshed, released, re-acquired), the record
// is counted as skipped and left exactly as the other writer left it; it is
// never retried blindly. Its event has already been published by then, which
// is true to the facts: that generation did expire at that time.
//
// # Time budget
//
// Listing is paginated and the candidates of each page are published and
// marked by a bounded pool of workers, in chunks of at most ten events (one
// EventBridge PutEvents call each). When the context has a deadline, the
// sweep starts no new page and no new chunk once less than DeadlineMargin
// remains, so that the chunks already started (one PutEvents call and up to
// ten conditional writes each) can finish before the Lambda timeout instead
// of being cut between publish and mark. What it did not reach is counted as
// deferred, the result says Truncated, and the next run picks it up, because
// unreported records stay unmarked. Each run lists from the start: marked
// records cost a listing but no writes, so a backlog shrinks run by run.
package sweep
