// Package serverload measures `redlease serve`: throughput and latency of
// acquire, refresh and release on distinct keys at several concurrencies,
// on the memory and file backends, side by side (the backends take turns
// round by round); the file backend's physical floor (one durable write
// alone on this disk); and allocations per request on the service path
// from `go test -bench`.
package serverload

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/redlease/redlease/bench/stats"
)

// Config sets what to measure.
type Config struct {
	// Binary is the redlease binary to serve with; empty serves the same
	// handler chain in this process (the smoke run).
	Binary      string
	Backends    []string // "memory", "file"
	Concurrency []int
	// Requests per backend, concurrency and operation, split over Rounds.
	Requests, Rounds int
	// FloorWrites is how many durable writes measure the floor.
	FloorWrites int
	// Dir holds the file backend's data and the floor's file (the same
	// file system); a temporary directory when empty.
	Dir      string
	Progress io.Writer
}

// Result is one operation on one backend at one concurrency.
type Result struct {
	Backend     string        `json:"backend"`
	Concurrency int           `json:"concurrency"`
	Op          string        `json:"op"`
	Requests    int           `json:"requests"`
	PerSecond   float64       `json:"per_second"`
	LatencyMs   stats.Summary `json:"latency_ms"`
	Errors      int           `json:"errors"`
	FirstError  string        `json:"first_error,omitempty"`
}

// Report is the whole section.
type Report struct {
	InProcess bool     `json:"in_process"`
	Results   []Result `json:"results"`
	Floor     Floor    `json:"floor"`
	Allocs    []Alloc  `json:"allocs,omitempty"`
	AllocsCmd string   `json:"allocs_command,omitempty"`
}

type agg struct {
	lat      []time.Duration
	elapsed  time.Duration
	errors   int
	firstErr error
}

// Run measures the servers and the floor. Allocations are measured by
// the caller (MeasureAllocs), which needs the Go toolchain.
func Run(ctx context.Context, cfg Config) (Report, error) {
	rep := Report{InProcess: cfg.Binary == ""}
	dir := cfg.Dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "redlease-bench-serve-")
		if err != nil {
			return rep, err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	servers := map[string]*server{}
	defer func() {
		for _, s := range servers {
			s.stop()
		}
	}()
	for _, be := range cfg.Backends {
		var (
			s   *server
			err error
		)
		data := filepath.Join(dir, "data-"+be)
		if cfg.Binary != "" {
			s, err = startProcess(cfg.Binary, be, data, filepath.Join(dir, "serve-"+be+".log"))
		} else {
			s, err = startInProcess(ctx, be, data)
		}
		if err != nil {
			return rep, fmt.Errorf("start the %s server: %w", be, err)
		}
		servers[be] = s
	}
	maxConc := 1
	for _, c := range cfg.Concurrency {
		maxConc = max(maxConc, c)
	}
	client := newClient(maxConc)
	defer client.CloseIdleConnections()
	rounds := max(cfg.Rounds, 1)
	perRound := max(cfg.Requests/rounds, 1)
	aggs := map[string]*agg{}
	slot := func(be string, c int, op string) *agg {
		k := fmt.Sprintf("%s/%d/%s", be, c, op)
		if aggs[k] == nil {
			aggs[k] = &agg{}
		}
		return aggs[k]
	}
	for _, c := range cfg.Concurrency {
		start := time.Now()
		for r := range rounds {
			for k := range cfg.Backends {
				be := cfg.Backends[(r+k)%len(cfg.Backends)]
				keys := make([]string, perRound)
				for i := range keys {
					keys[i] = fmt.Sprintf("load-c%d-r%d-%d", c, r, i) // flat: no new directories
				}
				gens := make([]uint64, perRound)
				for _, op := range Ops {
					ph := run(ctx, client, servers[be].url, op, keys, gens, c)
					a := slot(be, c, op)
					a.lat = append(a.lat, ph.latencies...)
					a.elapsed += ph.elapsed
					a.errors += ph.errors
					if a.firstErr == nil {
						a.firstErr = ph.firstErr
					}
				}
			}
		}
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "serve: concurrency %d, %d backends x %d requests x 3 ops in %s\n",
				c, len(cfg.Backends), perRound*rounds, time.Since(start).Round(time.Millisecond))
		}
	}
	for _, be := range cfg.Backends {
		for _, c := range cfg.Concurrency {
			for _, op := range Ops {
				a := slot(be, c, op)
				res := Result{Backend: be, Concurrency: c, Op: op, Requests: len(a.lat), Errors: a.errors,
					LatencyMs: stats.Summarize(stats.Millis(a.lat)),
					PerSecond: stats.Finite(stats.Ratio(float64(len(a.lat)), a.elapsed.Seconds()))}
				if a.firstErr != nil {
					res.FirstError = a.firstErr.Error()
				}
				rep.Results = append(rep.Results, res)
			}
		}
	}
	for _, s := range servers {
		s.stop()
	}
	clear(servers)
	floorDir := filepath.Join(dir, "floor")
	if err := os.MkdirAll(floorDir, 0o750); err != nil {
		return rep, err
	}
	floor, err := MeasureFloor(floorDir, cfg.FloorWrites)
	if err != nil {
		return rep, err
	}
	rep.Floor = floor
	return rep, nil
}
