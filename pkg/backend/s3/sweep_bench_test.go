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
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			s, fake := newTestStore(b, Options{})
			fake.unrecorded = true
			st := sweeptest.New(b, s, fake.Take, n, sweep.Config{})
			sweeptest.Bench(b, st, sweeptest.Columns{List: "ListObjectsV2", Read: "GetObject", Write: "PutObject"})
		})
	}
}
