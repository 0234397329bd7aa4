package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redlease/redlease/pkg/lease"
)

// Reasons a Keeper stops holding its lease.
const (
	ReasonStale   = "stale"   // the generation is no longer this holder's
	ReasonFenced  = "fenced"  // the lease's term is behind the current term
	ReasonExpired = "expired" // the deadline passed without a successful refresh
	ReasonRefused = "refused" // another final refusal (invalid, unauthorized)
	ReasonClosed  = "closed"  // Close was called or the parent context ended
)

// ErrDeadlinePassed means no refresh succeeded before the lease's deadline as the
// client knows it (send time of the last successful call + TTL).
var ErrDeadlinePassed = errors.New("lease deadline passed without a successful refresh")

// ErrKeeperClosed is the cause of a Keeper stopped by Close.
var ErrKeeperClosed = errors.New("keeper closed")

// LostError says why a Keeper no longer holds its lease. It unwraps to the
// refusal (lease.ErrStale, lease.ErrFenced, ...) or ErrDeadlinePassed.
type LostError struct {
	Reason   string
	Lease    lease.Lease
	Deadline time.Time // the last deadline the Keeper knew
	Err      error
}

func (e *LostError) Error() string {
	return fmt.Sprintf("lease %q generation %d lost (%s): %v", e.Lease.DatabaseKey, e.Lease.Generation, e.Reason, e.Err)
}

// Unwrap exposes the cause.
func (e *LostError) Unwrap() error { return e.Err }

// KeeperOptions tune a Keeper. Zero fields take the defaults.
type KeeperOptions struct {
	// Interval between refreshes: by default RedDB's cadence,
	// max(TTL/3, 1 s), but never more than TTL/2 so a 1 s TTL still works.
	Interval time.Duration
	// CurrentTerm, when non-zero, is sent with every refresh: the service
	// then refuses (fenced) once the lease's term is behind it.
	CurrentTerm uint64
	// OnRefresh is called after every successful refresh.
	OnRefresh func(Grant)
	// OnRetry is called after every failed refresh that did not lose the
	// lease; the Keeper tries again until the deadline.
	OnRetry func(err error, deadline time.Time)
}

// Keeper holds a lease: it refreshes it, retries transient failures until
// the lease's own deadline, and reports loss at once through Done, Context
// and Err. Create it with Client.Keep; stop it with Close, which releases.
type Keeper struct {
	c    *Client
	opts KeeperOptions

	ctx    context.Context // cancelled with the LostError when the lease is gone
	cancel context.CancelCauseFunc
	stop   context.CancelCauseFunc // ends the refresh loop
	loop   chan struct{}           // closed when the refresh loop returned

	mu       sync.Mutex
	grant    Grant
	deadline time.Time
	lost     *LostError

	closeOnce sync.Once
	closeErr  error
}

// Keep starts keeping a lease the caller just got from Acquire or Wait. The
// Keeper ends when the lease is lost, when Close is called, or when parent
// ends (then it stops refreshing without releasing; call Close to release).
func (c *Client) Keep(parent context.Context, g Grant, o KeeperOptions) *Keeper {
	if o.Interval <= 0 {
		o.Interval = min(max(g.TTL/3, time.Second), g.TTL/2)
	}
	k := &Keeper{c: c, opts: o, grant: g, deadline: g.Deadline(), loop: make(chan struct{})}
	// Context ends only through lose, so that Err is set whenever Done is
	// closed; the loop watches parent itself.
	k.ctx, k.cancel = context.WithCancelCause(context.WithoutCancel(parent))
	loopCtx, stop := context.WithCancelCause(parent)
	k.stop = stop
	go k.run(loopCtx)
	return k
}

// Lease returns the lease and whether it is held right now: false once it
// was lost, and false as soon as the client's clock reaches the deadline,
// even before the refresh loop has noticed.
func (k *Keeper) Lease() (lease.Lease, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.grant.Lease, k.lost == nil && k.c.clock.Now().Before(k.deadline)
}

// Deadline is the instant until which the lease is known to be live.
func (k *Keeper) Deadline() time.Time {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.deadline
}

// Done is closed when the Keeper no longer holds the lease.
func (k *Keeper) Done() <-chan struct{} { return k.ctx.Done() }

// Context is cancelled when the lease is lost or the Keeper closed; its
// cause (context.Cause) is the *LostError. Give it to work that must stop
// when the lease goes.
func (k *Keeper) Context() context.Context { return k.ctx }

// Err is nil while the lease is held, then the *LostError.
func (k *Keeper) Err() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.lost == nil {
		return nil
	}
	return k.lost
}

