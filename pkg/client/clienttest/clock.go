// Package clienttest has test doubles for code built on pkg/client: a
// manual Clock that tests advance by hand, so that backoff, Wait and a
// Keeper's refresh cadence run without real sleeping.
package clienttest

import (
	"slices"
	"sync"
	"time"

	"github.com/redlease/redlease/pkg/client"
)

// Clock is a client.Clock whose time only moves when the test says so.
// Timers fire, in deadline order, as Advance passes their deadline.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*timer
	changed chan struct{} // closed and replaced whenever a timer is added
	auto    bool
	slept   []time.Duration
}

var _ client.Clock = (*Clock)(nil)

// NewClock returns a clock stopped at start.
func NewClock(start time.Time) *Clock {
	return &Clock{now: start, changed: make(chan struct{})}
}

// Now implements client.Clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer implements client.Clock.
func (c *Clock) NewTimer(d time.Duration) client.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &timer{clock: c, at: c.now.Add(d), ch: make(chan time.Time, 1)}
	c.timers = append(c.timers, t)
	close(c.changed)
	c.changed = make(chan struct{})
	if c.auto && d > 0 {
		c.slept = append(c.slept, d)
	}
	if c.auto || d <= 0 {
		c.advanceLocked(max(d, 0))
	}
	return t
}

// AutoAdvance makes every new timer jump the clock to its deadline and fire
// at once, recording the duration; Slept returns them. It suits code that
// only sleeps between steps (retry backoff, Wait) and would otherwise need
// the test to advance time by hand.
func (c *Clock) AutoAdvance(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.auto = on
}

// Slept returns the durations of the timers created while AutoAdvance was
// on, in order.
func (c *Clock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.slept)
}

// Advance moves time forward by d, firing every timer due by then.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.advanceLocked(d)
}

func (c *Clock) advanceLocked(d time.Duration) {
	c.now = c.now.Add(d)
	slices.SortStableFunc(c.timers, func(a, b *timer) int { return a.at.Compare(b.at) })
	kept := c.timers[:0]
	for _, t := range c.timers {
		if t.at.After(c.now) {
			kept = append(kept, t)
			continue
		}
		t.ch <- t.at // buffered, and each timer fires once
	}
	clear(c.timers[len(kept):])
	c.timers = kept
}

// AdvanceTo moves time to at (never backwards) and fires due timers.
func (c *Clock) AdvanceTo(at time.Time) {
	if d := at.Sub(c.Now()); d > 0 {
		c.Advance(d)
	}
}

// Pending returns how far ahead of now each pending timer is, soonest first.
func (c *Clock) Pending() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]time.Duration, 0, len(c.timers))
	for _, t := range c.timers {
		out = append(out, t.at.Sub(c.now))
	}
	slices.Sort(out)
	return out
}

// WaitFor blocks until cond holds for the pending timers (durations from
// now, soonest first), or until timeout of real time passes; it reports
// whether cond held. Tests use it to know the code under test is asleep
// before they advance the clock.
func (c *Clock) WaitFor(timeout time.Duration, cond func(pending []time.Duration) bool) bool {
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		ch := c.changed
		c.mu.Unlock()
		if cond(c.Pending()) {
			return true
		}
		select {
		case <-ch:
		case <-time.After(5 * time.Millisecond): // timers also go away by Stop
		case <-deadline:
			return cond(c.Pending())
		}
	}
}

// AdvanceToNext waits (up to timeout of real time) for a pending timer and
// moves time to the soonest one; it reports whether there was one.
func (c *Clock) AdvanceToNext(timeout time.Duration) bool {
	if !c.WaitFor(timeout, func(p []time.Duration) bool { return len(p) > 0 }) {
		return false
	}
	if p := c.Pending(); len(p) > 0 {
		c.Advance(p[0])
	}
	return true
}

// WaitForTimer waits (up to timeout of real time) until a timer is pending
// exactly d from now, and reports whether one was.
func (c *Clock) WaitForTimer(timeout, d time.Duration) bool {
	return c.WaitFor(timeout, func(p []time.Duration) bool { return slices.Contains(p, d) })
}

type timer struct {
	clock *Clock
	at    time.Time
	ch    chan time.Time
}

func (t *timer) C() <-chan time.Time { return t.ch }

func (t *timer) Stop() bool {
	c := t.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, x := range c.timers {
		if x == t {
			c.timers = slices.Delete(c.timers, i, i+1)
			return true
		}
	}
	return false
}
