package safety_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/safety"
)

// TestLinearizableMemory: 8 clients over three Service instances (two with
// the per-instance version cache, one without) share one memory store and
// one fake clock that a controller advances while they run.
func TestLinearizableMemory(t *testing.T) {
	t.Parallel()
	histories := envInt(t, "REDLEASE_LIN_HISTORIES", 3, 1)
	opsPerClient := envInt(t, "REDLEASE_LIN_OPS", 400, 100)
	base := seed(t)
	total := 0
	for h := range histories {
		store := memory.New(memory.Options{})
		clock := safety.NewClock(epoch)
		svcs := []*lease.Service{
			newService(t, store, clock.Now, 0),
			newService(t, store, clock.Now, 0),
			newService(t, store, clock.Now, -1),
		}
		ops := runShared(t, clock, svcs, base+uint64(h), 8, opsPerClient)
		total += len(ops)
		requireSafe(t, fmt.Sprintf("memory-%d", h), ops,
			safety.LinOptions{ClockValues: clock.Values()}, safety.InvariantOptions{SharedClock: true})
	}
	t.Logf("memory: %d histories, %d ops checked", histories, total)
}

// runShared runs a workload against services that share clock, with a
// Stepper advancing it.
func runShared(t *testing.T, clock *safety.Clock, svcs []*lease.Service, seed uint64, clients, perClient int) []safety.Op {
	t.Helper()
	ctx, cancel := context.WithCancel(background(t))
	stepper := &safety.Stepper{Clock: clock, Steps: clockSteps, MaxCalls: 2 * clients, Seed: seed}
	after, wait := stepper.Start(ctx)
	ops := safety.Workload{
		Clients: clients, OpsPerClient: perClient, Keys: testKeys, Holders: testHolders,
		TTLs: tickTTLs, Seed: seed, Services: svcs, AfterCall: after,
		Recorder: safety.NewRecorder(safety.SeqStamp(), clock.Ms),
	}.Run(ctx)
	cancel()
	wait()
	return ops
}
