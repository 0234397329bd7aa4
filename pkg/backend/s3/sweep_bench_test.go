package s3

import (
	"fmt"
	"testing"

	"github.com/redlease/redlease/pkg/sweep"
	"github.com/redlease/redlease/pkg/sweep/sweeptest"
)

// BenchmarkSweepSteady is `make bench-sweep`'s in-process row for S3: the
// real store and sweep over the request-counting fake bucket, in the
// steady state of sweeptest, at each of sweeptest.Sizes.
func BenchmarkSweepSteady(b *testing.B) {
	for _, n := range sweeptest.Sizes {
		var st *sweeptest.Steady
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			sweeptest.Bench(b, sweeptest.Once(&st, func() *sweeptest.Steady {
				s, fake := newTestStore(b, Options{})
				fake.unrecorded = true
				return sweeptest.New(b, s, fake.Take, n, sweep.Config{})
			}), sweeptest.Columns{List: "ListObjectsV2", Read: "GetObject", Write: "PutObject"})
		})
	}
}
