//go:build integration

package s3

import (
	"fmt"
	"testing"

	"github.com/redlease/redlease/internal/awstest"
	"github.com/redlease/redlease/pkg/sweep"
	"github.com/redlease/redlease/pkg/sweep/sweeptest"
)

// BenchmarkSweepEmulator is `make bench-sweep`'s LocalStack row: the
// steady state at 10,000 keys in a prefix of its own, each request counted
// once by the real SDK client however often it is retried. Nothing is
// deleted afterwards: the harness discards the emulator.
func BenchmarkSweepEmulator(b *testing.B) {
	const n = 10_000
	var st *sweeptest.Steady
	b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
		sweeptest.Bench(b, sweeptest.Once(&st, func() *sweeptest.Steady {
			var calls awstest.Calls
			client, bucket := itClient(b, &calls)
			prefix := "redlease-it/" + awstest.Unique() + "/leases/"
			s, err := New(client, Options{Bucket: bucket, Prefix: prefix})
			if err != nil {
				b.Fatal(err)
			}
			return sweeptest.New(b, s, calls.Take, n, sweep.Config{})
		}), sweeptest.Columns{List: "ListObjectsV2", Read: "GetObject", Write: "PutObject"})
	})
}
