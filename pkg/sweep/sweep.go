package sweep

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
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

// Defaults of Config. A page is what the sweep finishes before its cursor
// moves on. S3 answers at most 1,000 keys per listing call whatever the
// page size; DynamoDB splits a page between its Scan segments, and bigger
// Scan calls lose less to the rounding of read units to 4 KB per call.
const (
	DefaultPageSize       = 4000
	DefaultWorkers        = 16
	DefaultBatchSize      = 10 // EventBridge PutEvents takes at most ten entries
	DefaultDeadlineMargin = 10 * time.Second
)

// stateSaveTimeout bounds the state's save, which runs after the walk even
// when the run's context has ended (the margin is there to pay for it).
const stateSaveTimeout = 5 * time.Second

// Config wires a Sweeper. Store and Publisher are required.
type Config struct {
	// Store is listed page by page and keeps the sweep's state; the marks
	// are written to it through a lease.Service (MarkExpiryReported), like
	// every other change of a record.
	Store     lease.ListingStore
	Publisher Publisher
	// Now is the service's clock, which decides what has expired (time.Now
	// by default). The context deadline is always judged by the real clock,
	// because that is the clock the Lambda timeout runs on.
	Now func() time.Time
	// PageSize is the listing page size (DefaultPageSize).
	PageSize int
	// Workers bounds the record reads, and separately the chunks being
	// published and marked, in flight at once (DefaultWorkers).
	Workers int
	// BatchSize is the number of events handed to one Publish call
	// (DefaultBatchSize).
	BatchSize int
	// DeadlineMargin is the time before the context deadline after which no
	// new page, read or chunk is started (DefaultDeadlineMargin), left for
	// the work in flight and the state's save. Negative means none.
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
	hashes    lease.ContentVersioner
	pub       Publisher
	now       func() time.Time
	pageSize  int
	workers   int
	batchSize int
	margin    time.Duration
	metrics   MetricsSink
	log       *slog.Logger
	// writeSlots bounds the marks in flight across all chunks.
	writeSlots chan struct{}
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
	s.hashes, _ = cfg.Store.(lease.ContentVersioner)
	if s.now == nil {
		s.now = time.Now
	}
	// The sweep's own service, on its clock and without the cache: it only
	// writes marks, each at the version it read.
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
	s.writeSlots = make(chan struct{}, s.workers)
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

// Run sweeps from where the previous run stopped to the end of the cycle
// it is in (and, if it started mid-cycle, through the next cycle too, time
// permitting). It returns an error when the listing or the state's load
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
	var res Result
	st, version, err := s.loadState(ctx, b, &res)
	if err == nil {
		err = s.walk(ctx, b, st, &res)
		s.saveState(ctx, st, version, &res)
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

// walk lists page after page from the state's cursor, sweeping each page
// whole before the cursor moves past it, while the next page is listed in
// the background.
func (s *Sweeper) walk(ctx context.Context, b budget, st *state, res *Result) error {
	cursor := st.cursor
	res.Resumed = cursor != ""
	ownCycle := cursor == "" // this run began the cycle it is in
	if ownCycle {
		st.beginCycle(lease.UnixMs(s.now()))
	}
	if b.exhausted(ctx) {
		res.Truncated = true
		return nil
	}
	next := s.fetch(ctx, cursor)
	for {
		page, err := next.wait()
		if errors.Is(err, lease.ErrInvalid) && cursor != "" && res.Pages == 0 {
			// A cursor the backend cannot use any more (its configuration
			// changed): start the cycle again rather than stall on it.
			s.log.LogAttrs(ctx, slog.LevelWarn, "the saved cursor is not usable; starting a new cycle",
				slog.String("cursor", cursor), slog.String("error", err.Error()))
			cursor, ownCycle, res.Resumed = "", true, false
			st.beginCycle(lease.UnixMs(s.now()))
			next = s.fetch(ctx, cursor)
			continue
		}
		if err != nil {
			return fmt.Errorf("sweep: list page %d (cursor %q): %w", res.Pages+1, cursor, err)
		}
		if b.exhausted(ctx) {
			// Listed too late to be swept: leave it to the next run.
			res.Truncated = true
			return nil
		}
		res.Pages++
		res.ReadUnits += page.ReadUnits
		if page.Next != "" && page.Next == cursor {
			return fmt.Errorf("sweep: list page %d: cursor %q did not advance", res.Pages, cursor)
		}
		next = nil
		if page.Next != "" {
			next = s.fetch(ctx, page.Next)
		}
		complete := s.sweepPage(ctx, b, st, page, res)
		switch {
		case !complete:
			// The cursor stays at this page's start: the next run sweeps
			// it again, from what this run learnt.
			next.discard()
			res.Truncated = true
			return nil
		case page.Next != "":
			cursor = page.Next
			st.advance(cursor)
		case ownCycle:
			st.endCycle()
			res.CyclesCompleted++
			return nil
		default:
			// The run finished the cycle a previous run began; the time
			// left goes to a new one.
			st.endCycle()
			res.CyclesCompleted++
			cursor, ownCycle = "", true
			st.beginCycle(lease.UnixMs(s.now()))
			next = s.fetch(ctx, cursor)
		}
		if b.exhausted(ctx) {
			next.discard()
			res.Truncated = true
			return nil
		}
	}
}

// pending is one listing call in flight.
type pending struct {
	done   chan struct{}
	page   lease.Page
	err    error
	cancel context.CancelFunc
}

func (s *Sweeper) fetch(ctx context.Context, cursor string) *pending {
	ctx, cancel := context.WithCancel(ctx)
	p := &pending{done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(p.done)
		p.page, p.err = s.store.List(ctx, cursor, s.pageSize)
	}()
	return p
}

func (p *pending) wait() (lease.Page, error) {
	<-p.done
	p.cancel()
	return p.page, p.err
}

// discard abandons a listing nobody will use.
func (p *pending) discard() {
	if p == nil {
		return
	}
	p.cancel()
	<-p.done
}
