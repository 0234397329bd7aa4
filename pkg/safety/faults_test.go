package safety_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redlease/redlease/pkg/backend/faulty"
	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/safety"
)

const (
	faultKey = "clusters/dev/data.rdb"
	me       = "reddb-0"
	other    = "reddb-1"
)

// faultFixture is one store, one faulty wrapper, one cache-less service on a
// fake clock. Setup calls go through the same service with a Quiet context,
// so they are logged but never faulted.
type faultFixture struct {
	inner *memory.Store
	store *faulty.Store
	svc   *lease.Service
	clock *safety.Clock
	rec   *safety.Recorder
	sneak *lease.Service // the other writer of Sneak faults
}

func newFaultFixture(t *testing.T, rules ...faulty.Rule) *faultFixture {
	t.Helper()
	f := &faultFixture{inner: memory.New(memory.Options{}), clock: safety.NewClock(epoch)}
	f.store = faulty.New(f.inner, faulty.Options{Seed: 1, Rules: rules, Sneak: func(ctx context.Context, key string) {
		// Another writer takes the key over while our read is slow.
		f.rec.Do(ctx, 99, f.sneak, safety.Input{Kind: safety.KindAcquire, Key: key, Holder: other, TTLMs: 60000, Term: 1})
	}})
	f.svc = newService(t, f.store, f.clock.Now, -1)
	f.sneak = newService(t, f.store, f.clock.Now, -1)
	f.rec = safety.NewRecorder(safety.SeqStamp(), f.clock.Ms)
	return f
}

func (f *faultFixture) do(ctx context.Context, in safety.Input) safety.Op {
	return f.rec.Do(ctx, 0, f.svc, in)
}

func (f *faultFixture) quiet(t *testing.T, in safety.Input) lease.Lease {
	t.Helper()
	op := f.do(faulty.Quiet(context.Background()), in)
	if op.Output.Outcome != safety.OutcomeOK {
		t.Fatalf("setup %s", op)
	}
	return op.Output.Lease
}

func acquireIn(holder string, ttl uint64) safety.Input {
	return safety.Input{Kind: safety.KindAcquire, Key: faultKey, Holder: holder, TTLMs: ttl, Term: 1}
}

// setups put the key in a state before the faulted call and name the
// generation the caller holds (0: none).
var setups = map[string]func(t *testing.T, f *faultFixture) uint64{
	"empty": func(*testing.T, *faultFixture) uint64 { return 0 },
	"expired": func(t *testing.T, f *faultFixture) uint64 {
		f.quiet(t, acquireIn(other, 1000))
		f.clock.Advance(2 * time.Second)
		return 0
	},
	"mine": func(t *testing.T, f *faultFixture) uint64 {
		f.quiet(t, acquireIn(other, 1000))
		f.clock.Advance(2 * time.Second)
		return f.quiet(t, acquireIn(me, 10000)).Generation
	},
}

