// Package sweep is redlease's expiry sweep: it walks every lease record and
// reports each lease that expired without being released, once, as a
// "Lease Expired" event, so that operators can automate failover.
//
// The package has no AWS imports. It needs a lease.ListingStore (listing,
// compare-and-swap and a place for its state), a Publisher (pkg/eventbus
// implements one on EventBridge, pkg/eventsink on a log and a webhook) and,
// optionally, a MetricsSink (pkg/observe's EMF writer satisfies it).
//
// # Reporting once
//
// A record is a candidate when it is expired (expires_at_ms <= now), not
// released, and carries no expiry_reported_ms. For a candidate the sweep
//
//  1. publishes the event, then
//  2. marks the record through lease.Service.MarkExpiryReported: a
//     conditional Replace, at the version it read, of the same record with
//     only ExpiryReportedMs set (the rule is lease's, in rules.go).
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
// changed after it was read (refreshed, released, re-acquired), the record
// is counted as skipped and left exactly as the other writer left it; it is
// never retried blindly. Its event has already been published by then, which
// is true to the facts: that generation did expire at that time.
//
// # Reading only what may have changed
//
// A listing returns entries, not records: each entry's key and a tag that
// changes whenever the stored object does (S3's ETag, which ListObjectsV2
// returns for free; the file backend's inode, size and times). S3's
// LastModified adds nothing to the ETag: an equal ETag is equal bytes, and
// equal bytes are the same record, whenever they were written. The sweep
// keeps what it learnt of every key in a state of its own (below), and an
// entry whose tag is the one it learnt at is classified without a read:
//
//   - released, or expired and already reported: nothing to do;
//   - held, and still before the expiry it learnt: nothing to do;
//   - held, and past that expiry: a candidate, reported and marked from
//     what it learnt, when the store proves the record is exactly that
//     (lease.ContentVersioner: S3's ETag is the MD5 of the bytes, the file
//     backend's version their SHA-256); otherwise read first.
//
// Everything else (new keys, changed tags) is read once, Workers at a time.
// In a steady state a run therefore reads the records written since the
// previous run and nothing else, and lists the prefix (1,000 keys a call on
// S3). Backends whose listing returns the records anyway (DynamoDB's Scan,
// the memory store) need no state per key and no reads at all.
//
// # The state
//
// The state is one object kept by the store outside the lease records
// (lease.StateStore: on S3 "redlease-sweep/<prefix>state", outside the
// prefix; a file outside the tree; a DynamoDB item no lease key can name):
// the cycle in progress, where it stands, and per key the tag, the version,
// what the record was, and for a lease neither released nor reported the
// whole record as stored (every member: the principal, and any a later
// record gains, since the content hash that proves an expiry without a read
// is a hash of all of it), front-coded and gzipped. It is loaded
// at the start of a run and saved, conditionally on the version loaded, at
// its end (within the deadline margin), so two overlapping sweeps cannot
// silently mix theirs.
//
// It is a cache, never the truth. Every decision it saves a read for is one
// the entry's tag proves still holds, and every write is still a
// conditional write at the version read. Losing it (deleted, corrupt,
// unreadable) costs one run that reads every record, nothing else: the
// marks in the records, not the state, are what keep an expiry from being
// reported twice. That is why the marks stay, although each is a rewrite of
// the record and so changes its ETag: a sweep that kept "reported" only in
// its state would rewrite nothing, but would report every past expiry again
// the first time its state was lost. The sweep rewrites a record once per
// expiry and at no other time, immediately after publishing, which in
// practice is before any consumer of the event can have acted on it
// (EventBridge delivery alone takes longer than one conditional PUT).
//
// A known hazard follows: a RedDB instance that talks to the object store
// itself (HEAD, GET, then PUT If-Match at the ETag it read) and whose
// refresh straddles the mark gets one 412 for that PUT, since the mark
// moved the ETag. The sweep marks only leases that have already expired,
// so that instance had already lost its lease's guarantee; its next read
// sees the marked record. The same holds for a redlease write that raced
// the mark: it re-reads and re-decides, as after any lost conditional write.
//
// # Cycles, resumption and the bound
//
// A cycle is one pass over the whole listing. A run continues the cycle the
// previous run left (from the cursor saved in the state, a plain key or key
// list that stays valid between runs) and ends where that cycle ends; a
// run that began mid-cycle and finishes it spends the time left on a new
// one. A page is swept whole (every read, publish and mark on it started)
// before the cursor moves past it, so a run cut short by its deadline
// leaves the cursor on the page it was sweeping, and what it learnt there
// is kept.
//
// Hence the bound: if every run gets through at least K of the N keys, a
// cycle takes at most ceil(N/K) runs, and a lease is reported at most
// ceil(N/K) + 1 runs after the run during which it expired, at any key
// count. In the steady state at 100,000 keys a run covers every key
// (K >= N), so every expiry is reported by the first run that starts after
// it: within two runs of the one it happened during. A run that starts with
// no state (the first one, or after a loss) reads every record and may need
// several runs for its first cycle; those reads are remembered, so it
// always progresses.
//
// # One bad entry never stops the sweep
//
// An object that is not a lease record (bytes that do not decode, a
// symlink or special file in the file backend's tree) is counted as
// unreadable and logged by key; one that cannot be read (access denied, a
// KMS key the sweep may not use, throttled beyond the SDK's retries) is
// counted as a read error, logged, and read again next run. Neither stops
// the page: everything else on it is swept. A listing call that fails ends
// the run with an error, and the next run starts at that page.
//
// # Time budget
//
// When the context has a deadline, the sweep starts no new page, read or
// chunk once less than DeadlineMargin remains, so that what is in flight
// (one PutEvents call and up to ten conditional writes a chunk) can finish,
// and the state be saved, before the Lambda timeout instead of being cut
// between publish and mark. What it did not reach is counted as deferred,
// the result says Truncated, and the next run starts on that page.
package sweep
