package sweep

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/redlease/redlease/pkg/lease"
)

// Publisher sends events. It returns one entry per event, in order: nil
// when that event was accepted, otherwise why it was not. A failed event's
// record is not marked, so the next run publishes it again.
type Publisher interface {
	Publish(ctx context.Context, events []ExpiredEvent) []error
}

// MetricsSink receives one CloudWatch EMF record per run; *observe.Metrics
// satisfies it.
type MetricsSink interface {
	Emit(dimensions map[string]string, values map[string]float64, units map[string]string)
}

// Defaults of Config.
const (
	DefaultPageSize       = 500
	DefaultWorkers        = 16
	DefaultBatchSize      = 10 // EventBridge PutEvents takes at most ten entries
	DefaultDeadlineMargin = 10 * time.Second
)

// Config wires a Sweeper. Store and Publisher are required.
type Config struct {
	// Store is listed page by page; the marks are written to it through a
	// lease.Service (MarkExpiryReported), like every other change of a record.
	Store     lease.ListingStore
	Publisher Publisher
	// Now is the service's clock, which decides what has expired (time.Now
	// by default). The context deadline is always judged by the real clock,
	// because that is the clock the Lambda timeout runs on.
	Now func() time.Time
	// PageSize is the listing page size (DefaultPageSize).
	PageSize int
	// Workers bounds how many chunks are published and marked at once
	// (DefaultWorkers).
	Workers int
	// BatchSize is the number of events handed to one Publish call
	// (DefaultBatchSize).
	BatchSize int
	// DeadlineMargin is the time before the context deadline after which no
	// new page or chunk is started (DefaultDeadlineMargin). Negative means
	// none.
	DeadlineMargin time.Duration
	// Metrics, when set, receives the counts of every run.
	Metrics MetricsSink
	// Logger receives per-record failures and the run summary (discarded
	// when nil).
	Logger *slog.Logger
}

// Sweeper runs the expiry sweep. It is safe for concurrent use, though two
// overlapping runs publish the same expiries twice (see the package doc).
type Sweeper struct {
	store     lease.ListingStore
	marker    *lease.Service // the mark is a lease rule, written through the service
	pub       Publisher
	now       func() time.Time
	pageSize  int
	workers   int
	batchSize int
	margin    time.Duration
	metrics   MetricsSink
	log       *slog.Logger
}

// New checks cfg and returns a Sweeper.
func New(cfg Config) (*Sweeper, error) {
	if cfg.Store == nil {
		return nil, errors.New("sweep: Config.Store is required")
	}
	if cfg.Publisher == nil {
		return nil, errors.New("sweep: Config.Publisher is required")
	}
	s := &Sweeper{
		store:     cfg.Store,
		pub:       cfg.Publisher,
		now:       cfg.Now,
		pageSize:  cfg.PageSize,
		workers:   cfg.Workers,
		batchSize: cfg.BatchSize,
		margin:    cfg.DeadlineMargin,
		metrics:   cfg.Metrics,
		log:       cfg.Logger,
	}
	if s.now == nil {
		s.now = time.Now
	}
	// The sweep's own service, on its clock and without the cache: it only
	// writes marks, each at the version it listed.
	marker, err := lease.New(lease.Config{Store: cfg.Store, Now: s.now, CacheSize: -1})
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	s.marker = marker
	if s.pageSize <= 0 {
		s.pageSize = DefaultPageSize
	}
	if s.workers <= 0 {
		s.workers = DefaultWorkers
	}
	if s.batchSize <= 0 {
		s.batchSize = DefaultBatchSize
	}
	switch {
	case s.margin == 0:
		s.margin = DefaultDeadlineMargin
	case s.margin < 0:
		s.margin = 0
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return s, nil
}

// candidate is a listed record to report, with the event that reports it.
type candidate struct {
	listed lease.Versioned
	event  ExpiredEvent
}

// budget tells whether there is still time to start new work.
type budget struct {
	stopAt time.Time
	bound  bool
}

func newBudget(ctx context.Context, margin time.Duration) budget {
	deadline, ok := ctx.Deadline()
	return budget{stopAt: deadline.Add(-margin), bound: ok}
}

func (b budget) exhausted(ctx context.Context) bool {
	return ctx.Err() != nil || (b.bound && !time.Now().Before(b.stopAt))
}

// Run sweeps every record once. It returns an error only when the listing
// failed; the result then covers what was done before. Per-record failures
// are counted and logged, not returned: they are retried by the next run.
func (s *Sweeper) Run(ctx context.Context) (Result, error) {
	started := time.Now()
	b := newBudget(ctx, s.margin)
	if b.exhausted(ctx) && ctx.Err() == nil {
		// Most likely a function timeout shorter than the margin: every run
		// would do nothing, so say so loudly.
		s.log.LogAttrs(ctx, slog.LevelWarn, "sweep deadline leaves no time beyond the margin; nothing will be done",
			slog.Duration("remaining", time.Until(b.stopAt.Add(s.margin))), slog.Duration("margin", s.margin))
	}

	jobs := make(chan []candidate, s.workers)
	tallies := make([]Result, s.workers)
	var wg sync.WaitGroup
	for i := range s.workers {
		wg.Go(func() {
			for chunk := range jobs {
				s.process(ctx, b, chunk, &tallies[i])
			}
		})
	}

	var res Result
	err := s.list(ctx, b, &res, jobs)
	close(jobs)
	wg.Wait()
	for _, t := range tallies {
		res.add(t)
	}
	res.DurationMs = uint64(max(time.Since(started).Milliseconds(), 0)) //nolint:gosec // clamped to >= 0

	s.emit(res)
	attrs := res.logAttrs()
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "sweep failed", append(attrs, slog.String("error", err.Error()))...)
	} else {
		s.log.LogAttrs(ctx, slog.LevelInfo, "sweep finished", attrs...)
	}
	return res, err
}