// TestFaultsKeepTheServiceSafe runs each operation under each fault and
// checks what the caller saw, what the store holds, that a fault-free retry
// converges, and the ground-truth invariants of every write.
func TestFaultsKeepTheServiceSafe(t *testing.T) {
	t.Parallel()
	type op struct {
		name  string
		setup string
		in    func(gen uint64) safety.Input
	}
	ops := []op{
		{"acquire-empty", "empty", func(uint64) safety.Input { return acquireIn(me, 5000) }},
		{"acquire-expired", "expired", func(uint64) safety.Input { return acquireIn(me, 5000) }},
		{"acquire-reacquire", "mine", func(uint64) safety.Input { return acquireIn(me, 5000) }},
		{"refresh", "mine", func(g uint64) safety.Input {
			return safety.Input{Kind: safety.KindRefresh, Key: faultKey, Holder: me, Generation: g, TTLMs: 20000}
		}},
		{"release", "mine", func(g uint64) safety.Input {
			return safety.Input{Kind: safety.KindRelease, Key: faultKey, Holder: me, Generation: g}
		}},
	}
	type fault struct {
		name    string
		rules   []faulty.Rule
		want    safety.Outcome
		applied bool
	}
	faults := []fault{
		{"none", nil, safety.OutcomeOK, true},
		{"load-fails", []faulty.Rule{{Op: faulty.OpLoad, Nth: 1, Kind: faulty.FailBefore}}, safety.OutcomeUnavailable, false},
		{"load-times-out", []faulty.Rule{{Op: faulty.OpLoad, Nth: 1, Kind: faulty.Timeout}}, safety.OutcomeUnavailable, false},
		{"load-throttled", []faulty.Rule{{Op: faulty.OpLoad, Nth: 1, Kind: faulty.Throttle}}, safety.OutcomeUnavailable, false},
		{"write-fails-before", []faulty.Rule{{Nth: 1, Kind: faulty.FailBefore, Op: faulty.OpReplace}, {Nth: 1, Kind: faulty.FailBefore, Op: faulty.OpCreate}}, safety.OutcomeUnavailable, false},
		{"write-fails-after", []faulty.Rule{{Nth: 1, Kind: faulty.FailAfter}}, safety.OutcomeUnavailable, true},
		{"write-times-out", []faulty.Rule{{Nth: 1, Kind: faulty.Timeout, Op: faulty.OpReplace}, {Nth: 1, Kind: faulty.Timeout, Op: faulty.OpCreate}}, safety.OutcomeUnavailable, false},
		{"write-times-out-after", []faulty.Rule{{Nth: 1, Kind: faulty.TimeoutAfter}}, safety.OutcomeUnavailable, true},
		{"write-throttled", []faulty.Rule{{Nth: 1, Kind: faulty.Throttle, Op: faulty.OpReplace}, {Nth: 1, Kind: faulty.Throttle, Op: faulty.OpCreate}}, safety.OutcomeUnavailable, false},
		{"spurious-conflict-once", []faulty.Rule{{Nth: 1, Kind: faulty.Conflict}}, safety.OutcomeOK, true},
		{"spurious-conflict-always", []faulty.Rule{{Rate: 1, Limit: 5, Kind: faulty.Conflict}}, safety.OutcomeLostRace, false},
	}
	for _, o := range ops {
		for _, fl := range faults {
			t.Run(o.name+"/"+fl.name, func(t *testing.T) {
				t.Parallel()
				f := newFaultFixture(t, fl.rules...)
				gen := setups[o.setup](t, f)
				in := o.in(gen)
				before, _ := f.inner.Raw(faultKey)
				got := f.do(context.Background(), in)
				after, _ := f.inner.Raw(faultKey)
				if got.Output.Outcome != fl.want {
					t.Fatalf("%s: got %s (%s), want %s", fl.name, got.Output.Outcome, got.Output.Err, fl.want)
				}
				changed := !bytes.Equal(before, after)
				if changed != fl.applied {
					t.Fatalf("store changed = %v, want %v\nbefore %s\nafter  %s", changed, fl.applied, before, after)
				}
				if got.Output.Outcome == safety.OutcomeOK {
					requireStored(t, f, got.Output.Lease)
				}
				retryConverges(t, f, got, changed)
				for _, err := range safety.CheckWriteLog(f.store.Writes(), true) {
					t.Error(err)
				}
				for _, err := range safety.CheckInvariants(f.rec.Ops(), safety.InvariantOptions{SharedClock: true}) {
					t.Error(err)
				}
				for _, err := range safety.CheckAnswersStored(f.rec.Ops(), f.store.Writes()) {
					t.Error(err)
				}
				safety.CheckLinearizable(t, f.rec.Ops(), safety.LinOptions{ClockValues: f.clock.Values(), Name: t.Name()})
			})
		}
	}
}

// requireStored: a success answers exactly what the store holds.
func requireStored(t *testing.T, f *faultFixture, l lease.Lease) {
	t.Helper()
	v, err := f.inner.Load(context.Background(), faultKey)
	if err != nil || v.Record.Lease != l {
		t.Fatalf("caller was told %+v, store holds %+v (%v)", l, v.Record.Lease, err)
	}
}

