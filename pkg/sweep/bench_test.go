package sweep_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/sweep"
)

type nopPublisher struct{}

func (nopPublisher) Publish(_ context.Context, events []sweep.ExpiredEvent) []error {
	return make([]error, len(events))
}

// BenchmarkSweep5000 measures a first run over 5000 keys, half of them
// expired and unreported (so half are published and marked), on the memory
// store with default page size and workers.
func BenchmarkSweep5000(b *testing.B) {
	const n = 5000
	now := t0 + 1_000_000
	recs := make([]lease.Record, n)
	for i := range recs {
		expires := now + 1
		if i%2 == 0 {
			expires = now - 1
		}
		recs[i] = rec(fmt.Sprintf("tenant-%d/db-%04d.rdb", i%7, i), "holder", 1, 1, expires)
	}
	clk := newClock(now)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		store := memory.New(memory.Options{})
		seed(b, store, recs...)
		sw := newSweeper(b, sweep.Config{Store: store, Publisher: nopPublisher{}, Now: clk.Now})
		b.StartTimer()
		res, err := sw.Run(context.Background())
		if err != nil || res.Reported != n/2 {
			b.Fatalf("Run = %+v, %v; want %d reported", res, err, n/2)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "keys/s")
}
