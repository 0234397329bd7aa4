package sweep

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/redlease/redlease/pkg/lease"
)

// reportAll publishes and marks a page's candidates in chunks of BatchSize,
// at most Workers chunks at once. It reports false when the budget ran out
// before every chunk was started.
func (s *Sweeper) reportAll(ctx context.Context, b budget, st *state, cands []candidate, t *tally) bool {
	var (
		complete = true
		wg       sync.WaitGroup
		slots    = make(chan struct{}, s.workers)
	)
	for len(cands) > 0 {
		n := min(len(cands), s.batchSize)
		chunk := cands[:n:n]
		cands = cands[n:]
		slots <- struct{}{}
		if b.exhausted(ctx) {
			// Not started: nothing published, nothing marked; the next run
			// finds these records unmarked.
			<-slots
			t.do(func(r *Result) { r.Deferred += len(chunk) })
			complete = false
			continue
		}
		wg.Go(func() {
			defer func() { <-slots }()
			s.report(ctx, st, chunk, t)
		})
	}
	wg.Wait()
	return complete
}

// report publishes one chunk, then marks what was published, the chunk's
// marks at once (at most Workers marks in flight across all chunks).
func (s *Sweeper) report(ctx context.Context, st *state, chunk []candidate, t *tally) {
	events := make([]ExpiredEvent, len(chunk))
	for i, c := range chunk {
		events[i] = c.event
	}
	errs := s.pub.Publish(ctx, events)
	if len(errs) != len(events) {
		err := fmt.Errorf("sweep: publisher answered %d results for %d events", len(errs), len(events))
		errs = make([]error, len(events))
		for i := range errs {
			errs[i] = err
		}
	}
	var wg sync.WaitGroup
	for i, c := range chunk {
		key := c.entry.Key
		if errs[i] != nil {
			t.do(func(r *Result) { r.Failed++ })
			s.log.LogAttrs(ctx, slog.LevelWarn, "publish failed; retried next run",
				slog.String("database_key", key), slog.String("event_id", c.event.EventID),
				slog.String("error", errs[i].Error()))
			continue
		}
		s.writeSlots <- struct{}{}
		wg.Go(func() {
			defer func() { <-s.writeSlots }()
			s.mark(ctx, st, c, t)
		})
	}
	wg.Wait()
}

// mark writes the mark of one published expiry: a conditional write at the
// version read, through the lease rule, and nothing else.
func (s *Sweeper) mark(ctx context.Context, st *state, c candidate, t *tally) {
	key := c.entry.Key
	version, err := s.marker.MarkExpiryReported(ctx, c.listed)
	switch {
	case err == nil:
		t.do(func(r *Result) { r.Reported++ })
		if c.entry.Record == nil {
			st.learnReported(c.entry, c.listed.Record.Lease, version)
		}
	case errors.Is(err, lease.ErrPrecondition):
		t.do(func(r *Result) { r.Skipped++ })
		st.forget(key)
		s.log.LogAttrs(ctx, slog.LevelInfo, "record changed during the sweep; left untouched",
			slog.String("database_key", key), slog.String("event_id", c.event.EventID))
	default:
		t.do(func(r *Result) { r.Failed++ })
		s.log.LogAttrs(ctx, slog.LevelWarn, "mark failed after publish; the event will be published again",
			slog.String("database_key", key), slog.String("event_id", c.event.EventID),
			slog.String("error", err.Error()))
	}
}
