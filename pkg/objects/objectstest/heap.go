package objectstest

import (
	"io"
	"runtime"
	"runtime/metrics"
	"sync"
	"time"
)

// PeakHeap runs f and returns the largest live heap (bytes of heap objects,
// runtime/metrics' /memory/classes/heap/objects:bytes) seen while it ran,
// sampled every millisecond, above what was live before: what f needed
// at its worst, whatever it allocated in total. Benchmarks report it with
// b.ReportMetric, so a bound on memory is a figure, not a timed test.
func PeakHeap(f func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	base := read()
	var (
		mu   sync.Mutex
		peak uint64
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			v := read()
			mu.Lock()
			peak = max(peak, v)
			mu.Unlock()
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	f()
	close(done)
	wg.Wait()
	if peak < base {
		return 0
	}
	return peak - base
}

// Stream is an io.Reader of n deterministic bytes that allocates nothing
// per read: a large body for benchmarks.
type Stream struct {
	n, off int64
}

// NewStream returns a reader of n bytes.
func NewStream(n int64) *Stream { return &Stream{n: n} }

// Read implements io.Reader.
func (s *Stream) Read(p []byte) (int, error) {
	if s.off >= s.n {
		return 0, io.EOF
	}
	if int64(len(p)) > s.n-s.off {
		p = p[:s.n-s.off]
	}
	for i := range p {
		p[i] = byte(uint64(s.off+int64(i)) * 2654435761 >> 13) //nolint:gosec // a pattern: only the low byte is wanted
	}
	s.off += int64(len(p))
	return len(p), nil
}
