// Package faulty wraps a lease.ListingStore with programmable, seeded
// faults, to prove that the Service stays safe when storage misbehaves the
// way S3, DynamoDB and disks do:
//
//   - FailBefore: the call fails with lease.ErrUnavailable and never
//     reached the store;
//   - FailAfter: a write is applied, then the caller gets
//     lease.ErrUnavailable (the ambiguous case: a lost response);
//   - Timeout / TimeoutAfter: the same two as a context deadline; when the
//     caller's context has a deadline the call really waits for it;
//   - Throttle: lease.ErrUnavailable with a retry hint, nothing applied;
//   - Conflict: a spurious *lease.PreconditionError (S3's 409
//     ConditionalRequestConflict), nothing applied;
//   - ConflictAfter: the write is applied, then a *lease.PreconditionError
//     comes back. This is what an SDK that silently resends a conditional
//     write after a lost response produces: the resend finds its own write
//     and fails the condition;
//   - Sneak: after a Load returns, the Sneak hook runs (typically another
//     writer's whole operation) before the caller sees the record, as if
//     the read had been slow.
//
// Rules pick which calls fail: by operation, key, the n-th matching call,
// or a seeded probability, so every run of a single-goroutine test injects
// the same faults. The wrapper also logs every write that reached the
// inner store, in order: the ground truth to compare callers' answers with.
package faulty

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"github.com/redlease/redlease/pkg/lease"
)

// Op names a Store call.
type Op string

// The calls of lease.ListingStore.
const (
	OpLoad    Op = "load"
	OpCreate  Op = "create"
	OpReplace Op = "replace"
	OpList    Op = "list"
)

// Kind is a fault.
type Kind int

// Faults; see the package documentation.
const (
	None Kind = iota
	FailBefore
	FailAfter
	Timeout
	TimeoutAfter
	Throttle
	Conflict
	ConflictAfter
	Sneak
)

var kindNames = [...]string{"none", "fail-before", "fail-after", "timeout", "timeout-after",
	"throttle", "conflict", "conflict-after", "sneak"}

func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Applies reports whether a write under this fault reaches the store.
func (k Kind) Applies() bool {
	return k == None || k == FailAfter || k == TimeoutAfter || k == ConflictAfter || k == Sneak
}

// Rule selects calls to fail. The first rule that fires wins. A rule only
// matches calls its Kind applies to: FailAfter, TimeoutAfter, Conflict and
// ConflictAfter to Create and Replace, Sneak to Load.
type Rule struct {
	Op  Op     // "" matches every call
	Key string // "" matches every key (List has key "")
	// Nth fires on the Nth matching call only (1-based). When 0, Rate is
	// the probability that a matching call fires, drawn from the seeded
	// generator.
	Nth  int
	Rate float64
	// Limit caps how often the rule fires (0: no cap).
	Limit int
	Kind  Kind
}

// Options program a Store.
type Options struct {
	Seed  uint64
	Rules []Rule
	// Sneak runs for the Sneak fault, after the inner Load returned and
	// before the caller gets the record. ctx is marked Quiet, so calls the
	// hook makes through this Store get no faults.
	Sneak func(ctx context.Context, key string)
	// ThrottleRetryAfter is the hint of Throttle errors (default 250 ms).
	ThrottleRetryAfter time.Duration
	// Yield is the probability of a runtime.Gosched before each call, to
	// shake up interleavings.
	Yield float64
}

// Write is one write that reached the inner store.
type Write struct {
	Seq     int
	Op      Op
	Record  lease.Record
	Version lease.Version
	Fault   Kind // the fault the caller saw instead of success (None if none)
}

// Store is a faulty lease.ListingStore. It is safe for concurrent use.
type Store struct {
	inner lease.ListingStore
	cfg   Options

	mu     sync.Mutex
	rng    *rand.Rand
	seen   []int // matching calls per rule
	fired  []int // firings per rule
	counts map[Kind]int
	writes []Write
}

var _ lease.ListingStore = (*Store)(nil)

// New wraps inner.
func New(inner lease.ListingStore, cfg Options) *Store {
	if cfg.ThrottleRetryAfter <= 0 {
		cfg.ThrottleRetryAfter = 250 * time.Millisecond
	}
	return &Store{
		inner: inner, cfg: cfg,
		rng:    rand.New(rand.NewPCG(cfg.Seed, 0xfa17)),
		seen:   make([]int, len(cfg.Rules)),
		fired:  make([]int, len(cfg.Rules)),
		counts: map[Kind]int{},
	}
}

type quietKey struct{}

// Quiet marks ctx so that calls made with it get no faults and no hooks.
func Quiet(ctx context.Context) context.Context { return context.WithValue(ctx, quietKey{}, true) }

func isQuiet(ctx context.Context) bool { q, _ := ctx.Value(quietKey{}).(bool); return q }

// Fired returns how often each fault was injected.
func (s *Store) Fired() map[Kind]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[Kind]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// Writes returns every write that reached the inner store, in order.
func (s *Store) Writes() []Write {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Write(nil), s.writes...)
}

// Inner returns the wrapped store.
func (s *Store) Inner() lease.ListingStore { return s.inner }

