package safety_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redlease/redlease/pkg/backend/file"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/safety"
)

// Environment of the child processes of TestLinearizableFileProcesses.
const (
	envChild      = "REDLEASE_SAFETY_CHILD"
	envChildDir   = "REDLEASE_SAFETY_CHILD_DIR"
	envChildOut   = "REDLEASE_SAFETY_CHILD_OUT"
	envChildBase  = "REDLEASE_SAFETY_CHILD_BASE"
	envChildN     = "REDLEASE_SAFETY_CHILD_CLIENTS"
	envChildOps   = "REDLEASE_SAFETY_CHILD_OPS"
	envChildSeed  = "REDLEASE_SAFETY_CHILD_SEED"
	envChildStart = "REDLEASE_SAFETY_CHILD_START"
)

// realTTLs are short enough that leases expire, and are taken over, many
// times during a run on the real clock.
var realTTLs = []uint64{50, 100, 200}

func realLimits() lease.Limits {
	l := lease.DefaultLimits()
	l.MinTTL = time.Millisecond
	return l
}

// TestLinearizableFileProcesses: several processes (this test binary run
// again as children), each with its own lease.Services and clients, share
// one data directory through the file backend. They use the real clock,
// which every process reads from the same kernel, so the merged history is
// ordered by wall-clock nanoseconds and decision windows are real
// milliseconds.
func TestLinearizableFileProcesses(t *testing.T) {
	t.Parallel()
	procs := envInt(t, "REDLEASE_LIN_PROCS", 4, 2)
	perClient := envInt(t, "REDLEASE_LIN_FILE_OPS", 500, 60)
	const clientsPerProc = 2
	base := seed(t)
	dir := t.TempDir()
	if _, err := file.Open(file.Options{Dir: dir}); err != nil {
		t.Fatalf("file.Open: %v", err)
	}
	start := time.Now().Add(500 * time.Millisecond).UnixNano()
	ctx, cancel := context.WithTimeout(background(t), 5*time.Minute)
	defer cancel()
	type child struct {
		cmd *exec.Cmd
		out string
	}
	children := make([]child, procs)
	for i := range children {
		out := filepath.Join(t.TempDir(), fmt.Sprintf("child-%d.jsonl", i))
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestLinChildProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(),
			envChild+"=1", envChildDir+"="+dir, envChildOut+"="+out,
			envChildBase+"="+strconv.Itoa(i*clientsPerProc), envChildN+"="+strconv.Itoa(clientsPerProc),
			envChildOps+"="+strconv.Itoa(perClient), envChildSeed+"="+strconv.FormatUint(base+uint64(i), 10),
			envChildStart+"="+strconv.FormatInt(start, 10))
		if err := cmd.Start(); err != nil {
			t.Fatalf("start child %d: %v", i, err)
		}
		children[i] = child{cmd, out}
	}
	var ops []safety.Op
	for i, c := range children {
		if err := c.cmd.Wait(); err != nil {
			t.Fatalf("child %d: %v", i, err)
		}
		f, err := os.Open(c.out)
		if err != nil {
			t.Fatalf("child %d output: %v", i, err)
		}
		part, err := safety.DecodeOps(f)
		f.Close()
		if err != nil {
			t.Fatalf("child %d output: %v", i, err)
		}
		if len(part) != clientsPerProc*perClient {
			t.Fatalf("child %d recorded %d ops, want %d", i, len(part), clientsPerProc*perClient)
		}
		ops = append(ops, part...)
	}
	requireSafe(t, fmt.Sprintf("file-%dprocs", procs), ops, safety.LinOptions{}, safety.InvariantOptions{SharedClock: true})
	t.Logf("file: 1 history, %d processes x %d clients, %d ops checked", procs, clientsPerProc, len(ops))
}

// TestLinChildProcess is the body of one child process; it does nothing in
// a normal run.
func TestLinChildProcess(t *testing.T) {
	if os.Getenv(envChild) != "1" {
		t.Skip("runs only as a child of TestLinearizableFileProcesses")
	}
	atoi := func(name string) int {
		n, err := strconv.Atoi(os.Getenv(name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return n
	}
	seed, err := strconv.ParseUint(os.Getenv(envChildSeed), 10, 64)
	if err != nil {
		t.Fatalf("%s: %v", envChildSeed, err)
	}
	start, err := strconv.ParseInt(os.Getenv(envChildStart), 10, 64)
	if err != nil {
		t.Fatalf("%s: %v", envChildStart, err)
	}
	store, err := file.Open(file.Options{Dir: os.Getenv(envChildDir)})
	if err != nil {
		t.Fatalf("file.Open: %v", err)
	}
	svcs := make([]*lease.Service, 2)
	for i := range svcs {
		svcs[i], err = lease.New(lease.Config{Store: store, Limits: realLimits(), CacheSize: 1 - 2*i})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Start together so that the processes really overlap.
	time.Sleep(time.Until(time.Unix(0, start)))
	ops := safety.Workload{
		Clients: atoi(envChildN), OpsPerClient: atoi(envChildOps), ClientBase: atoi(envChildBase),
		Keys: testKeys, Holders: testHolders, TTLs: realTTLs, Seed: seed, Services: svcs,
		Recorder:    safety.NewRecorder(safety.WallStamp(), func() uint64 { return lease.UnixMs(time.Now()) }),
		CallTimeout: 10 * time.Second,
	}.Run(context.Background())
	f, err := os.Create(os.Getenv(envChildOut))
	if err != nil {
		t.Fatal(err)
	}
	if err := safety.EncodeOps(f, ops); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
