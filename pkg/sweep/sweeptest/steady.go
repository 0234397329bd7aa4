// Package sweeptest drives the expiry sweep through a steady state over any
// store, for the benchmarks of `make bench-sweep` and for the tests that
// hold the sweep to its request targets. Only tests import it.
//
// # The steady state
//
// Runs are a minute apart (Interval). Of N keys, 90 % are settled
// (released, or expired and already reported), 9 % are held by holders
// that refresh them with a 30 s TTL once an interval, 5 s before the run,
// and 1 % are newly expired: leases whose holders stopped refreshing
// during the previous interval, so that they expired between two runs
// without being written since the previous run saw them. Between two runs
// 1 % of the settled keys are taken by new holders and 1 % of the held
// stop, so the proportions stay put. The records changed since the
// previous run are the 9 % held (8 % refreshed, 1 % newly taken).
package sweeptest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redlease/redlease/internal/testclock"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/sweep"
)

// Timing of the steady state.
const (
	Interval   = time.Minute
	TTL        = ttlMs * time.Millisecond
	ttlMs      = 30_000
	writeAhead = 5 * time.Second // holders write this long before each run
	hourMs     = 3_600_000
)

// Probe reads what the store was asked since its last call, by operation
// name ("ListObjectsV2", "GetObject", "Scan", ...).
type Probe func() map[string]int

// Run is what one measured run did.
type Run struct {
	Requests map[string]int
	// Changed is how many records were written since the previous run;
	// Expired how many expired since then without a write.
	Changed, Expired int
	// Events were published, in PublishCalls calls.
	Events, PublishCalls int
	Result               sweep.Result
	Wall                 time.Duration
}

// Steady is a store in the steady state, ready for runs.
type Steady struct {
	tb    testing.TB
	store lease.ListingStore
	probe Probe
	clock *testclock.Clock
	svc   *lease.Service
	sw    *sweep.Sweeper
	pub   *Recorder
	keys  int
	// settled and live are queues of key indexes: new holders take the
	// oldest settled key, the oldest live key stops first.
	settled, live []int
	held          map[int]lease.Lease
	run           int
}

// Key is the database key of index i: spread over tenants and databases
// as a fleet's would be.
func Key(i int) string { return fmt.Sprintf("tenant-%03d/db-%06d/data.rdb", i%97, i) }

// principalOf is who takes key i: even keys an IAM role, whose name every
// record it writes carries ("principal"), odd keys the anonymous caller of
// an open server, whose records are RedDB's bytes exactly.
func principalOf(i int) lease.Principal {
	if i%2 == 0 {
		return lease.Principal{Name: "arn:aws:sts::123456789012:assumed-role/reddb/tenant-" + fmt.Sprint(i%97), Prefixes: []string{""}}
	}
	return lease.Anonymous
}

// storedPrincipal is the "principal" member the records of key i carry.
func storedPrincipal(i int) string {
	if p := principalOf(i); p.Name != lease.AnonymousName {
		return p.Name
	}
	return ""
}

// New fills store (empty) with keys records in the steady state and runs
// the first (warm-up) sweep, which meets nothing it knows. cfg is the
// sweep's configuration; its Store, Publisher and Now are set here.
func New(tb testing.TB, store lease.ListingStore, probe Probe, keys int, cfg sweep.Config) *Steady {
	tb.Helper()
	if keys < 100 {
		tb.Fatalf("sweeptest: %d keys; the proportions need at least 100", keys)
	}
	clock := testclock.New(testclock.Epoch)
	svc, err := lease.New(lease.Config{Store: store, Now: clock.Now, CacheSize: keys})
	if err != nil {
		tb.Fatal(err)
	}
	pub := &Recorder{}
	cfg.Store, cfg.Publisher, cfg.Now = store, pub, clock.Now
	sw, err := sweep.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	st := &Steady{tb: tb, store: store, probe: probe, clock: clock, svc: svc, sw: sw, pub: pub, keys: keys, held: map[int]lease.Lease{}}
	st.seed()
	st.Run() // warm-up: the sweep's first run knows nothing yet
	return st
}

// seed writes 91 % settled records directly and takes 9 % through the
// service, 5 s before the first run.
func (s *Steady) seed() {
	ctx := context.Background()
	liveFrom := s.keys - s.keys*9/100
	past := s.clock.Ms() - hourMs
	seed := make([]lease.Record, 0, liveFrom)
	for i := range liveFrom {
		r := lease.Record{Lease: lease.Lease{DatabaseKey: Key(i), HolderID: "gone-" + fmt.Sprint(i), Term: 1, Generation: 1,
			AcquiredAtMs: past - 60_000, ExpiresAtMs: past}, Principal: storedPrincipal(i)}
		if i%2 == 0 {
			r.ReleasedAtMs = past
		} else {
			r.ExpiryReportedMs = past + 60_000
		}
		seed = append(seed, r)
		s.settled = append(s.settled, i)
	}
	s.must(parallel(len(seed), func(i int) error {
		if _, err := s.store.Create(ctx, seed[i]); err != nil {
			return fmt.Errorf("seed %s: %w", seed[i].DatabaseKey, err)
		}
		return nil
	}))
	s.clock.Advance(Interval - writeAhead)
	fresh := make([]int, 0, s.keys-liveFrom)
	for i := liveFrom; i < s.keys; i++ {
		fresh = append(fresh, i)
	}
	s.take(fresh)
	s.clock.Advance(writeAhead)
}

