//go:build e2e

package e2e

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/redlease/redlease/pkg/client"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/sweep"
)

// Contention size per storage variant (through API Gateway, so each acquire
// is a Lambda invocation).
const (
	racers = 16
	rounds = 20
)

// TestDeployedStack deploys both storage variants on both emulators, in
// parallel, and runs each deployment's checks.
func TestDeployedStack(t *testing.T) {
	skipUnlessHarness(t)
	for _, emu := range allEmulators(t) {
		for _, storage := range []string{"s3", "dynamodb"} {
			t.Run(emu.name+"/"+storage, func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
				defer cancel()
				d := deploy(ctx, t, emu, storage)
				if emu.iam {
					iamChecks(ctx, t, d)
				} else {
					plainChecks(ctx, t, d)
				}
			})
		}
	}
}

// plainChecks: every public face on the emulator without IAM enforcement
// (any well-formed signature is accepted there).
func plainChecks(ctx context.Context, t *testing.T, d *deployment) {
	in := d.subscribe(ctx, t)
	invokedSweep(ctx, t, d, in, rootCredentials)

	// From here on nothing invokes the sweep but the stack's schedule, so
	// the event for this key can only come from it. The other checks run
	// while the schedule's minute passes.
	c := d.newClient(t, rootCredentials)
	scheduled := d.key("swept-by-schedule")
	g, err := c.Acquire(ctx, client.AcquireRequest{DatabaseKey: scheduled, HolderID: "reddb-sched", TTL: time.Second})
	if err != nil {
		t.Fatalf("acquire %s: %v", scheduled, err)
	}

	run(t, d, "go client", func() { goClientSession(ctx, t, d, rootCredentials) })
	run(t, d, "cli", func() { cliSession(ctx, t, d, "test", "test") })
	run(t, d, "curl --aws-sigv4", func() { curlSession(ctx, t, d, &signer{"test", "test"}) })
	run(t, d, "keys with %", func() { encodedKeySession(ctx, t, d, rootCredentials) })
	run(t, d, "contention", func() { contention(ctx, t, d, rootCredentials, racers, rounds) })
	run(t, d, "reddb (function url)", func() { reddbSession(ctx, t, d, rootCredentials) })
	run(t, d, "sweep (schedule)", func() {
		// rate(1 minute) counts from the rule's creation during the deploy.
		wctx, cancel := context.WithTimeout(ctx, 150*time.Second)
		defer cancel()
		ev := in.wait(wctx, t, scheduled)
		checkEvent(t, ev, g.Lease)
	})
}

// invokedSweep: an expired lease, the sweep invoked with the schedule's
// event, and its "Lease Expired" event received from the stack's bus. If
// the schedule's own tick happens to report the lease first (the summary
// then shows nothing reported), it tries again with a new key.
func invokedSweep(ctx context.Context, t *testing.T, d *deployment, in *inbox, creds aws.CredentialsProvider) {
	defer phases.start(t, d.scope, "sweep (invoked)")()
	c := d.newClient(t, creds)
	for attempt := 1; ; attempt++ {
		key := d.key("swept-by-invoke-" + string(rune('0'+attempt)))
		g, err := c.Acquire(ctx, client.AcquireRequest{DatabaseKey: key, HolderID: "reddb-swept", TTL: time.Second})
		if err != nil {
			t.Fatalf("acquire %s: %v", key, err)
		}
		waitState(ctx, t, c, key, lease.StateExpired)
		res := d.invokeSweep(ctx, t)
		if res.Reported == 0 && attempt < 3 {
			t.Logf("sweep reported nothing (%+v): the schedule was first; again", res)
			continue
		}
		if res.Reported < 1 || res.Failed != 0 || res.Unreadable != 0 {
			t.Fatalf("sweep summary %+v, want the expired lease reported, nothing failed", res)
		}
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		checkEvent(t, in.wait(wctx, t, key), g.Lease)
		// The marker that keeps the next run from reporting it again.
		if fields := d.storedFields(ctx, t, key); !slices.Contains(fields, "expiry_reported_ms") {
			t.Errorf("stored %s after the sweep has %v, want expiry_reported_ms", key, fields)
		}
		return
	}
}

func checkEvent(t *testing.T, ev sweep.ExpiredEvent, l lease.Lease) {
	t.Helper()
	if ev.HolderID != l.HolderID || ev.Term != l.Term || ev.Generation != l.Generation ||
		ev.AcquiredAtMs != l.AcquiredAtMs || ev.ExpiresAtMs != l.ExpiresAtMs || ev.EventID == "" || ev.ExpiredAt == "" {
		t.Errorf("Lease Expired event %+v does not describe %+v", ev, l)
	}
}

// waitState polls the read route until key is in state (an outcome, so no
// fixed sleep decides the test).
func waitState(ctx context.Context, t *testing.T, c *client.Client, key string, want lease.State) {
	t.Helper()
	for {
		snap, err := c.Get(ctx, key)
		if err == nil && snap.State == want {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s never became %s (last: %+v, %v)", key, want, snap, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// run is one timed phase; a failed phase stops the deployment's checks.
func run(t *testing.T, d *deployment, name string, f func()) {
	t.Helper()
	defer phases.start(t, d.scope, name)()
	f()
}
