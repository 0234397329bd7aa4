package safety_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/redlease/redlease/pkg/backend/faulty"
	"github.com/redlease/redlease/pkg/backend/file"
	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/safety"
)

// randomFaults injects every fault the Service must survive at a few
// percent of calls. ConflictAfter is left out on purpose: it makes an
// acquire skip a generation, which is safe but not linearizable against
// the +1 rule (TestConflictAfterApplySkipsAGeneration).
func randomFaults(rate float64) []faulty.Rule {
	kinds := []faulty.Kind{faulty.FailBefore, faulty.FailAfter, faulty.Timeout, faulty.TimeoutAfter,
		faulty.Throttle, faulty.Conflict, faulty.Sneak}
	rules := make([]faulty.Rule, len(kinds))
	for i, k := range kinds {
		rules[i] = faulty.Rule{Rate: rate, Kind: k}
	}
	return rules
}

// TestLinearizableUnderFaults: like TestLinearizableMemory, with random
// faults on every store call and, on some reads, another writer sneaking in
// between a read and its write (its calls are part of the history). Writes
// that failed with ErrUnavailable are "maybe applied". On top of porcupine
// and the history invariants, the store's own write log is checked, and
// every success is checked to answer a record that was really stored.
func TestLinearizableUnderFaults(t *testing.T) {
	t.Parallel()
	histories := envInt(t, "REDLEASE_LIN_HISTORIES", 3, 1)
	opsPerClient := envInt(t, "REDLEASE_LIN_OPS", 400, 100)
	base := seed(t)
	total, fired := 0, map[faulty.Kind]int{}
	for h := range histories + 1 {
		// The last history runs on the file backend, in this process.
		var inner lease.ListingStore = memory.New(memory.Options{})
		backend := "memory"
		if h == histories {
			fs, err := file.Open(file.Options{Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			inner, backend = fs, "file"
		}
		const clients = 8
		s := base + 1000 + uint64(h)
		clock := safety.NewClock(epoch)
		rec := safety.NewRecorder(safety.SeqStamp(), clock.Ms)
		var (
			store    *faulty.Store
			sneakSvc *lease.Service
			sneaks   atomic.Uint64
		)
		store = faulty.New(inner, faulty.Options{
			Seed: s, Rules: randomFaults(0.02), Yield: 0.3,
			Sneak: func(ctx context.Context, key string) {
				n := sneaks.Add(1)
				in := safety.Input{Kind: safety.KindAcquire, Key: key, Holder: testHolders[n%uint64(len(testHolders))],
					TTLMs: tickTTLs[n%uint64(len(tickTTLs))], Term: 1 + n%2}
				if n%3 == 0 {
					in = safety.Input{Kind: safety.KindGet, Key: key}
				}
				rec.Do(ctx, clients, sneakSvc, in)
			},
		})
		sneakSvc = newService(t, store, clock.Now, -1)
		svcs := []*lease.Service{
			newService(t, store, clock.Now, 0),
			newService(t, store, clock.Now, 0),
			newService(t, store, clock.Now, -1),
		}
		ctx, cancel := context.WithCancel(background(t))
		stepper := &safety.Stepper{Clock: clock, Steps: clockSteps, MaxCalls: 2 * clients, Seed: s}
		after, wait := stepper.Start(ctx)
		ops := safety.Workload{
			Clients: clients, OpsPerClient: opsPerClient, Keys: testKeys, Holders: testHolders,
			TTLs: tickTTLs, Seed: s, Services: svcs, AfterCall: after, Recorder: rec,
		}.Run(ctx)
		cancel()
		wait()
		name := fmt.Sprintf("faults-%s-%d", backend, h)
		requireSafe(t, name, ops, safety.LinOptions{ClockValues: clock.Values()}, safety.InvariantOptions{SharedClock: true})
		for _, err := range safety.CheckWriteLog(store.Writes(), true) {
			t.Errorf("%s: %v", name, err)
		}
		for _, err := range safety.CheckAnswersStored(ops, store.Writes()) {
			t.Errorf("%s: %v", name, err)
		}
		for k, n := range store.Fired() {
			fired[k] += n
		}
		total += len(ops)
	}
	t.Logf("faults: %d histories (the last on the file backend), %d ops checked, faults injected %v", histories+1, total, fired)
	for _, k := range []faulty.Kind{faulty.FailAfter, faulty.TimeoutAfter, faulty.Conflict, faulty.Sneak} {
		if fired[k] == 0 {
			t.Errorf("no %s fault was injected; the run proved nothing about it", k)
		}
	}
}