// pick decides the fault for one call.
func (s *Store) pick(ctx context.Context, op Op, key string) Kind {
	if isQuiet(ctx) {
		return None
	}
	s.mu.Lock()
	yield := s.cfg.Yield > 0 && s.rng.Float64() < s.cfg.Yield
	k := s.match(op, key)
	s.mu.Unlock()
	if yield {
		runtime.Gosched()
	}
	return k
}

// match applies the rules; s.mu is held.
func (s *Store) match(op Op, key string) Kind {
	for i, r := range s.cfg.Rules {
		if (r.Op != "" && r.Op != op) || (r.Key != "" && r.Key != key) || !applicable(r.Kind, op) {
			continue
		}
		if r.Limit > 0 && s.fired[i] >= r.Limit {
			continue
		}
		s.seen[i]++
		fire := s.seen[i] == r.Nth
		if r.Nth == 0 {
			fire = s.rng.Float64() < r.Rate
		}
		if !fire {
			continue
		}
		s.fired[i]++
		s.counts[r.Kind]++
		return r.Kind
	}
	return None
}

// applicable keeps write-only faults off reads and Sneak off writes.
func applicable(k Kind, op Op) bool {
	write := op == OpCreate || op == OpReplace
	switch k {
	case FailAfter, TimeoutAfter, Conflict, ConflictAfter:
		return write
	case Sneak:
		return op == OpLoad
	}
	return true
}

// ErrInjected is wrapped by every ErrUnavailable this package injects. A
// write that failed with it was applied (or not) before the call returned:
// unlike a real network failure, it cannot land later.
var ErrInjected = errors.New("injected failure")

// refuse builds the error of a fault.
func (s *Store) refuse(ctx context.Context, k Kind, op Op, key string) error {
	switch k {
	case Timeout, TimeoutAfter:
		if _, ok := ctx.Deadline(); ok {
			<-ctx.Done()
			return lease.Unavailable(fmt.Errorf("faulty %s %q: %w: %w", op, key, ErrInjected, ctx.Err()), 0)
		}
		return lease.Unavailable(fmt.Errorf("faulty %s %q: %w: %w", op, key, ErrInjected, context.DeadlineExceeded), 0)
	case Throttle:
		return lease.Unavailable(fmt.Errorf("faulty %s %q: %w: throttled", op, key, ErrInjected), s.cfg.ThrottleRetryAfter)
	case Conflict, ConflictAfter:
		return fmt.Errorf("faulty %s %q: %w", op, key, &lease.PreconditionError{})
	default:
		return lease.Unavailable(fmt.Errorf("faulty %s %q: %w", op, key, ErrInjected), 0)
	}
}

// Load implements lease.Store.
func (s *Store) Load(ctx context.Context, key string) (lease.Versioned, error) {
	k := s.pick(ctx, OpLoad, key)
	if k != None && k != Sneak {
		return lease.Versioned{}, s.refuse(ctx, k, OpLoad, key)
	}
	v, err := s.inner.Load(ctx, key)
	if k == Sneak && s.cfg.Sneak != nil {
		s.cfg.Sneak(Quiet(ctx), key)
	}
	return v, err
}

// Create implements lease.Store.
func (s *Store) Create(ctx context.Context, rec lease.Record) (lease.Version, error) {
	return s.write(ctx, OpCreate, rec, "")
}

// Replace implements lease.Store.
func (s *Store) Replace(ctx context.Context, rec lease.Record, expect lease.Version) (lease.Version, error) {
	return s.write(ctx, OpReplace, rec, expect)
}

func (s *Store) write(ctx context.Context, op Op, rec lease.Record, expect lease.Version) (lease.Version, error) {
	key := rec.DatabaseKey
	k := s.pick(ctx, op, key)
	if !k.Applies() {
		return "", s.refuse(ctx, k, op, key)
	}
	// The inner write and its log entry happen under one lock, so the log
	// order is the store's order.
	s.mu.Lock()
	var (
		v   lease.Version
		err error
	)
	if op == OpCreate {
		v, err = s.inner.Create(ctx, rec)
	} else {
		v, err = s.inner.Replace(ctx, rec, expect)
	}
	if err == nil {
		s.writes = append(s.writes, Write{Seq: len(s.writes) + 1, Op: op, Record: rec, Version: v, Fault: k})
	}
	s.mu.Unlock()
	if err != nil || k == None {
		return v, err
	}
	return "", s.refuse(ctx, k, op, key)
}

// List implements lease.Lister.
func (s *Store) List(ctx context.Context, cursor string, limit int) (lease.Page, error) {
	if k := s.pick(ctx, OpList, ""); k != None {
		return lease.Page{}, s.refuse(ctx, k, OpList, "")
	}
	return s.inner.List(ctx, cursor, limit)
}

// LoadState implements lease.StateStore. The sweep's state gets no faults:
// it is no record, and the Service never touches it.
func (s *Store) LoadState(ctx context.Context) ([]byte, lease.Version, error) {
	return s.inner.LoadState(ctx)
}

// SaveState implements lease.StateStore, without faults (see LoadState).
func (s *Store) SaveState(ctx context.Context, data []byte, expect lease.Version) (lease.Version, error) {
	return s.inner.SaveState(ctx, data, expect)
}