// retryConverges sends the same request again without faults (the rules
// fired already) and checks the result against what the first try did.
func retryConverges(t *testing.T, f *faultFixture, first safety.Op, applied bool) {
	t.Helper()
	f.clock.Advance(time.Millisecond)
	stored, _ := f.inner.Load(context.Background(), faultKey)
	retry := f.do(context.Background(), first.Input)
	if retry.Output.Outcome != safety.OutcomeOK {
		t.Fatalf("retry after %s: %s", first.Output.Outcome, retry)
	}
	l := retry.Output.Lease
	requireStored(t, f, l)
	switch first.Input.Kind {
	case safety.KindAcquire:
		if applied && first.Output.Outcome != safety.OutcomeOK {
			// The lost first acquire handed out stored.Generation; the
			// retry supersedes it and that generation is refused as stale.
			if l.Generation != stored.Record.Generation+1 {
				t.Fatalf("retry got generation %d, want %d", l.Generation, stored.Record.Generation+1)
			}
			ref := f.do(context.Background(), safety.Input{Kind: safety.KindRefresh, Key: faultKey,
				Holder: me, Generation: stored.Record.Generation, TTLMs: 1000})
			if ref.Output.Outcome != safety.OutcomeStale {
				t.Fatalf("the earlier generation of the same holder is still live: %s", ref)
			}
		}
	case safety.KindRelease:
		if !l.Released() || l.Generation != first.Input.Generation {
			t.Fatalf("retried release returned %+v, want the released generation %d", l, first.Input.Generation)
		}
		if applied && l != stored.Record.Lease {
			t.Fatalf("retried release returned %+v, want the record the lost release stored, %+v", l, stored.Record.Lease)
		}
	case safety.KindRefresh:
		if l.Generation != first.Input.Generation || l.ExpiresAtMs != f.clock.Ms()+first.Input.TTLMs {
			t.Fatalf("retried refresh returned %+v", l)
		}
	}
}

// TestSneakingWriterWinsTheRace: another writer takes the key over between
// our read and our conditional write. The caller must see the other
// holder's lease (held), never a success.
func TestSneakingWriterWinsTheRace(t *testing.T) {
	t.Parallel()
	for _, setup := range []string{"empty", "expired"} {
		t.Run(setup, func(t *testing.T) {
			t.Parallel()
			f := newFaultFixture(t, faulty.Rule{Op: faulty.OpLoad, Nth: 1, Kind: faulty.Sneak})
			setups[setup](t, f)
			got := f.do(context.Background(), acquireIn(me, 5000))
			if got.Output.Outcome != safety.OutcomeHeld || got.Output.Lease.HolderID != other {
				t.Fatalf("got %s, want held by %s", got, other)
			}
			if f.store.Fired()[faulty.Sneak] != 1 {
				t.Fatal("the sneak did not run")
			}
			requireHistorySafe(t, f)
		})
	}
}

// TestConflictAfterApplySkipsAGeneration documents what a backend whose
// SDK resends a conditional write after a lost response does to an
// acquire: the resend finds the first write and fails its condition, the
// Service re-reads, sees its own holder and acquires again. Safety holds
// (one record, tokens grow, the caller's generation is the live one), but
// generation N+1 was handed to nobody: a fencing-token gap, and the
// history is not linearizable against the +1 rule. Refresh and release
// absorb the resend (the re-read shows their own effect).
func TestConflictAfterApplySkipsAGeneration(t *testing.T) {
	t.Parallel()
	f := newFaultFixture(t, faulty.Rule{Nth: 1, Kind: faulty.ConflictAfter})
	got := f.do(context.Background(), acquireIn(me, 5000))
	if got.Output.Outcome != safety.OutcomeOK {
		t.Fatalf("got %s", got)
	}
	if got.Output.Lease.Generation != 2 {
		t.Fatalf("got generation %d; the resent create should have made it skip to 2", got.Output.Lease.Generation)
	}
	requireStored(t, f, got.Output.Lease)
	for _, err := range safety.CheckWriteLog(f.store.Writes(), true) {
		t.Error(err)
	}
	for _, err := range safety.CheckInvariants(f.rec.Ops(), safety.InvariantOptions{SharedClock: true}) {
		t.Error(err)
	}
	for _, kind := range []safety.Kind{safety.KindRefresh, safety.KindRelease} {
		f2 := newFaultFixture(t)
		gen := setups["mine"](t, f2)
		f2.store = faulty.New(f2.inner, faulty.Options{Rules: []faulty.Rule{{Nth: 1, Kind: faulty.ConflictAfter}}})
		f2.svc = newService(t, f2.store, f2.clock.Now, -1)
		in := safety.Input{Kind: kind, Key: faultKey, Holder: me, Generation: gen, TTLMs: 7000}
		if kind == safety.KindRelease {
			in.TTLMs = 0
		}
		op := f2.do(context.Background(), in)
		if op.Output.Outcome != safety.OutcomeOK || op.Output.Lease.Generation != gen {
			t.Fatalf("%s under a resent write: %s", kind, op)
		}
		requireStored(t, f2, op.Output.Lease)
	}
}