// list walks the pages, classifies every record and queues the candidates
// in chunks for the workers.
func (s *Sweeper) list(ctx context.Context, b budget, res *Result, jobs chan<- []candidate) error {
	cursor := ""
	for {
		if b.exhausted(ctx) {
			res.Truncated = true
			return nil
		}
		page, err := s.store.List(ctx, cursor, s.pageSize)
		if err != nil {
			return fmt.Errorf("sweep: list page %d (cursor %q): %w", res.Pages+1, cursor, err)
		}
		res.Pages++
		if len(page.Unreadable) > 0 {
			res.Unreadable += len(page.Unreadable)
			s.log.LogAttrs(ctx, slog.LevelError, "stored objects are not lease records; skipped",
				slog.Any("keys", page.Unreadable))
		}
		cands := s.classify(page.Records, res)
		for len(cands) > 0 {
			n := min(len(cands), s.batchSize)
			jobs <- cands[:n:n]
			cands = cands[n:]
		}
		if page.Next == "" {
			return nil
		}
		if page.Next == cursor {
			return fmt.Errorf("sweep: list page %d: cursor %q did not advance", res.Pages, cursor)
		}
		cursor = page.Next
	}
}

// classify counts a page's records and picks the unreported expiries.
func (s *Sweeper) classify(records []lease.Versioned, res *Result) []candidate {
	nowMs := lease.UnixMs(s.now())
	var cands []candidate
	for _, v := range records {
		res.Listed++
		l := v.Record.Lease
		switch l.StateAt(nowMs) {
		case lease.StateHeld:
			res.Held++
		case lease.StateReleased:
			res.Released++
		case lease.StateExpired:
			res.Expired++
			res.OldestExpiredAgeMs = max(res.OldestExpiredAgeMs, nowMs-l.ExpiresAtMs)
			if v.Record.ExpiryReportedMs != 0 {
				res.AlreadyReported++
				continue
			}
			cands = append(cands, candidate{listed: v, event: NewExpiredEvent(l, nowMs)})
		}
	}
	return cands
}

// process publishes one chunk and marks what was published.
func (s *Sweeper) process(ctx context.Context, b budget, chunk []candidate, t *Result) {
	if b.exhausted(ctx) {
		// Not started: nothing published, nothing marked; the next run
		// finds these records unmarked.
		t.Deferred += len(chunk)
		t.Truncated = true
		return
	}
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
	for i, c := range chunk {
		key := c.listed.Record.DatabaseKey
		if errs[i] != nil {
			t.Failed++
			s.log.LogAttrs(ctx, slog.LevelWarn, "publish failed; retried next run",
				slog.String("database_key", key), slog.String("event_id", c.event.EventID),
				slog.String("error", errs[i].Error()))
			continue
		}
		_, err := s.marker.MarkExpiryReported(ctx, c.listed)
		switch {
		case err == nil:
			t.Reported++
		case errors.Is(err, lease.ErrPrecondition):
			t.Skipped++
			s.log.LogAttrs(ctx, slog.LevelInfo, "record changed during the sweep; left untouched",
				slog.String("database_key", key), slog.String("event_id", c.event.EventID))
		default:
			t.Failed++
			s.log.LogAttrs(ctx, slog.LevelWarn, "mark failed after publish; the event will be published again",
				slog.String("database_key", key), slog.String("event_id", c.event.EventID),
				slog.String("error", err.Error()))
		}
	}
}
