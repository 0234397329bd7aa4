// Package client is the Go client of redlease's HTTP API (docs/api.md):
// Acquire, Refresh, Release and Get, a blocking Wait, and a Keeper that
// holds a lease the way RedDB does.
//
// # Endpoints and signing
//
// New with Options.Endpoint "http://127.0.0.1:8080" talks to `redlease
// serve` unsigned. NewAWS signs every request with SigV4 for service
// "execute-api", with credentials from the standard AWS chain
// (config.LoadDefaultConfig: environment, shared files and profiles, SSO,
// web identity, container and instance roles), for the API Gateway
// deployment. Each attempt is signed anew, so retries never reuse a stale
// X-Amz-Date.
//
// # Errors
//
// Refusals are *APIError values (status, code, message, request id, retry
// hint) that unwrap to the same typed errors the service itself uses, so
// callers match them with errors.Is and errors.As exactly as inside the
// service:
//
//	held                 lease.ErrHeld        *lease.HeldError (Current, RetryAfter)
//	fenced               lease.ErrFenced      *lease.FencedError (CurrentTerm)
//	stale                lease.ErrStale       *lease.StaleError (Current, when any)
//	lost_race            lease.ErrLostRace    *lease.LostRaceError
//	backend_unavailable  lease.ErrUnavailable *lease.UnavailableError (RetryAfter)
//	clock_skew           lease.ErrClockSkew   *lease.ClockSkewError (RetryAfter)
//	invalid_request      lease.ErrInvalid     *lease.InvalidError (Field)
//	too_large            lease.ErrInvalid     *lease.InvalidError (Field "body")
//	not_found            lease.ErrNotFound
//	internal             ErrInternal
//	storage_corrupt      lease.ErrCorrupt (not retried: an operator must repair storage)
//	401/403 (gateway)    ErrUnauthorized
//
// Connection failures match lease.ErrUnavailable too. A failed write whose
// effect is unknown is an *OutcomeUnknownError (ErrOutcomeUnknown) around
// the last attempt's error.
//
// # Retries and timeouts
//
// Every call makes at most RetryPolicy.MaxAttempts attempts (default 4).
// It retries lost_race, clock_skew, 429 throttling, 502/503/504 and broken connections,
// waiting the service's retry_after_ms (else its Retry-After header) plus
// jitter, or without a hint an exponential backoff with jitter (100 ms
// doubling to 2 s by default). held, fenced, stale, invalid, not_found,
// internal and 401/403 are never retried: asking again at once gets the
// same answer. There are no timeouts of the client's own: the context
// bounds each call, and a retry whose wait would end after the context's
// deadline is not started.
//
// All four operations are safe to repeat, and that is why the client
// retries each of them, also after an ambiguous failure (the connection
// broke after the request was sent, or a 502/503/504 for a write):
//
//	method   why repeating is safe              if the outcome stays unknown       what an answer guarantees
//	-------  ---------------------------------  ---------------------------------  ----------------------------------
//	Acquire  a re-acquire by the same holder    an unseen generation of yours may  success: you hold Grant.Lease's
//	         supersedes its own earlier         be live until at most send time +  generation until Grant.Deadline(),
//	         generation (generation+1); the     TTL. Never treat it as held (you   and it is the only live one.
//	         returned generation is the only    do not know its generation); it    held / fenced: you hold nothing
//	         live one                           blocks others until it expires;    (an unseen earlier generation of
//	                                            your next Acquire supersedes it.   yours was superseded).
//	Refresh  it only moves expires_at to the    the lease may or may not have      success: live until the new
//	         service's now + TTL, on the same   been extended: rely on the         Grant.Deadline(). stale / fenced:
//	         generation; repeating moves it     previous Deadline only, and        lost for good, stop writing.
//	         later, never earlier               refresh again before it passes
//	Release  releasing a released generation    the lease may still be held until  success or stale: you hold
//	         answers the same record            its last Deadline: stop using it   nothing.
//	                                            now; Release again or let it
//	                                            expire
//	Get      it reads                           never: a read's failure is only    a snapshot at the service's
//	                                            a failure                          read time
//
// One case no client can rule out without idempotency keys in the contract:
// an Acquire attempt the client gave up on (a timeout while API Gateway or
// the Lambda function still held it) can be applied after the retry's
// answer. It then supersedes the returned generation with a newer one of
// the same holder: no other holder can take the key meanwhile, and the
// next Refresh of the returned generation reports stale (a Keeper reports
// the loss). The promise that matters for safety stands: until a Grant's
// Deadline no other holder can hold the key.
//
// # Deadlines
//
// A Grant's Deadline is the client's own send time of the attempt that got
// the answer plus the TTL. The service set expires_at_ms from its clock at
// some later instant, so the deadline never overstates the lease whatever
// the two clocks read; it assumes only that they run at the same rate.
// Keep a margin below it if that is in doubt.
//
// # Waiting and keeping
//
// Wait is a blocking Acquire: after each held refusal it sleeps until the
// holder's expiry (retry_after_ms, measured by the service's clock) plus
// jitter, instead of polling or waiting a whole TTL.
//
// Keep starts a Keeper for a granted lease. It refreshes every
// max(TTL/3, 1 s) (RedDB's cadence, at most TTL/2), retries transient
// failures until the deadline, and reports the loss at once through Done,
// Context and Err with the reason: stale, fenced, expired (the deadline
// passed without a successful refresh) or refused. Lease reports the lease
// as held only while the client's clock is before the deadline, even if
// the refresh loop is stuck. Close releases. A Keeper never re-acquires: a
// lost lease stays lost, as in RedDB.
//
// All waiting goes through Options.Clock, so tests drive time by hand with
// package clienttest instead of sleeping.
package client
