package awstest

import (
	"context"
	"maps"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/middleware"

	"github.com/redlease/redlease/pkg/backend/backendtest"
)

// Calls counts requests by operation name ("GetObject", "PutItem") and
// holds the failures a test scripted for a fake's next calls. A fake calls
// Begin at the start of each operation; Record makes real clients count
// their own. It is safe for concurrent use; the zero value is ready.
type Calls struct {
	mu     sync.Mutex
	counts map[string]int
	inject map[string][]error
}

// Begin counts one call of op and returns the failure scripted for it, if
// any; the fake then answers with that failure and does nothing else.
func (c *Calls) Begin(op string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.addLocked(op)
	if q := c.inject[op]; len(q) > 0 {
		c.inject[op] = q[1:]
		return q[0]
	}
	return nil
}

func (c *Calls) addLocked(op string) {
	if c.counts == nil {
		c.counts = map[string]int{}
	}
	c.counts[op]++
}

// FailNext makes the next calls of op fail with errs, one per call.
func (c *Calls) FailNext(op string, errs ...error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inject == nil {
		c.inject = map[string][]error{}
	}
	c.inject[op] = append(c.inject[op], errs...)
}

// Count returns the calls of op since the last Reset.
func (c *Calls) Count(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[op]
}

// Reset forgets the counts (not the scripted failures).
func (c *Calls) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.counts)
}

// Take returns the counts by operation and resets them.
func (c *Calls) Take() map[string]int { return c.take() }

// take returns the counts and resets them.
func (c *Calls) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	counts := maps.Clone(c.counts)
	clear(c.counts)
	return counts
}

// Record makes every client built from cfg count its operations in c, once
// per call however often the SDK retries it.
func (c *Calls) Record(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, func(stack *middleware.Stack) error {
		op := stack.ID() // the stack of one call is named after its operation
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("awstest.Calls",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				c.mu.Lock()
				c.addLocked(op)
				c.mu.Unlock()
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
	})
}

// Counter adapts c to backendtest's call-count walk and benchmark: Take
// returns the calls of read and write since the last Take, and fails tb on
// any other operation (a listing, say), which those never need.
func (c *Calls) Counter(tb testing.TB, read, write string) backendtest.Counter {
	return backendtest.Counter{
		Take: func() (int, int) {
			counts := c.take()
			reads, writes := counts[read], counts[write]
			delete(counts, read)
			delete(counts, write)
			for op, n := range counts {
				tb.Errorf("%d unexpected %s calls", n, op)
			}
			return reads, writes
		},
		ReadName: read, WriteName: write,
	}
}
