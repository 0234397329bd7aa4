// Package testclock is the settable clock tests inject wherever code takes
// a Now func (lease.Config.Now, sweep.Config.Now, ...): the test moves it
// instead of sleeping. It only tells the time; a clock that must also drive
// timers is pkg/client/clienttest's, and one that must remember every value
// it held is pkg/safety's.
package testclock

import (
	"math"
	"sync"
	"time"
)

// Epoch is 2026-01-01T00:00:00Z (1767225600000 ms), where tests start.
var Epoch = time.UnixMilli(1767225600000).UTC()

// Clock is safe for concurrent use. The zero value reads the zero time;
// New starts it elsewhere.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New returns a clock reading start.
func New(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time; pass the method value as a Now func.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t, backwards too.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Advance moves the clock by d (a negative d moves it back).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Ms reads the clock in UNIX milliseconds, the unit of lease records
// (0 before 1970, as lease.UnixMs).
func (c *Clock) Ms() uint64 { return unixMs(c.Now()) }

// SetMs moves the clock to a time in UNIX milliseconds (at most
// math.MaxInt64).
func (c *Clock) SetMs(ms uint64) { c.Set(time.UnixMilli(int64(min(ms, math.MaxInt64)))) }

func unixMs(t time.Time) uint64 {
	if ms := t.UnixMilli(); ms > 0 {
		return uint64(ms)
	}
	return 0
}
