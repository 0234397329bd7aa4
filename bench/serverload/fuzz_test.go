package serverload

import "testing"

// FuzzParseBench: any go test output parses without panicking into lines
// that are benchmark results.
func FuzzParseBench(f *testing.F) {
	f.Add([]byte("BenchmarkServicePath/http/acquire-2 \t 2000\t 90141 ns/op\t 12739 B/op\t 101 allocs/op\n"))
	f.Add([]byte("Benchmark 1 x\nBenchmarkA-\t3\t1 ns/op extra\n"))
	f.Fuzz(func(t *testing.T, out []byte) {
		for _, a := range ParseBench(out) {
			if a.Name == "" {
				t.Errorf("a result without a name from %q", out)
			}
		}
	})
}
