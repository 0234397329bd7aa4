//go:build integration

package integration

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redlease/redlease/internal/testclock"
	"github.com/redlease/redlease/pkg/lease"
)

// TestIntegrationServiceEndToEnd walks one key through the contract's
// rules on each real backend: acquire, held, takeover after expiry, term
// fence, refresh, release, idempotent release, generation never reset.
func TestIntegrationServiceEndToEnd(t *testing.T) {
	skipUnlessEmulators(t)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			store := newStore(t, b.config())
			clk := testclock.New(testclock.Epoch)
			// Two instances, as two Lambda containers would be.
			a, _ := lease.New(lease.Config{Store: store, Now: clk.Now})
			other, _ := lease.New(lease.Config{Store: store, Now: clk.Now})
			ctx := context.Background()
			key := uniqueKey("clusters/dev/data.rdb")

			first, err := a.Acquire(ctx, lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: key, HolderID: "reddb-0", TTLMs: 10_000, Term: 1})
			if err != nil || first.Generation != 1 {
				t.Fatalf("first acquire = %+v, %v; want generation 1", first, err)
			}
			_, err = other.Acquire(ctx, lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: key, HolderID: "reddb-1", TTLMs: 10_000, Term: 1})
			var held *lease.HeldError
			if !errors.As(err, &held) || held.Current.HolderID != "reddb-0" {
				t.Fatalf("second holder: got %v, want held by reddb-0", err)
			}

			clk.Advance(5 * time.Second)
			refreshed, err := a.Refresh(ctx, lease.RefreshRequest{Principal: lease.Anonymous, DatabaseKey: key, HolderID: "reddb-0", Generation: 1, TTLMs: 10_000})
			if err != nil || refreshed.ExpiresAtMs != first.ExpiresAtMs+5000 || refreshed.AcquiredAtMs != first.AcquiredAtMs {
				t.Fatalf("refresh = %+v, %v; want expiry moved by 5 s, acquire time kept", refreshed, err)
			}

			clk.Advance(10 * time.Second) // expired
			taken, err := other.Acquire(ctx, lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: key, HolderID: "reddb-1", TTLMs: 10_000, Term: 2})
			if err != nil || taken.Generation != 2 || taken.Term != 2 {
				t.Fatalf("takeover = %+v, %v; want term 2 generation 2", taken, err)
			}
			// The old holder's warm cache is stale: its refresh must see it.
			if _, err := a.Refresh(ctx, lease.RefreshRequest{Principal: lease.Anonymous, DatabaseKey: key, HolderID: "reddb-0", Generation: 1, TTLMs: 10_000}); !errors.Is(err, lease.ErrStale) {
				t.Fatalf("deposed refresh: got %v, want stale", err)
			}
			clk.Advance(time.Hour)
			var fenced *lease.FencedError
			if _, err := a.Acquire(ctx, lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: key, HolderID: "reddb-0", TTLMs: 10_000, Term: 1}); !errors.As(err, &fenced) || fenced.CurrentTerm != 2 {
				t.Fatalf("term-1 acquire over an expired term-2 lease: got %v, want fenced by 2", err)
			}

			again, err := other.Acquire(ctx, lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: key, HolderID: "reddb-1", TTLMs: 10_000, Term: 2})
			if err != nil || again.Generation != 3 {
				t.Fatalf("re-acquire = %+v, %v; want generation 3", again, err)
			}
			released, err := other.Release(ctx, lease.ReleaseRequest{Principal: lease.Anonymous, DatabaseKey: key, HolderID: "reddb-1", Generation: 3})
			if err != nil || !released.Released() {
				t.Fatalf("release = %+v, %v", released, err)
			}
			twice, err := a.Release(ctx, lease.ReleaseRequest{Principal: lease.Anonymous, DatabaseKey: key, HolderID: "reddb-1", Generation: 3})
			if err != nil || twice != released {
				t.Fatalf("second release = %+v, %v; want the same record %+v", twice, err, released)
			}
			snap, err := a.Get(ctx, lease.Anonymous, key)
			if err != nil || snap.State != lease.StateReleased {
				t.Fatalf("get after release = %+v, %v", snap, err)
			}
			next, err := a.Acquire(ctx, lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: key, HolderID: "reddb-0", TTLMs: 10_000, Term: 2})
			if err != nil || next.Generation != 4 {
				t.Fatalf("acquire after release = %+v, %v; want generation 4: never reset", next, err)
			}
		})
	}
}

// TestIntegrationContention races 32 clients, each with its own service
// instance, for one key over 50 rounds. Each round the previous lease has
// expired; exactly one client may win, the winner's generation is the
// previous one + 1, and every loser sees held or lost_race, nothing else.
// moto alone does not serialise conditional writes (it checks, then writes,
// without a lock); the harness runs it one request at a time so that it
// keeps DynamoDB's own guarantee, and the assertion stays that strict.
func TestIntegrationContention(t *testing.T) {
	skipUnlessEmulators(t)
	const clients, rounds = 32, 50
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			store := newStore(t, b.config())
			clk := testclock.New(testclock.Epoch)
			services := make([]*lease.Service, clients)
			for i := range services {
				services[i], _ = lease.New(lease.Config{Store: store, Now: clk.Now})
			}
			key := uniqueKey("contended")
			var lastGeneration uint64
			outcomes := map[string]int{}
			for round := range rounds {
				clk.Advance(2 * time.Second) // past the 1 s TTL of the last winner
				var (
					wg      sync.WaitGroup
					mu      sync.Mutex
					winners []lease.Lease
				)
				for i, svc := range services {
					wg.Go(func() {
						l, err := svc.Acquire(context.Background(), lease.AcquireRequest{Principal: lease.Anonymous,
							DatabaseKey: key, HolderID: fmt.Sprintf("client-%d", i), TTLMs: 1000, Term: 1,
						})
						mu.Lock()
						defer mu.Unlock()
						switch {
						case err == nil:
							winners = append(winners, l)
							outcomes["ok"]++
						case errors.Is(err, lease.ErrHeld):
							outcomes["held"]++
						case errors.Is(err, lease.ErrLostRace):
							outcomes["lost_race"]++
						default:
							t.Errorf("round %d client %d: %v, want success, held or lost_race", round, i, err)
						}
					})
				}
				wg.Wait()
				if len(winners) != 1 {
					t.Fatalf("round %d: %d winners %+v, want exactly 1", round, len(winners), winners)
				}
				if w := winners[0]; w.Generation != lastGeneration+1 {
					t.Fatalf("round %d: winner generation %d after %d; want strictly +1", round, w.Generation, lastGeneration)
				}
				lastGeneration = winners[0].Generation
				snap, err := services[0].Get(context.Background(), lease.Anonymous, key)
				if err != nil || snap.Lease != winners[0] {
					t.Fatalf("round %d: store holds %+v (%v), want the winner %+v", round, snap.Lease, err, winners[0])
				}
			}
			t.Logf("%s: %d rounds x %d clients: %v", b.name, rounds, clients, outcomes)
		})
	}
}
