package safety

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// LinOptions tune CheckLinearizable.
type LinOptions struct {
	// Timeout bounds the search; 0 means 60 s. A search that times out
	// found no violation in the part it explored.
	Timeout time.Duration
	// Name names the visualisation file.
	Name string
	// ClockValues, when set, are every value the shared service clock took
	// (sorted); an ambiguous write's decision time is one of them.
	// Otherwise every millisecond of its window is a candidate.
	ClockValues []uint64
	// InFlight says an ambiguous write may take effect after its caller
	// gave up (a real network request still in flight): its return is then
	// pushed to infinity. Failures injected by pkg/backend/faulty are
	// exempt: that wrapper applies a write, or not, before returning, so
	// they keep their real return, which makes the check stronger.
	InFlight bool
}

// LinResult summarises one check.
type LinResult struct {
	Result     porcupine.CheckResult
	Ops        int
	Partitions int
	Ambiguous  int
	Elapsed    time.Duration
	Visual     string // path of the visualisation, when written
}

// Linearizable checks a history against Model with porcupine.
func Linearizable(ops []Op, opts LinOptions) (LinResult, porcupine.LinearizationInfo) {
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	history, ambiguous := ToPorcupine(ops, opts)
	model := Model()
	start := time.Now()
	res, info := porcupine.CheckOperationsVerbose(model, history, opts.Timeout)
	return LinResult{Result: res, Ops: len(ops), Partitions: len(model.Partition(history)),
		Ambiguous: ambiguous, Elapsed: time.Since(start)}, info
}

// CheckLinearizable checks a history against Model with porcupine and
// fails t (with the path of a visualisation) when it is not linearizable.
// The visualisation goes to $REDLEASE_LIN_OUT when set, else t.TempDir().
// A search that times out is logged, not failed: it found no violation in
// the part it explored.
func CheckLinearizable(t testing.TB, ops []Op, opts LinOptions) LinResult {
	t.Helper()
	out, info := Linearizable(ops, opts)
	switch out.Result {
	case porcupine.Ok:
		return out
	case porcupine.Unknown:
		t.Logf("linearizability check of %d ops timed out after %s: no violation found in the part explored",
			len(ops), out.Elapsed.Round(time.Millisecond))
		return out
	}
	dir := os.Getenv("REDLEASE_LIN_OUT")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o750); err != nil { //nolint:gosec // the developer names this directory
		t.Errorf("REDLEASE_LIN_OUT: %v", err)
		dir = t.TempDir()
	}
	name := opts.Name
	if name == "" {
		name = "history"
	}
	name = strings.NewReplacer("/", "_", " ", "_").Replace(name)
	out.Visual = filepath.Join(dir, fmt.Sprintf("%s-%d.html", name, time.Now().UnixNano()))
	if err := porcupine.VisualizePath(Model(), info, out.Visual); err != nil {
		t.Errorf("writing the visualisation: %v", err)
	}
	t.Errorf("history of %d ops (%d ambiguous) is NOT linearizable; visualisation: %s%s",
		len(ops), out.Ambiguous, out.Visual, lastOps(ops, 12))
	return out
}

// ToPorcupine converts a history, filling in the candidate decision times
// of ambiguous writes. It returns the number of ambiguous writes.
func ToPorcupine(ops []Op, opts LinOptions) ([]porcupine.Operation, int) {
	history := make([]porcupine.Operation, 0, len(ops))
	ambiguous := 0
	for _, op := range ops {
		ret := op.Return
		if op.Ambiguous() {
			ambiguous++
			if opts.ClockValues != nil {
				op.Output.Candidates = valuesIn(opts.ClockValues, op.Output.StartMs, op.Output.EndMs)
			}
			if opts.InFlight && !op.Output.Injected {
				ret = math.MaxInt64
			}
		}
		history = append(history, porcupine.Operation{
			ClientId: op.Client, Input: op.Input, Output: op.Output, Call: op.Call, Return: ret,
		})
	}
	return history, ambiguous
}

// valuesIn returns the sorted values within [lo, hi].
func valuesIn(sorted []uint64, lo, hi uint64) []uint64 {
	i := sort.Search(len(sorted), func(i int) bool { return sorted[i] >= lo })
	j := sort.Search(len(sorted), func(i int) bool { return sorted[i] > hi })
	return append([]uint64{}, sorted[i:j]...)
}

func lastOps(ops []Op, n int) string {
	sorted := append([]Op(nil), ops...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Call < sorted[j].Call })
	if len(sorted) > n {
		sorted = sorted[len(sorted)-n:]
	}
	return "\nlast calls:" + describeOps(sorted)
}

// Summary counts a history's outcomes per kind, for logs.
func Summary(ops []Op) string {
	counts := map[string]int{}
	for _, op := range ops {
		counts[op.Input.Kind.String()+"/"+op.Output.Outcome.String()]++
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, counts[k]))
	}
	return strings.Join(parts, " ")
}