// Close stops refreshing and releases the lease (unless it was already
// lost as stale: then it is someone else's). It returns the release's
// error, or nil. Calling it again returns the same result.
func (k *Keeper) Close(ctx context.Context) error {
	k.closeOnce.Do(func() {
		k.stop(ErrKeeperClosed)
		<-k.loop
		k.mu.Lock()
		g, lost := k.grant, k.lost
		k.mu.Unlock()
		k.lose(ReasonClosed, ErrKeeperClosed)
		if lost != nil && lost.Reason == ReasonStale {
			return
		}
		_, err := k.c.Release(ctx, ReleaseRequest{
			DatabaseKey: g.Lease.DatabaseKey, HolderID: g.Lease.HolderID, Generation: g.Lease.Generation,
		})
		if err != nil && !errors.Is(err, lease.ErrStale) {
			k.closeErr = err
		}
	})
	return k.closeErr
}

// lose records the first loss and cancels Context with it.
func (k *Keeper) lose(reason string, err error) {
	k.mu.Lock()
	if k.lost != nil {
		k.mu.Unlock()
		return
	}
	k.lost = &LostError{Reason: reason, Lease: k.grant.Lease, Deadline: k.deadline, Err: err}
	lost := k.lost
	k.mu.Unlock()
	k.cancel(lost)
}

func (k *Keeper) run(ctx context.Context) {
	defer close(k.loop)
	clk := k.c.clock
	k.mu.Lock()
	next := k.grant.SentAt.Add(k.opts.Interval)
	k.mu.Unlock()
	failures := 0
	var lastErr error
	for {
		deadline := k.Deadline()
		if !clk.Now().Before(deadline) {
			k.expire(lastErr)
			return
		}
		wake := next
		if deadline.Before(wake) {
			wake = deadline
		}
		wait := wake.Sub(clk.Now())
		if err := sleep(ctx, clk, wait); err != nil {
			k.stopped(ctx)
			return
		}
		if !clk.Now().Before(deadline) {
			k.expire(lastErr)
			return
		}
		// One refresh call, with the client's own retries, cut off at the
		// deadline: a refresh that answers after it could not be trusted.
		rctx, cancel := withClockDeadline(ctx, clk, deadline, ErrDeadlinePassed)
		rr := RefreshRequest{
			DatabaseKey: k.grant.Lease.DatabaseKey, HolderID: k.grant.Lease.HolderID,
			Generation: k.grant.Lease.Generation, TTL: k.grant.TTL, CurrentTerm: k.opts.CurrentTerm,
		}
		if rr.CurrentTerm != 0 {
			rr.Term = k.grant.Lease.Term // lets the service fence before any I/O
		}
		g, err := k.c.Refresh(rctx, rr)
		cancel()
		if ctx.Err() != nil {
			k.stopped(ctx)
			return
		}
		if err == nil {
			if !k.extend(g) {
				k.expire(lastErr)
				return
			}
			failures, lastErr = 0, nil
			next = g.SentAt.Add(k.opts.Interval)
			if k.opts.OnRefresh != nil {
				k.opts.OnRefresh(g)
			}
			continue
		}
		lastErr = err
		if reason, final := lossReason(err); final {
			k.lose(reason, err)
			return
		}
		if k.opts.OnRetry != nil {
			k.opts.OnRetry(err, deadline)
		}
		next = clk.Now().Add(k.c.retry.delay(failures, hint(err), k.c.rand))
		failures++
	}
}

// extend adopts a successful refresh, unless the old deadline passed while
// it was in flight: a lease once reported gone stays gone.
func (k *Keeper) extend(g Grant) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.lost != nil || !k.c.clock.Now().Before(k.deadline) {
		return false
	}
	k.grant.Lease = g.Lease
	k.grant.SentAt, k.grant.RequestID = g.SentAt, g.RequestID
	if d := g.Deadline(); d.After(k.deadline) {
		k.deadline = d
	}
	return true
}

func (k *Keeper) expire(lastErr error) {
	err := ErrDeadlinePassed
	if lastErr != nil {
		err = fmt.Errorf("%w (last refresh error: %w)", ErrDeadlinePassed, lastErr)
	}
	k.lose(ReasonExpired, err)
}

// stopped records why the loop ended without a loss: Close, or the parent
// context.
func (k *Keeper) stopped(ctx context.Context) {
	k.lose(ReasonClosed, context.Cause(ctx))
}

// lossReason decides whether a refresh error is final. stale and fenced are
// RedDB's definitive losses; invalid, unauthorized and malformed answers
// will not change by retrying. Everything else (unavailable, lost races,
// broken connections, unknown outcomes, internal errors) is retried until
// the deadline.
func lossReason(err error) (string, bool) {
	switch {
	case errors.Is(err, lease.ErrStale):
		return ReasonStale, true
	case errors.Is(err, lease.ErrFenced):
		return ReasonFenced, true
	case errors.Is(err, lease.ErrInvalid), errors.Is(err, ErrUnauthorized),
		errors.Is(err, lease.ErrNotFound), errors.Is(err, ErrUnexpected):
		return ReasonRefused, true
	}
	return "", false
}
