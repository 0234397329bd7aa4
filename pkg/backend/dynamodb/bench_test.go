package dynamodb

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redlease/redlease/pkg/lease"
)

// benchServiceOps measures the lease operations through lease.Service on a
// store over api, and reports DynamoDB requests per operation next to ns/op. The
// Service's clock is simulated (each acquire jumps past the TTL so that a
// takeover is always allowed); the storage round trips are real.
//
// cold = a fresh Service (a new Lambda instance, nothing cached);
// warm = the Service that wrote the key last (its cached version is current).
func benchServiceOps(b *testing.B, api API, table string) {
	ctx := context.Background()
	counter := newCountingAPI(api)
	store, err := New(counter, table, Options{})
	if err != nil {
		b.Fatal(err)
	}
	now := time.UnixMilli(1767225600000)
	clock := func() time.Time { return now }
	newService := func() *lease.Service {
		svc, err := lease.New(lease.Config{Store: store, Now: clock})
		if err != nil {
			b.Fatal(err)
		}
		return svc
	}
	const ttl, keys = 60000, 64
	key := func(op string, i int) string { return fmt.Sprintf("bench/%s/%d", op, i%keys) }
	acquire := func(svc *lease.Service, k string) lease.Lease {
		now = now.Add(2 * ttl * time.Millisecond)
		l, err := svc.Acquire(ctx, lease.AcquireRequest{DatabaseKey: k, HolderID: "bench", TTLMs: ttl, Term: 1})
		if err != nil {
			b.Fatal(err)
		}
		return l
	}
	report := func(b *testing.B) {
		gets, puts, _ := counter.take()
		b.ReportMetric(float64(gets)/float64(b.N), "GetItem/op")
		b.ReportMetric(float64(puts)/float64(b.N), "PutItem/op")
	}
	run := func(name string, setup func(), op func(i int)) {
		b.Run(name, func(b *testing.B) {
			if setup != nil {
				setup()
			}
			counter.take()
			b.ResetTimer()
			for i := range b.N {
				op(i)
			}
			b.StopTimer()
			report(b)
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
	run("refresh/warm", func() { held = acquire(warm, "bench/refresh") }, func(int) {
		if _, err := warm.Refresh(ctx, lease.RefreshRequest{DatabaseKey: held.DatabaseKey, HolderID: "bench", Generation: held.Generation, TTLMs: ttl}); err != nil {
			b.Fatal(err)
		}
	})
	run("refresh/cold", nil, func(int) {
		if _, err := newService().Refresh(ctx, lease.RefreshRequest{DatabaseKey: held.DatabaseKey, HolderID: "bench", Generation: held.Generation, TTLMs: ttl}); err != nil {
			b.Fatal(err)
		}
	})
	b.Run("release/warm", func(b *testing.B) {
		var gets, puts int
		for i := range b.N {
			b.StopTimer()
			l := acquire(warm, key("release", i))
			counter.take()
			b.StartTimer()
			if _, err := warm.Release(ctx, lease.ReleaseRequest{DatabaseKey: l.DatabaseKey, HolderID: "bench", Generation: l.Generation}); err != nil {
				b.Fatal(err)
			}
			g, p, _ := counter.take()
			gets, puts = gets+g, puts+p
		}
		b.ReportMetric(float64(gets)/float64(b.N), "GetItem/op")
		b.ReportMetric(float64(puts)/float64(b.N), "PutItem/op")
	})
	run("get", nil, func(int) {
		if _, err := warm.Get(ctx, held.DatabaseKey); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkStoreOpsFake is the in-process baseline: the cost of the store
// and the Service without any network.
func BenchmarkStoreOpsFake(b *testing.B) {
	benchServiceOps(b, newFakeDynamoDB(testTable), testTable)
}
