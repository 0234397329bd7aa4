package safety

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redlease/redlease/pkg/backend/faulty"
	"github.com/redlease/redlease/pkg/lease"
)

// Kind names the Service call an operation made.
type Kind uint8

// The four calls of the lease API.
const (
	KindAcquire Kind = iota + 1
	KindRefresh
	KindRelease
	KindGet
)

func (k Kind) String() string {
	switch k {
	case KindAcquire:
		return "acquire"
	case KindRefresh:
		return "refresh"
	case KindRelease:
		return "release"
	case KindGet:
		return "get"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Input is one request exactly as a client sent it.
type Input struct {
	Kind   Kind   `json:"kind"`
	Key    string `json:"key"`
	Holder string `json:"holder,omitempty"`
	TTLMs  uint64 `json:"ttl_ms,omitempty"`
	// Term is the acquire's term, or the refresh's optional Term.
	Term        uint64 `json:"term,omitempty"`
	Generation  uint64 `json:"generation,omitempty"`
	CurrentTerm uint64 `json:"current_term,omitempty"`
}

// Outcome classifies what the caller saw.
type Outcome uint8

// Outcomes. Every error the Service may legitimately return maps to one of
// them; anything else is OutcomeUnexpected, a failure by itself.
const (
	OutcomeOK Outcome = iota + 1
	OutcomeNotFound
	OutcomeHeld
	OutcomeFenced
	OutcomeStale
	OutcomeLostRace
	// OutcomeUnavailable is ambiguous for a write: it may have been applied.
	OutcomeUnavailable
	OutcomeUnexpected
	// OutcomeClockSkew: the instance's clock read before what the record
	// proves; refused before any write.
	OutcomeClockSkew
)

var outcomeNames = map[Outcome]string{
	OutcomeOK: "ok", OutcomeNotFound: "not_found", OutcomeHeld: "held",
	OutcomeFenced: "fenced", OutcomeStale: "stale", OutcomeLostRace: "lost_race",
	OutcomeUnavailable: "unavailable", OutcomeUnexpected: "unexpected",
	OutcomeClockSkew: "clock_skew",
}

func (o Outcome) String() string {
	if s, ok := outcomeNames[o]; ok {
		return s
	}
	return fmt.Sprintf("outcome(%d)", uint8(o))
}

// Output is what the caller saw, plus the service-clock window in which the
// service must have taken its decision.
type Output struct {
	Outcome Outcome `json:"outcome"`
	// Lease is the returned lease (OK), the snapshot's lease (OK of a get),
	// or the Current lease of a held or stale refusal when HasLease.
	Lease    lease.Lease `json:"lease"`
	HasLease bool        `json:"has_lease,omitempty"`
	// RetryAfterMs is the hint of a held refusal.
	RetryAfterMs uint64 `json:"retry_after_ms,omitempty"`
	// AttemptedTerm and CurrentTerm are a fenced refusal's details.
	AttemptedTerm uint64 `json:"attempted_term,omitempty"`
	CurrentTerm   uint64 `json:"current_term,omitempty"`
	// State, ExpiresInMs and ReadAtMs are a get's snapshot.
	State       lease.State `json:"state,omitempty"`
	ExpiresInMs uint64      `json:"expires_in_ms,omitempty"`
	ReadAtMs    uint64      `json:"read_at_ms,omitempty"`
	// StartMs and EndMs are the service clock read just before the call
	// and just after it returned.
	StartMs uint64 `json:"start_ms"`
	EndMs   uint64 `json:"end_ms"`
	Err     string `json:"err,omitempty"`
	// Injected marks an ErrUnavailable injected by pkg/backend/faulty: the
	// write, if applied, was applied before the call returned.
	Injected bool `json:"injected,omitempty"`
	// Candidates, for an ambiguous write, are the decision times the
	// model tries; nil means every millisecond of [StartMs, EndMs].
	Candidates []uint64 `json:"-"`
}

// Op is one completed call. Call and Return order the call in real time
// across every client (and process) of a history.
type Op struct {
	Client int    `json:"client"`
	Input  Input  `json:"input"`
	Output Output `json:"output"`
	Call   int64  `json:"call"`
	Return int64  `json:"return"`
}

// Ambiguous reports whether the op is a write whose effect is unknown.
func (o Op) Ambiguous() bool {
	return o.Output.Outcome == OutcomeUnavailable && o.Input.Kind != KindGet
}

func (o Op) String() string {
	in := o.Input
	var req string
	switch in.Kind {
	case KindAcquire:
		req = fmt.Sprintf("acquire(%s,%s,t%d,ttl%d)", in.Key, in.Holder, in.Term, in.TTLMs)
	case KindRefresh:
		req = fmt.Sprintf("refresh(%s,%s,g%d,ttl%d,t%d,ct%d)", in.Key, in.Holder, in.Generation, in.TTLMs, in.Term, in.CurrentTerm)
	case KindRelease:
		req = fmt.Sprintf("release(%s,%s,g%d)", in.Key, in.Holder, in.Generation)
	default:
		req = fmt.Sprintf("get(%s)", in.Key)
	}
	out := o.Output
	res := out.Outcome.String()
	if out.HasLease {
		res += " " + describeLease(out.Lease)
	}
	if out.Outcome == OutcomeFenced {
		res += fmt.Sprintf(" term %d<%d", out.AttemptedTerm, out.CurrentTerm)
	}
	return fmt.Sprintf("c%d %s -> %s @[%d,%d]", o.Client, req, res, out.StartMs, out.EndMs)
}

func describeLease(l lease.Lease) string {
	s := fmt.Sprintf("{%s g%d t%d %d..%d", l.HolderID, l.Generation, l.Term, l.AcquiredAtMs, l.ExpiresAtMs)
	if l.Released() {
		s += fmt.Sprintf(" rel@%d", l.ReleasedAtMs)
	}
	return s + "}"
}

// Stamp returns strictly ordered real-time stamps for Op.Call and Op.Return.
type Stamp func() int64

// SeqStamp orders the events of one process with a counter: two events of
// one process can never get the same stamp or an inverted one.
func SeqStamp() Stamp {
	var n atomic.Int64
	return func() int64 { return n.Add(1) }
}

// WallStamp orders events of several processes on one machine by the wall
// clock in nanoseconds, which every process reads from the same kernel.
func WallStamp() Stamp { return func() int64 { return time.Now().UnixNano() } }

// Recorder runs calls against a Service and keeps the resulting history.
// It is safe for concurrent use.
type Recorder struct {
	stamp Stamp
	clock func() uint64
	mu    sync.Mutex
	ops   []Op
}

// NewRecorder returns a recorder that stamps calls with stamp and reads the
// service clock (in UNIX milliseconds) with clock.
func NewRecorder(stamp Stamp, clock func() uint64) *Recorder {
	return &Recorder{stamp: stamp, clock: clock}
}

// Do runs in against svc on behalf of client, records it and returns it.
func (r *Recorder) Do(ctx context.Context, client int, svc *lease.Service, in Input) Op {
	op := Op{Client: client, Input: in}
	op.Call = r.stamp()
	op.Output.StartMs = r.clock()
	out, err := call(ctx, svc, in)
	op.Output.EndMs = r.clock()
	op.Return = r.stamp()
	classify(&out, err)
	out.StartMs, out.EndMs = op.Output.StartMs, op.Output.EndMs
	op.Output = out
	r.mu.Lock()
	r.ops = append(r.ops, op)
	r.mu.Unlock()
	return op
}

// Ops returns a copy of the history so far.
func (r *Recorder) Ops() []Op {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Op(nil), r.ops...)
}

func call(ctx context.Context, svc *lease.Service, in Input) (Output, error) {
	var (
		out Output
		l   lease.Lease
		err error
	)
	switch in.Kind {
	case KindAcquire:
		l, err = svc.Acquire(ctx, lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: in.Key, HolderID: in.Holder, TTLMs: in.TTLMs, Term: in.Term})
	case KindRefresh:
		l, err = svc.Refresh(ctx, lease.RefreshRequest{Principal: lease.Anonymous,
			DatabaseKey: in.Key, HolderID: in.Holder, Generation: in.Generation,
			TTLMs: in.TTLMs, CurrentTerm: in.CurrentTerm, Term: in.Term,
		})
	case KindRelease:
		l, err = svc.Release(ctx, lease.ReleaseRequest{Principal: lease.Anonymous, DatabaseKey: in.Key, HolderID: in.Holder, Generation: in.Generation})
	case KindGet:
		var snap lease.Snapshot
		snap, err = svc.Get(ctx, lease.Anonymous, in.Key)
		l = snap.Lease
		out.State, out.ExpiresInMs, out.ReadAtMs = snap.State, snap.ExpiresInMs, snap.ReadAtMs
	default:
		return out, fmt.Errorf("unknown kind %v", in.Kind)
	}
	if err == nil {
		out.Lease, out.HasLease = l, true
	}
	return out, err
}

