package leaseops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/redlease/redlease/bench/reqcount"
	"github.com/redlease/redlease/bench/stats"
)

// Config sets how much to measure.
type Config struct {
	Iterations int  // timed iterations per row and operation
	Warmup     int  // untimed iterations first (connections, caches)
	Ops        []Op // Ops when empty
	// Progress, when set, gets one line per operation.
	Progress io.Writer
}

// Cell is one row's figures for one operation.
type Cell struct {
	Row string `json:"row"`
	Op  Op     `json:"op"`
	// Measured is false when the row does not measure the operation.
	Measured bool `json:"measured"`
	// LatencyMs summarises the timed actions that succeeded.
	LatencyMs stats.Summary `json:"latency_ms"`
	// Storage and Front are the requests of the typical operation by
	// label: the pattern most operations sent, which is the design's (an
	// SDK retry of a request the emulator dropped makes an operation
	// atypical). StorageAtypical counts the operations that sent another
	// pattern; StorageMean averages every operation; StorageTotal and
	// FrontTotal summarise the per-operation totals.
	Storage         map[string]float64 `json:"storage,omitempty"`
	StorageMean     map[string]float64 `json:"storage_mean,omitempty"`
	StorageAtypical int                `json:"storage_atypical"`
	StorageTotal    stats.Summary      `json:"storage_total"`
	Front           map[string]float64 `json:"front,omitempty"`
	FrontTotal      stats.Summary      `json:"front_total"`
	Errors          int                `json:"errors"`
	FirstError      string             `json:"first_error,omitempty"`
}

// Run measures every subject on every operation. Within an operation the
// subjects take turns one iteration at a time (A B C, B C A, ...), so that
// drift of the machine or the emulators falls on all of them alike. An
// iteration whose preparation fails ends the run: the figures would not
// mean what they say.
func Run(ctx context.Context, subjects []Subject, cfg Config) ([]Cell, error) {
	ops := cfg.Ops
	if len(ops) == 0 {
		ops = Ops
	}
	var cells []Cell
	for _, op := range ops {
		start := time.Now()
		got, err := runOp(ctx, subjects, op, cfg)
		if err != nil {
			return nil, err
		}
		cells = append(cells, got...)
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "lease ops: %-18s %d rows x %d iterations in %s\n",
				op, len(subjects), cfg.Iterations, time.Since(start).Round(time.Millisecond))
		}
	}
	return cells, nil
}

type tally struct {
	measured  bool
	latencies []time.Duration
	storage   []reqcount.Counts
	front     []reqcount.Counts
	errors    int
	firstErr  error
}

func runOp(ctx context.Context, subjects []Subject, op Op, cfg Config) ([]Cell, error) {
	tallies := make([]tally, len(subjects))
	for i := range tallies {
		tallies[i].measured = true
	}
	total := cfg.Warmup + cfg.Iterations
	for i := range total {
		for k := range subjects {
			j := (i + k) % len(subjects)
			if !tallies[j].measured {
				continue
			}
			if err := runOnce(ctx, subjects[j], op, i, i >= cfg.Warmup, &tallies[j]); err != nil {
				return nil, err
			}
		}
	}
	cells := make([]Cell, len(subjects))
	for j, s := range subjects {
		cells[j] = tallies[j].cell(s.Info().Name, op)
	}
	return cells, nil
}

func runOnce(ctx context.Context, s Subject, op Op, i int, record bool, t *tally) error {
	act, err := s.Prepare(ctx, op, i)
	if errors.Is(err, ErrNotMeasured) {
		t.measured = false
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s, %s, iteration %d: prepare: %w", s.Info().Name, op, i, err)
	}
	s.Take() // what the preparation sent is not the operation's
	begin := time.Now()
	err = act(ctx)
	took := time.Since(begin)
	calls := s.Take()
	if !record {
		return nil
	}
	if err != nil {
		t.errors++
		if t.firstErr == nil {
			t.firstErr = err
		}
		return nil
	}
	t.latencies = append(t.latencies, took)
	t.storage = append(t.storage, calls.Storage)
	t.front = append(t.front, calls.Front)
	return nil
}

func (t *tally) cell(row string, op Op) Cell {
	c := Cell{Row: row, Op: op, Measured: t.measured, Errors: t.errors}
	if !t.measured {
		return c
	}
	if t.firstErr != nil {
		c.FirstError = t.firstErr.Error()
	}
	c.LatencyMs = stats.Summarize(stats.Millis(t.latencies))
	c.StorageMean, c.StorageTotal = meanCounts(t.storage)
	c.Storage, c.StorageAtypical = typicalCounts(t.storage)
	_, c.FrontTotal = meanCounts(t.front)
	c.Front, _ = typicalCounts(t.front)
	return c
}

// meanCounts averages per-label counts over operations and summarises the
// per-operation totals.
func meanCounts(per []reqcount.Counts) (map[string]float64, stats.Summary) {
	if len(per) == 0 {
		return nil, stats.Summary{}
	}
	sums := map[string]float64{}
	totals := make([]float64, len(per))
	for i, c := range per {
		for l, n := range c {
			sums[l] += float64(n)
		}
		totals[i] = float64(c.Total())
	}
	if len(sums) == 0 {
		return nil, stats.Summarize(totals)
	}
	for _, l := range slices.Collect(maps.Keys(sums)) {
		sums[l] /= float64(len(per))
	}
	return sums, stats.Summarize(totals)
}

// typicalCounts returns the most frequent per-operation pattern and how
// many operations sent another one.
func typicalCounts(per []reqcount.Counts) (map[string]float64, int) {
	if len(per) == 0 {
		return nil, 0
	}
	seen := map[string]int{}
	best, bestN := 0, 0
	for i, c := range per {
		k := c.String()
		seen[k]++
		if seen[k] > bestN {
			best, bestN = i, seen[k]
		}
	}
	if len(per[best]) == 0 {
		return nil, len(per) - bestN
	}
	out := make(map[string]float64, len(per[best]))
	for l, n := range per[best] {
		out[l] = float64(n)
	}
	return out, len(per) - bestN
}
