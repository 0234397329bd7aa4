package safety_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/safety"
)

// epoch is where fake clocks start: 2026-01-01T00:00:00Z.
var epoch = time.UnixMilli(1767225600000)

var (
	testKeys    = []string{"clusters/dev/data.rdb", "main", "safety/k3"}
	testHolders = []string{"reddb-0", "reddb-1", "reddb-2", "promoter"}
	tickTTLs    = []uint64{1000, 2000, 3000}
	clockSteps  = []time.Duration{time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond, time.Second}
)

// envInt reads a test size knob; in -short runs it returns short.
func envInt(t testing.TB, name string, def, short int) int {
	t.Helper()
	if v := os.Getenv(name); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			t.Fatalf("%s=%q: want a non-negative integer", name, v)
		}
		return n
	}
	if testing.Short() {
		return short
	}
	return def
}

// seed is REDLEASE_SAFETY_SEED or a fixed default, logged so that a failing
// run can be repeated (goroutine scheduling still varies between runs).
func seed(t testing.TB) uint64 {
	t.Helper()
	s := uint64(20260101)
	if v := os.Getenv("REDLEASE_SAFETY_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("REDLEASE_SAFETY_SEED=%q: %v", v, err)
		}
		s = n
	}
	t.Logf("seed %d (set REDLEASE_SAFETY_SEED to change)", s)
	return s
}

func newService(t testing.TB, store lease.Store, now func() time.Time, cacheSize int) *lease.Service {
	t.Helper()
	svc, err := lease.New(lease.Config{Store: store, Now: now, CacheSize: cacheSize})
	if err != nil {
		t.Fatalf("lease.New: %v", err)
	}
	return svc
}

// requireSafe runs both checkers over a history.
func requireSafe(t *testing.T, name string, ops []safety.Op, lin safety.LinOptions, inv safety.InvariantOptions) safety.LinResult {
	t.Helper()
	errs := safety.CheckInvariants(ops, inv)
	for _, err := range errs {
		t.Errorf("%s: invariant violated: %v", name, err)
	}
	if len(errs) > 0 {
		dumpHistory(t, name, ops)
	}
	lin.Name = name
	res := safety.CheckLinearizable(t, ops, lin)
	t.Logf("%s: %d ops in %d keys, %d ambiguous, porcupine %s in %s; %s",
		name, res.Ops, res.Partitions, res.Ambiguous, res.Result, res.Elapsed.Round(time.Millisecond), safety.Summary(ops))
	return res
}

func background(t testing.TB) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx
}

// dumpHistory writes a failing history as JSON lines (safety.DecodeOps
// reads it back) to $REDLEASE_LIN_OUT or a temporary directory.
func dumpHistory(t *testing.T, name string, ops []safety.Op) {
	t.Helper()
	dir := os.Getenv("REDLEASE_LIN_OUT")
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, strings.ReplaceAll(name, "/", "_")+".jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Errorf("dump history: %v", err)
		return
	}
	defer f.Close()
	if err := safety.EncodeOps(f, ops); err != nil {
		t.Errorf("dump history: %v", err)
		return
	}
	t.Logf("%s: history written to %s", name, path)
}
