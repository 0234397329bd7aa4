package client

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/redlease/redlease/pkg/lease"
)

// WaitOptions tune Wait. Zero fields take the defaults.
type WaitOptions struct {
	// MaxJitter bounds the random delay added after the current lease's
	// expiry, so that many waiters do not all ask in the same instant
	// (default TTL/20, between 50 ms and 1 s).
	MaxJitter time.Duration
	// OnHeld, when set, is called with every held refusal before sleeping
	// (to log who holds the lease and until when).
	OnHeld func(held *lease.HeldError, sleep time.Duration)
}

// Wait acquires the lease, waiting while another holder has it, until it is
// taken or ctx ends. After each held refusal it sleeps until the current
// lease's expiry (the refusal's retry_after_ms, measured on the service's
// clock so no clock skew enters) plus jitter, so waiters neither poll
// blindly nor wait a full TTL; a holder that keeps refreshing costs each
// waiter one request per refresh. Transient failures are retried with
// backoff. fenced, invalid and unauthorized refusals end the wait.
//
// When ctx ends, the error wraps both ctx's error and the last refusal
// (errors.Is(err, lease.ErrHeld) stays true for a wait that timed out).
func (c *Client) Wait(ctx context.Context, r AcquireRequest, o *WaitOptions) (Grant, error) {
	var opts WaitOptions
	if o != nil {
		opts = *o
	}
	if opts.MaxJitter <= 0 {
		opts.MaxJitter = min(max(r.TTL/20, 50*time.Millisecond), time.Second)
	}
	transient := 0
	for {
		g, err := c.Acquire(ctx, r)
		if err == nil {
			return g, nil
		}
		if ctx.Err() != nil {
			return Grant{}, err
		}
		var d time.Duration
		var held *lease.HeldError
		switch {
		case errors.As(err, &held):
			transient = 0
			d = c.untilExpiry(held) + time.Millisecond + time.Duration(c.rand()*float64(opts.MaxJitter))
			if opts.OnHeld != nil {
				opts.OnHeld(held, d)
			}
		case retryable(err):
			d = c.retry.delay(transient, hint(err), c.rand)
			transient++
		default:
			return Grant{}, err
		}
		if serr := sleep(ctx, c.clock, d); serr != nil {
			return Grant{}, fmt.Errorf("wait %q: %w (last attempt: %w)", r.DatabaseKey, serr, err)
		}
	}
}

// untilExpiry is how long the held lease stays live. retry_after_ms is
// relative to the service's own clock; only when a service sends none does
// it fall back to expires_at_ms against the client's clock.
func (c *Client) untilExpiry(h *lease.HeldError) time.Duration {
	if h.RetryAfter > 0 {
		return h.RetryAfter
	}
	exp := time.UnixMilli(int64(min(h.Current.ExpiresAtMs, math.MaxInt64)))
	return max(exp.Sub(c.clock.Now()), 0)
}

// retryable reports whether err may go away by itself: lost races,
// unavailable storage or gateways, broken connections (including writes of
// unknown outcome: acquiring again is safe, see the package doc).
func retryable(err error) bool {
	return errors.Is(err, lease.ErrUnavailable) || errors.Is(err, lease.ErrLostRace)
}
