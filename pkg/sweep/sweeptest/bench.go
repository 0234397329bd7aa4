package sweeptest

import (
	"testing"
	"time"
)

// Sizes are the key counts `make bench-sweep` measures.
var Sizes = []int{1_000, 10_000, 100_000}

// Columns names a backend's operations for the report: the listing call,
// the read and the write.
type Columns struct{ List, Read, Write string }

// Bench measures b.N steady-state runs of st (run with -benchtime Nx):
// ns/op is one run's wall time, and per run it reports the listing calls,
// reads and writes the store was asked for (the state's own read and write
// included), the events and their publish calls, the records changed and
// expired since the previous run, and the read units the listing consumed
// where the backend reports them.
//
// Go calls a benchmark function with b.N = 1 first, then with N: hand the
// same st to both (see Once) and the second continues the first's steady
// state instead of building another.
func Bench(b *testing.B, st *Steady, cols Columns) {
	st.tb = b
	var sum Run
	sum.Requests = map[string]int{}
	var (
		wall  time.Duration
		state int
	)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		changed, expired := st.Next()
		b.StartTimer()
		r := st.Run()
		b.StopTimer()
		st.Check(&r, changed, expired)
		for op, n := range r.Requests {
			sum.Requests[op] += n
		}
		sum.Events += r.Events
		sum.PublishCalls += r.PublishCalls
		sum.Changed += r.Changed
		sum.Expired += r.Expired
		sum.Result.ReadUnits += r.Result.ReadUnits
		sum.Result.Read += r.Result.Read
		wall += r.Wall
		state = r.Result.StateBytes
	}
	per := func(n float64) float64 { return n / float64(b.N) }
	b.ReportMetric(per(float64(sum.Requests[cols.List])), "lists/run")
	b.ReportMetric(per(float64(sum.Requests[cols.Read])), "reads/run")
	b.ReportMetric(per(float64(sum.Requests[cols.Write])), "writes/run")
	b.ReportMetric(per(float64(sum.Events)), "events/run")
	b.ReportMetric(per(float64(sum.PublishCalls)), "putevents/run")
	b.ReportMetric(per(float64(sum.Changed)), "changed/run")
	b.ReportMetric(per(float64(sum.Expired)), "expired/run")
	b.ReportMetric(per(sum.Result.ReadUnits), "rru/run")
	b.ReportMetric(per(float64(wall.Milliseconds())), "ms/run")
	b.ReportMetric(float64(state), "state-bytes")
	other := 0
	for op, n := range sum.Requests {
		if op != cols.List && op != cols.Read && op != cols.Write {
			other += n
			b.Logf("%d %s calls in %d runs", n, op, b.N)
		}
	}
	b.ReportMetric(per(float64(other)), "other/run")
}

// Once builds the Steady for a benchmark the first time it is asked and
// returns the same one afterwards.
func Once(st **Steady, build func() *Steady) *Steady {
	if *st == nil {
		*st = build()
	}
	return *st
}
