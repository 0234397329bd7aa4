package serverload

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/redlease/redlease/bench/stats"
)

// Floor is the file backend's physical limit on this disk: one durable
// record write measured alone, the same steps as the backend's
// writeAtomic (write a temporary file, fsync it, rename it over the
// record, fsync the directory), with nothing else running in this process.
type Floor struct {
	Writes    int           `json:"writes"`
	LatencyMs stats.Summary `json:"latency_ms"`
	// PerSecond is what one writer can do back to back: 1000 / mean.
	PerSecond float64 `json:"per_second"`
	Dir       string  `json:"dir"`
}

// MeasureFloor does n durable replacements of one small file in dir.
func MeasureFloor(dir string, n int) (Floor, error) {
	record := []byte(`{"acquired_at_ms":1767225600000,"database_key":"clusters/dev/data.rdb","expires_at_ms":1767225660000,"generation":1,"holder_id":"reddb-0-1","term":1}`)
	d, err := os.Open(dir)
	if err != nil {
		return Floor{}, err
	}
	defer d.Close()
	target := filepath.Join(dir, "floor.lease.json")
	took := make([]time.Duration, 0, n)
	for i := range n {
		start := time.Now()
		tmp := filepath.Join(dir, fmt.Sprintf(".floor-%d.tmp", i))
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return Floor{}, err
		}
		_, err = f.Write(record)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp, target)
		}
		if err == nil {
			err = d.Sync()
		}
		if err != nil {
			return Floor{}, fmt.Errorf("floor write %d: %w", i, err)
		}
		took = append(took, time.Since(start))
	}
	ms := stats.Summarize(stats.Millis(took))
	return Floor{Writes: n, LatencyMs: ms, PerSecond: stats.Finite(stats.Ratio(1000, ms.Mean)), Dir: dir}, nil
}