// take has new holders acquire keys now.
func (s *Steady) take(keys []int) {
	ctx := context.Background()
	var mu sync.Mutex
	s.must(parallel(len(keys), func(j int) error {
		i := keys[j]
		l, err := s.svc.Acquire(ctx, lease.AcquireRequest{Principal: principalOf(i), DatabaseKey: Key(i), HolderID: fmt.Sprintf("holder-%d-%d", i, s.run),
			TTLMs: ttlMs, Term: 1})
		if err != nil {
			return fmt.Errorf("acquire %s: %w", Key(i), err)
		}
		mu.Lock()
		s.held[i] = l
		mu.Unlock()
		return nil
	}))
	s.live = append(s.live, keys...)
}

// Next moves to the next run: 1 % of the held stop, the others refresh, 1 %
// of the settled are taken, and the clock reaches the run's time. It
// returns the keys that will have expired unreported by then.
func (s *Steady) Next() (changed int, expired []string) {
	ctx := context.Background()
	s.clock.Advance(Interval - writeAhead)
	n := max(s.keys/100, 1)
	stopped := slices.Clone(s.live[:n])
	s.live = s.live[n:]
	refresh := slices.Clone(s.live)
	s.must(parallel(len(refresh), func(j int) error {
		l := s.held[refresh[j]]
		if _, err := s.svc.Refresh(ctx, lease.RefreshRequest{Principal: principalOf(refresh[j]), DatabaseKey: l.DatabaseKey, HolderID: l.HolderID,
			Generation: l.Generation, TTLMs: ttlMs}); err != nil {
			return fmt.Errorf("refresh %s: %w", l.DatabaseKey, err)
		}
		return nil
	}))
	taken := slices.Clone(s.settled[:n])
	s.settled = append(s.settled[n:], stopped...)
	s.take(taken)
	for _, i := range stopped {
		expired = append(expired, Key(i))
		delete(s.held, i)
	}
	s.clock.Advance(writeAhead)
	return len(refresh) + len(taken), expired
}

// Run runs one sweep at the clock's time and returns what it did.
func (s *Steady) Run() Run {
	s.tb.Helper()
	s.run++
	s.probe()
	s.pub.Take()
	start := time.Now()
	res, err := s.sw.Run(context.Background())
	wall := time.Since(start)
	if err != nil {
		s.tb.Fatalf("sweep run %d: %v", s.run, err)
	}
	events, calls := s.pub.Take()
	return Run{Requests: s.probe(), Events: len(events), PublishCalls: calls, Result: res, Wall: wall}
}

// Step is Next then Run, checking that the run reported exactly the leases
// that expired since the previous one: every expiry within one run.
func (s *Steady) Step() Run {
	s.tb.Helper()
	changed, expired := s.Next()
	r := s.Run()
	s.Check(&r, changed, expired)
	return r
}

// Check fails the test unless r published and marked exactly the expired
// keys, and records changed and expired in r.
func (s *Steady) Check(r *Run, changed int, expired []string) {
	s.tb.Helper()
	r.Changed, r.Expired = changed, len(expired)
	got := make([]string, 0, len(s.pub.last))
	for _, e := range s.pub.last {
		got = append(got, e.DatabaseKey)
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(expired))
	if !slices.Equal(got, want) {
		s.tb.Fatalf("run %d published %d events, want the %d leases that expired since the previous run", s.run, len(got), len(want))
	}
	if r.Result.Reported != len(want) || r.Result.Failed != 0 || r.Result.Truncated {
		s.tb.Fatalf("run %d: %+v; want %d reported, nothing failed, not truncated", s.run, r.Result, len(want))
	}
}

// Recorder is a sweep.Publisher that accepts every event and keeps them,
// for tests of the sweep over a backend.
type Recorder struct {
	mu     sync.Mutex
	events []sweep.ExpiredEvent
	calls  int
	last   []sweep.ExpiredEvent
}

var _ sweep.Publisher = (*Recorder)(nil)

// Publish implements sweep.Publisher.
func (p *Recorder) Publish(_ context.Context, events []sweep.ExpiredEvent) []error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, events...)
	p.calls++
	return make([]error, len(events))
}

// Take returns the events accepted since the last Take and the Publish
// calls that carried them.
func (p *Recorder) Take() ([]sweep.ExpiredEvent, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	events, calls := p.events, p.calls
	p.events, p.calls, p.last = nil, 0, events
	return events, calls
}

// Keys is Take's events by database key, counted.
func (p *Recorder) Keys() map[string]int {
	events, _ := p.Take()
	out := map[string]int{}
	for _, e := range events {
		out[e.DatabaseKey]++
	}
	return out
}

func (s *Steady) must(err error) {
	s.tb.Helper()
	if err != nil {
		s.tb.Fatal(err)
	}
}

// parallel runs f(0..n-1) on a few goroutines (the writes of the set-up,
// which emulators serve faster side by side) and returns the first error.
func parallel(n int, f func(i int) error) error {
	const workers = 16
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	next := make(chan int)
	for range min(workers, n) {
		wg.Go(func() {
			for i := range next {
				if err := f(i); err != nil {
					once.Do(func() { first = err })
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}
