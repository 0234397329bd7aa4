package backendtest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/redlease/redlease/internal/testclock"
	"github.com/redlease/redlease/pkg/lease"
)

// Counter reports the storage requests made since its last call, so a
// benchmark can show requests per lease operation next to ns/op.
type Counter struct {
	Take      func() (reads, writes int)
	ReadName  string // e.g. "GetObject"
	WriteName string // e.g. "PutObject"
}

// BenchmarkService measures acquire, refresh, release and get through
// lease.Service on store. The Service's clock is simulated (each acquire
// jumps past the TTL so that a takeover is always allowed); the storage
// round trips are real.
//
// cold = a fresh Service (a new Lambda instance, nothing cached);
// warm = the Service that wrote the key last (its cached version is current).
func BenchmarkService(b *testing.B, store lease.Store, c Counter) {
	ctx := context.Background()
	clock := testclock.New(testclock.Epoch)
	newService := func() *lease.Service { return newService(b, store, clock) }
	const ttl, keys = 60000, 64
	key := func(op string, i int) string { return fmt.Sprintf("bench/%s/%d", op, i%keys) }
	acquire := func(svc *lease.Service, k string) lease.Lease {
		clock.Advance(2 * ttl * time.Millisecond)
		l, err := svc.Acquire(ctx, lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: k, HolderID: "bench", TTLMs: ttl, Term: 1})
		if err != nil {
			b.Fatal(err)
		}
		return l
	}
	// report adds requests per operation and the median latency, which
	// ns/op (a mean) hides when an emulator stalls now and then.
	report := func(b *testing.B, reads, writes int, took []time.Duration) {
		b.ReportMetric(float64(reads)/float64(b.N), c.ReadName+"/op")
		b.ReportMetric(float64(writes)/float64(b.N), c.WriteName+"/op")
		slices.Sort(took)
		b.ReportMetric(float64(took[len(took)/2])/float64(time.Millisecond), "p50-ms")
	}
	run := func(name string, setup func(), op func(i int)) {
		b.Run(name, func(b *testing.B) {
			if setup != nil {
				setup()
			}
			c.Take()
			took := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				start := time.Now()
				op(i)
				took = append(took, time.Since(start))
			}
			b.StopTimer()
			reads, writes := c.Take()
			report(b, reads, writes, took)
		})
	}

	warm := newService()
	run("acquire/cold", nil, func(i int) { acquire(newService(), key("acquire", i)) })
	run("acquire/warm", func() {
		for i := range keys {
			acquire(warm, key("acquire", i)) // fill the cache
		}
	}, func(i int) { acquire(warm, key("acquire", i)) })
	var held lease.Lease
	refresh := func(svc *lease.Service) {
		if _, err := svc.Refresh(ctx, lease.RefreshRequest{Principal: lease.Anonymous, DatabaseKey: held.DatabaseKey, HolderID: "bench", Generation: held.Generation, TTLMs: ttl}); err != nil {
			b.Fatal(err)
		}
	}
	run("refresh/warm", func() { held = acquire(warm, "bench/refresh") }, func(int) { refresh(warm) })
	run("refresh/cold", nil, func(int) { refresh(newService()) })
	b.Run("release/warm", func(b *testing.B) {
		var reads, writes int
		took := make([]time.Duration, 0, b.N)
		for i := range b.N {
			b.StopTimer()
			l := acquire(warm, key("release", i))
			c.Take()
			b.StartTimer()
			start := time.Now()
			if _, err := warm.Release(ctx, lease.ReleaseRequest{Principal: lease.Anonymous, DatabaseKey: l.DatabaseKey, HolderID: "bench", Generation: l.Generation}); err != nil {
				b.Fatal(err)
			}
			took = append(took, time.Since(start))
			r, w := c.Take()
			reads, writes = reads+r, writes+w
		}
		report(b, reads, writes, took)
	})
	run("get", nil, func(int) {
		if _, err := warm.Get(ctx, lease.Anonymous, held.DatabaseKey); err != nil {
			b.Fatal(err)
		}
	})
}