func requireHistorySafe(t *testing.T, f *faultFixture) {
	t.Helper()
	for _, err := range safety.CheckWriteLog(f.store.Writes(), true) {
		t.Error(err)
	}
	ops := f.rec.Ops()
	for _, err := range safety.CheckInvariants(ops, safety.InvariantOptions{SharedClock: true}) {
		t.Error(err)
	}
	for _, err := range safety.CheckAnswersStored(ops, f.store.Writes()) {
		t.Error(err)
	}
	safety.CheckLinearizable(t, ops, safety.LinOptions{ClockValues: f.clock.Values(), Name: t.Name()})
}

// TestThrottleKeepsItsRetryHint: the caller of a throttled call gets the
// backend's retry hint.
func TestThrottleKeepsItsRetryHint(t *testing.T) {
	t.Parallel()
	f := newFaultFixture(t, faulty.Rule{Op: faulty.OpCreate, Nth: 1, Kind: faulty.Throttle})
	_, err := f.svc.Acquire(context.Background(), lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: faultKey, HolderID: me, TTLMs: 5000, Term: 1})
	var ue *lease.UnavailableError
	if !errors.As(err, &ue) || ue.RetryAfter != 250*time.Millisecond {
		t.Fatalf("got %v, want ErrUnavailable with the 250ms hint", err)
	}
	if !errors.Is(err, lease.ErrUnavailable) {
		t.Fatal(fmt.Sprint("not ErrUnavailable: ", err))
	}
}

// TestAmbiguousRefreshCountsForTheGuarantee pins down why the time
// guarantee runs from the latest request a holder sent, failed or not: a
// refresh sets expires_at = now + ttl, so a refresh with a shorter ttl that
// failed with ErrUnavailable but was applied shortens the lease below what
// the holder's last successful call promised, and another holder may
// legitimately take over before that promise ran out.
func TestAmbiguousRefreshCountsForTheGuarantee(t *testing.T) {
	t.Parallel()
	f := newFaultFixture(t, faulty.Rule{Op: faulty.OpReplace, Nth: 1, Kind: faulty.FailAfter})
	long := f.quiet(t, acquireIn(me, 10000)) // promised until t+10s
	f.clock.Advance(time.Second)
	short := f.do(context.Background(), safety.Input{Kind: safety.KindRefresh, Key: faultKey, Holder: me, Generation: long.Generation, TTLMs: 1000})
	if short.Output.Outcome != safety.OutcomeUnavailable {
		t.Fatalf("got %s, want the injected ErrUnavailable", short)
	}
	f.clock.Advance(time.Second) // t+2s: well before t+10s
	taken := f.do(context.Background(), acquireIn(other, 5000))
	if taken.Output.Outcome != safety.OutcomeOK {
		t.Fatalf("got %s; the applied short refresh should have let %s in", taken, other)
	}
	if taken.Output.Lease.AcquiredAtMs >= long.ExpiresAtMs {
		t.Fatal("unreachable")
	}
	requireHistorySafe(t, f) // linearizable, and the invariants agree
}
