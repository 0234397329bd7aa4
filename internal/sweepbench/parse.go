// Package sweepbench turns the output of the sweep benchmarks (`make
// bench-sweep`: BenchmarkSweepSteady in process, BenchmarkSweepEmulator on
// LocalStack and moto) into the table of requests per run and what they
// cost a month at AWS list prices. The prices carry their sources and the
// day they were read; the arithmetic is in Cost.
package sweepbench

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Row is one benchmark result: a backend at a key count, in process or on
// an emulator, with its metrics per run by unit ("lists/run", "ms/run").
type Row struct {
	Backend string // "S3" or "DynamoDB"
	Where   string // "in process" or the emulator's name
	Keys    int
	Runs    int
	Metrics map[string]float64
}

// Metric returns the per-run value of unit ("lists" for "lists/run").
func (r Row) Metric(unit string) float64 { return r.Metrics[unit+"/run"] }

// backends maps a benchmark package to the backend it measures and the
// emulator its integration benchmark runs on.
var backends = map[string]struct{ name, emulator string }{
	"pkg/backend/s3":       {"S3", "LocalStack"},
	"pkg/backend/dynamodb": {"DynamoDB", "moto"},
}

// Parse reads `go test -bench` output and returns the sweep benchmarks'
// rows in the order they appear. Other lines are ignored; a sweep
// benchmark line that does not parse is an error.
func Parse(r io.Reader) ([]Row, error) {
	var (
		rows    []Row
		backend string
		lineNo  int
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		if pkg, ok := strings.CutPrefix(line, "pkg: "); ok {
			backend = ""
			for suffix := range backends {
				if strings.HasSuffix(pkg, "/"+suffix) {
					backend = suffix
				}
			}
			continue
		}
		if !strings.HasPrefix(line, "BenchmarkSweepSteady/") && !strings.HasPrefix(line, "BenchmarkSweepEmulator/") {
			continue
		}
		row, err := parseLine(line, backend)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", lineNo, err)
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return rows, nil
}

// parseLine reads "BenchmarkSweepSteady/keys=1000-2  3  40405211 ns/op
// 90.00 changed/run ...".
func parseLine(line, pkg string) (Row, error) {
	b, ok := backends[pkg]
	if !ok {
		return Row{}, fmt.Errorf("benchmark %q outside a known backend package", line)
	}
	fields := strings.Fields(line)
	if len(fields) < 4 || len(fields)%2 != 0 {
		return Row{}, fmt.Errorf("%q is not name, count and value-unit pairs", line)
	}
	name, sub, _ := strings.Cut(fields[0], "/")
	row := Row{Backend: b.name, Where: "in process", Metrics: map[string]float64{}}
	if name == "BenchmarkSweepEmulator" {
		row.Where = b.emulator
	}
	keys, ok := strings.CutPrefix(sub, "keys=")
	if i := strings.LastIndexByte(keys, '-'); i > 0 {
		keys = keys[:i] // the GOMAXPROCS suffix
	}
	n, err := strconv.Atoi(keys)
	if !ok || err != nil || n <= 0 {
		return Row{}, fmt.Errorf("%q names no key count", fields[0])
	}
	row.Keys = n
	if row.Runs, err = strconv.Atoi(fields[1]); err != nil || row.Runs <= 0 {
		return Row{}, fmt.Errorf("%q: run count %q", fields[0], fields[1])
	}
	for i := 2; i < len(fields); i += 2 {
		v, err := strconv.ParseFloat(fields[i], 64)
		if err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return Row{}, fmt.Errorf("%q: value %q of %s", fields[0], fields[i], fields[i+1])
		}
		row.Metrics[fields[i+1]] = v
	}
	for _, unit := range []string{"lists/run", "reads/run", "writes/run", "events/run", "ms/run"} {
		if _, ok := row.Metrics[unit]; !ok {
			return Row{}, fmt.Errorf("%q lacks %s", fields[0], unit)
		}
	}
	return row, nil
}
