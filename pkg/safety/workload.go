package safety

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/redlease/redlease/pkg/lease"
)

// Workload runs concurrent clients that send random acquire, refresh,
// release and get calls, biased towards requests that can succeed (a client
// mostly refreshes and releases what it acquired), and records them.
type Workload struct {
	Clients      int
	OpsPerClient int
	// ClientBase offsets client ids, so that several processes' histories
	// can be merged.
	ClientBase int
	Keys       []string
	Holders    []string
	TTLs       []uint64 // ms
	MaxTerm    uint64   // terms drift in [1, MaxTerm]; default 3
	Seed       uint64
	// Services: client i calls Services[i % len(Services)].
	Services []*lease.Service
	Recorder *Recorder
	// AfterCall, when set, runs after each call (it drives a Stepper).
	AfterCall func()
	// CallTimeout bounds each call with a context deadline (0: none).
	CallTimeout time.Duration
}

// Run runs every client to completion and returns the recorded history.
func (w Workload) Run(ctx context.Context) []Op {
	if w.MaxTerm == 0 {
		w.MaxTerm = 3
	}
	var wg sync.WaitGroup
	for i := range w.Clients {
		wg.Go(func() {
			c := newClient(&w, w.ClientBase+i)
			svc := w.Services[i%len(w.Services)]
			c.do = func(ctx context.Context, in Input) Op { return w.Recorder.Do(ctx, c.id, svc, in) }
			for range w.OpsPerClient {
				if ctx.Err() != nil {
					return
				}
				c.step(ctx)
			}
		})
	}
	wg.Wait()
	return w.Recorder.Ops()
}

// Sequential returns one client's call generator: each call of the
// returned function picks the client's next request, runs it with do and
// learns from the answer, so a test can wrap every call in its own checks.
func (w Workload) Sequential(do func(Input) Op) func() {
	if w.MaxTerm == 0 {
		w.MaxTerm = 3
	}
	c := newClient(&w, w.ClientBase)
	c.do = func(_ context.Context, in Input) Op { return do(in) }
	return func() { c.step(context.Background()) }
}

func newClient(w *Workload, id int) *client {
	stream := uint64(id) //nolint:gosec // client ids are small and non-negative
	return &client{w: w, id: id, rng: rand.New(rand.NewPCG(w.Seed, stream)),
		seen: map[string]lease.Lease{}, mine: map[string]lease.Lease{}}
}

type client struct {
	w    *Workload
	id   int
	do   func(ctx context.Context, in Input) Op
	rng  *rand.Rand
	seen map[string]lease.Lease // newest lease observed per key
	mine map[string]lease.Lease // this client's last acquired lease per key
}

func (c *client) pick(xs []string) string { return xs[c.rng.IntN(len(xs))] }

func (c *client) term(key string) uint64 {
	t := max(c.seen[key].Term, 1)
	switch r := c.rng.IntN(100); {
	case r < 3 && t < c.w.MaxTerm:
		t++
	case r < 8 && t > 1:
		t--
	}
	return t
}

// target chooses the holder and generation of a refresh or release.
func (c *client) target(key string) (string, uint64) {
	if m, ok := c.mine[key]; ok && c.rng.IntN(100) < 70 {
		return m.HolderID, m.Generation
	}
	holder := c.pick(c.w.Holders)
	gen := c.seen[key].Generation
	switch r := c.rng.IntN(100); {
	case r < 50 && gen > 0:
	case r < 75:
		gen++
	case gen > 1:
		gen--
	}
	return holder, max(gen, 1)
}

func (c *client) step(ctx context.Context) {
	w := c.w
	key := c.pick(w.Keys)
	in := Input{Key: key}
	switch r := c.rng.IntN(100); {
	case r < 35:
		in.Kind, in.Holder = KindAcquire, c.pick(w.Holders)
		in.TTLMs = w.TTLs[c.rng.IntN(len(w.TTLs))]
		in.Term = c.term(key)
	case r < 60:
		in.Kind = KindRefresh
		in.Holder, in.Generation = c.target(key)
		in.TTLMs = w.TTLs[c.rng.IntN(len(w.TTLs))]
		switch r := c.rng.IntN(100); {
		case r < 10:
			in.CurrentTerm = c.term(key)
		case r < 15:
			in.CurrentTerm, in.Term = c.term(key), c.term(key)
		case r < 20:
			in.Term = c.term(key)
		}
	case r < 80:
		in.Kind = KindRelease
		in.Holder, in.Generation = c.target(key)
	default:
		in.Kind = KindGet
	}
	callCtx, cancel := ctx, context.CancelFunc(func() {})
	if w.CallTimeout > 0 {
		callCtx, cancel = context.WithTimeout(ctx, w.CallTimeout)
	}
	op := c.do(callCtx, in)
	cancel()
	if w.AfterCall != nil {
		w.AfterCall()
	}
	c.learn(op)
}

func (c *client) learn(op Op) {
	out, key := op.Output, op.Input.Key
	if out.HasLease && out.Lease.Generation >= c.seen[key].Generation {
		c.seen[key] = out.Lease
	}
	if out.Outcome == OutcomeFenced && out.CurrentTerm > c.seen[key].Term {
		l := c.seen[key]
		l.Term = out.CurrentTerm
		c.seen[key] = l
	}
	switch {
	case op.Input.Kind == KindAcquire && out.Outcome == OutcomeOK:
		c.mine[key] = out.Lease
	case op.Input.Kind == KindRelease && out.Outcome == OutcomeOK && c.rng.IntN(2) == 0:
		delete(c.mine, key) // sometimes keep it, to release twice
	case out.Outcome == OutcomeStale && c.mine[key].Generation == op.Input.Generation:
		delete(c.mine, key)
	}
}
