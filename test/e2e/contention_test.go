//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/redlease/redlease/pkg/client"
	"github.com/redlease/redlease/pkg/lease"
)

// contention sends n concurrent acquires of one key through API Gateway per
// round: exactly one may win, every other must be refused as held (or, after
// the client's retries, lost_race), and each round's winner holds the
// previous winner's generation + 1. The winner releases to open the next
// round.
func contention(ctx context.Context, t *testing.T, d *deployment, creds aws.CredentialsProvider, n, rounds int) {
	c := d.newClient(t, creds)
	key := d.key("contention")
	var prev uint64
	for round := 1; round <= rounds; round++ {
		grants := make([]client.Grant, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				grants[i], errs[i] = c.Acquire(ctx, client.AcquireRequest{
					DatabaseKey: key, HolderID: fmt.Sprintf("racer-%d-%d", round, i), TTL: 30 * time.Second,
				})
			})
		}
		close(start)
		wg.Wait()

		var winners []client.Grant
		for i, err := range errs {
			switch {
			case err == nil:
				winners = append(winners, grants[i])
			case errors.Is(err, lease.ErrHeld), errors.Is(err, lease.ErrLostRace):
			default:
				t.Fatalf("round %d: racer %d: %v", round, i, err)
			}
		}
		if len(winners) != 1 {
			t.Fatalf("round %d: %d winners of %d racers: %+v", round, len(winners), n, winners)
		}
		w := winners[0].Lease
		if w.Generation != prev+1 {
			t.Fatalf("round %d: winner has generation %d, want %d", round, w.Generation, prev+1)
		}
		prev = w.Generation
		if _, err := c.Release(ctx, client.ReleaseRequest{DatabaseKey: key, HolderID: w.HolderID, Generation: w.Generation}); err != nil {
			t.Fatalf("round %d: release: %v", round, err)
		}
	}
	t.Logf("%s: %d rounds of %d concurrent acquires, one winner each, generations 1..%d", d.scope, rounds, n, prev)
}