// classify maps a Service error onto an Outcome and keeps its details.
func classify(out *Output, err error) {
	var (
		held  *lease.HeldError
		fence *lease.FencedError
		stale *lease.StaleError
	)
	switch {
	case err == nil:
		out.Outcome = OutcomeOK
		return
	case errors.As(err, &held):
		out.Outcome = OutcomeHeld
		out.Lease, out.HasLease = held.Current, true
		if ms := held.RetryAfter.Milliseconds(); ms > 0 {
			out.RetryAfterMs = uint64(ms)
		}
	case errors.As(err, &fence):
		out.Outcome = OutcomeFenced
		out.AttemptedTerm, out.CurrentTerm = fence.AttemptedTerm, fence.CurrentTerm
	case errors.As(err, &stale):
		out.Outcome = OutcomeStale
		if stale.Current != nil {
			out.Lease, out.HasLease = *stale.Current, true
		}
	case errors.Is(err, lease.ErrNotFound):
		out.Outcome = OutcomeNotFound
	case errors.Is(err, lease.ErrLostRace):
		out.Outcome = OutcomeLostRace
	case errors.Is(err, lease.ErrClockSkew):
		out.Outcome = OutcomeClockSkew
	case errors.Is(err, lease.ErrUnavailable):
		out.Outcome = OutcomeUnavailable
		out.Injected = errors.Is(err, faulty.ErrInjected)
	default:
		out.Outcome = OutcomeUnexpected
	}
	out.Err = err.Error()
}
