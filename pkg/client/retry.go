package client

import (
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/redlease/redlease/pkg/lease"
)

// RetryPolicy bounds the client's own retries of one call. Zero fields take
// the defaults.
type RetryPolicy struct {
	// MaxAttempts counts the first try (default 4; 1 disables retries).
	MaxAttempts int
	// BaseDelay is the first backoff step (default 100 ms); each retry
	// doubles it, up to MaxDelay (default 2 s).
	BaseDelay time.Duration
	MaxDelay  time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 4
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 100 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 2 * time.Second
	}
	return p
}

// step is the exponential backoff ceiling before retry n (0-based).
func (p RetryPolicy) step(n int) time.Duration {
	d := p.BaseDelay
	for i := 0; i < n && d < p.MaxDelay; i++ {
		d *= 2
	}
	return min(d, p.MaxDelay)
}

// delay is how long to wait before retry n. With a server hint it waits the
// hint plus up to one backoff step of jitter, so that the callers the
// service just turned away do not all return in the same millisecond;
// without one it uses "equal jitter" (half the step plus a random half),
// which never retries immediately.
func (p RetryPolicy) delay(n int, hint time.Duration, rnd func() float64) time.Duration {
	step := p.step(n)
	if hint > 0 {
		return hint + time.Duration(rnd()*float64(step))
	}
	return step/2 + time.Duration(rnd()*float64(step/2))
}

// outcome classifies one attempt.
type outcome struct {
	retry bool // worth another attempt
	// unknown: a write attempt that may have been applied.
	unknown bool
	// settles: the answer describes the lease as it is now (held, fenced,
	// stale), so an earlier attempt's unknown outcome no longer matters.
	settles bool
}

// classifyStatus decides on an HTTP answer. Only refusals that changed
// nothing and may change on their own are retried: lost_race, throttling,
// and the gateway/storage failures. held, fenced, stale and invalid
// requests are final: asking again at once gives the same answer.
// clock_skew is retried too: another instance, with a good clock, may
// serve the next attempt.
func classifyStatus(status int, code string, write bool) outcome {
	switch {
	case status >= 200 && status < 300:
		return outcome{}
	case code == "lost_race", code == "clock_skew", status == http.StatusTooManyRequests:
		return outcome{retry: true} // refused before any write
	case code == "backend_unavailable", status == http.StatusBadGateway,
		status == http.StatusServiceUnavailable, status == http.StatusGatewayTimeout:
		return outcome{retry: true, unknown: write}
	case status >= 500:
		return outcome{unknown: write} // a bug: asking again will not help
	case code == "held", code == "fenced", code == "stale":
		return outcome{settles: true}
	}
	return outcome{} // invalid, not found, 401/403: final, but they say nothing of the lease
}

// classifyTransport decides on an error from the HTTP client. A failure to
// connect means the request was never sent; anything later may have reached
// the service.
func classifyTransport(err error, write bool) outcome {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return outcome{retry: true}
	}
	return outcome{retry: true, unknown: write}
}

// hint extracts the server's retry hint from a typed refusal.
func hint(err error) time.Duration {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.RetryAfter
	}
	var ue *lease.UnavailableError
	if errors.As(err, &ue) {
		return ue.RetryAfter
	}
	return 0
}
