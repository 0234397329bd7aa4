package serverload

import (
	"context"
	"testing"
)

// TestRunInProcess drives the load generator against the in-process
// server on both backends and measures a tiny floor: every request must
// succeed and be counted.
func TestRunInProcess(t *testing.T) {
	t.Parallel()
	rep, err := Run(context.Background(), Config{
		Backends: []string{"memory", "file"}, Concurrency: []int{1, 4},
		Requests: 8, Rounds: 2, FloorWrites: 3, Dir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.InProcess || len(rep.Results) != 2*2*3 {
		t.Fatalf("in process %v, %d results; want 12", rep.InProcess, len(rep.Results))
	}
	for _, r := range rep.Results {
		if r.Errors != 0 || r.Requests != 8 || r.LatencyMs.N != 8 || !(r.PerSecond > 0) {
			t.Errorf("%s c=%d %s: %d requests, %d errors (%s), %v/s", r.Backend, r.Concurrency, r.Op,
				r.Requests, r.Errors, r.FirstError, r.PerSecond)
		}
	}
	if rep.Floor.Writes != 3 || rep.Floor.LatencyMs.N != 3 || !(rep.Floor.PerSecond > 0) {
		t.Errorf("floor %+v", rep.Floor)
	}
}

func TestParseBench(t *testing.T) {
	t.Parallel()
	out := []byte(`goos: linux
pkg: github.com/redlease/redlease/bench/serverload
BenchmarkServicePath/http/acquire-2         	    2000	     90141 ns/op	   12739 B/op	     101 allocs/op
BenchmarkServicePath/service/refresh-16      	    2000	      1259 ns/op	     399 B/op	       7 allocs/op
BenchmarkOdd-x	10	5 ns/op
PASS
`)
	got := ParseBench(out)
	want := []Alloc{
		{Name: "BenchmarkServicePath/http/acquire", Iterations: 2000, NsPerOp: 90141, BytesPerOp: 12739, AllocsPerOp: 101},
		{Name: "BenchmarkServicePath/service/refresh", Iterations: 2000, NsPerOp: 1259, BytesPerOp: 399, AllocsPerOp: 7},
		{Name: "BenchmarkOdd-x", Iterations: 10, NsPerOp: 5},
	}
	if len(got) != len(want) {
		t.Fatalf("ParseBench = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}
