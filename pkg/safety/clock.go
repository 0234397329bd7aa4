package safety

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/redlease/redlease/pkg/lease"
)

// Clock is a fake service clock that only moves when told to. It remembers
// every value it held, so that the checker knows which decision times an
// ambiguous write could have used.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	values []uint64
}

// NewClock returns a clock reading start.
func NewClock(start time.Time) *Clock {
	return &Clock{now: start, values: []uint64{lease.UnixMs(start)}}
}

// Now reads the clock; pass it as lease.Config.Now.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Ms reads the clock in UNIX milliseconds.
func (c *Clock) Ms() uint64 { return lease.UnixMs(c.Now()) }

// Advance moves the clock forward by d (a negative d is a backward jump).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.values = append(c.values, lease.UnixMs(c.now))
}

// Values returns every value the clock held, sorted.
func (c *Clock) Values() []uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := slices.Clone(c.values)
	slices.Sort(v)
	return slices.Compact(v)
}

// Stepper advances a Clock in discrete random steps while clients run: it
// waits for a random number of completed calls, then moves the clock by
// one of Steps. Pacing by completed calls rather than by wall time keeps the
// interleaving of clock steps and calls similar on fast and slow machines.
type Stepper struct {
	Clock *Clock
	// Steps are the increments to choose from; small ones make decisions
	// land exactly on expiry boundaries.
	Steps []time.Duration
	// MaxCalls bounds the calls between two steps (at least 1).
	MaxCalls int
	Seed     uint64

	done chan struct{}
}

// Start runs the controller goroutine until ctx ends; it returns the hook
// that clients call after each call.
func (s *Stepper) Start(ctx context.Context) (afterCall func(), wait func()) {
	calls := make(chan struct{}, 1024)
	s.done = make(chan struct{})
	rng := rand.New(rand.NewPCG(s.Seed, 0x5afe))
	go func() {
		defer close(s.done)
		for {
			n := 1 + rng.IntN(max(s.MaxCalls, 1))
			for range n {
				select {
				case <-calls:
				case <-ctx.Done():
					return
				}
			}
			s.Clock.Advance(s.Steps[rng.IntN(len(s.Steps))])
		}
	}()
	afterCall = func() {
		select {
		case calls <- struct{}{}:
		default:
		}
	}
	return afterCall, func() { <-s.done }
}
