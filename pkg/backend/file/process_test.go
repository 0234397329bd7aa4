package file_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/redlease/redlease/pkg/backend/file"
	"github.com/redlease/redlease/pkg/lease"
)

// The multi-process tests re-execute the test binary. These variables tell
// a child what to do; a normal run skips the child tests.
const (
	envRole    = "REDLEASE_FILE_TEST_ROLE" // "racer" or "writer"
	envDir     = "REDLEASE_FILE_TEST_DIR"
	envID      = "REDLEASE_FILE_TEST_ID"
	envResults = "REDLEASE_FILE_TEST_RESULTS"
)

const (
	racers       = 4
	createRounds = 25
	counterKey   = "race/counter"
	counterTop   = 60 // the racers push the counter's generation up to this
)

func createKey(round int) string { return fmt.Sprintf("race/create/%02d", round) }

// child starts the test binary as a helper running only TestChild.
func child(t *testing.T, role, dir string, extra ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), envRole+"="+role, envDir+"="+dir)
	cmd.Env = append(cmd.Env, extra...)
	return cmd
}

// TestMultiProcessRace has several processes race Create on a series of keys
// and compare-and-swap increments on one counter key in one directory. Each
// create round and each generation of the counter must have exactly one
// winner, and the files must hold what the winners wrote.
func TestMultiProcessRace(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	t.Parallel()
	dir, results := t.TempDir(), t.TempDir()
	s, err := file.Open(file.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(context.Background(), record(counterKey, "parent", 1)); err != nil {
		t.Fatal(err)
	}
	var (
		cmds   []*exec.Cmd
		gates  []io.WriteCloser
		output = make([]strings.Builder, racers)
	)
	for i := range racers {
		cmd := child(t, "racer", dir, fmt.Sprintf("%s=%d", envID, i), envResults+"="+results)
		cmd.Stdout, cmd.Stderr = &output[i], &output[i]
		gate, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start racer %d: %v", i, err)
		}
		cmds, gates = append(cmds, cmd), append(gates, gate)
	}
	for _, g := range gates { // closing stdin releases every racer at once
		g.Close()
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("racer %d: %v\n%s", i, err, output[i].String())
		}
	}

	createWinners := map[int][]int{}
	counterWinners := map[uint64][]int{}
	for i := range racers {
		data, err := os.ReadFile(filepath.Join(results, strconv.Itoa(i)))
		if err != nil {
			t.Fatalf("racer %d left no results: %v", i, err)
		}
		for line := range strings.Lines(string(data)) {
			var n uint64
			if _, err := fmt.Sscanf(line, "create %d", &n); err == nil {
				createWinners[int(n)] = append(createWinners[int(n)], i)
			} else if _, err := fmt.Sscanf(line, "replace %d", &n); err == nil {
				counterWinners[n] = append(counterWinners[n], i)
			} else {
				t.Fatalf("racer %d wrote %q", i, line)
			}
		}
	}
	for round := range createRounds {
		winners := createWinners[round]
		if len(winners) != 1 {
			t.Fatalf("create round %d won by racers %v, want exactly one", round, winners)
		}
		got := decodeFile(t, dir, createKey(round))
		if want := fmt.Sprint("racer-", winners[0]); got.HolderID != want {
			t.Errorf("create round %d: file holds %q, winner was %s", round, got.HolderID, want)
		}
	}
	for gen := uint64(2); gen <= counterTop; gen++ {
		if w := counterWinners[gen]; len(w) != 1 {
			t.Fatalf("counter generation %d written by racers %v, want exactly one (a lost update)", gen, w)
		}
	}
	if n := len(counterWinners); n != counterTop-1 {
		t.Fatalf("%d generations were won, want %d", n, counterTop-1)
	}
	got := decodeFile(t, dir, counterKey)
	if want := fmt.Sprint("racer-", counterWinners[counterTop][0]); got.Generation != counterTop || got.HolderID != want {
		t.Fatalf("counter file holds generation %d by %q, want %d by %s", got.Generation, got.HolderID, counterTop, want)
	}
	spread := map[int]int{}
	for _, w := range counterWinners {
		spread[w[0]]++
	}
	t.Logf("counter generations won per racer: %v", spread)
}

// decodeFile reads a record straight from its file, bypassing the store.
func decodeFile(t *testing.T, dir, key string) lease.Record {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "leases", filepath.FromSlash(key)+lease.ObjectSuffix))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := lease.DecodeRecord(data)
	if err != nil {
		t.Fatalf("file of %q: %v", key, err)
	}
	if string(data) != string(lease.EncodeRecord(rec)) {
		t.Fatalf("file of %q is not EncodeRecord's bytes: %s", key, data)
	}
	return rec
}

// TestChild is the body of the helper processes.
func TestChild(t *testing.T) {
	role := os.Getenv(envRole)
	if role == "" {
		t.Skip("helper process for the multi-process tests")
	}
	s := file.New(file.Options{Dir: os.Getenv(envDir)})
	switch role {
	case "racer":
		runRacer(t, s)
	case "writer":
		runWriter(t, s)
	default:
		t.Fatalf("unknown role %q", role)
	}
}

func runRacer(t *testing.T, s *file.Store) {
	id := os.Getenv(envID)
	holder := "racer-" + id
	if _, err := io.Copy(io.Discard, os.Stdin); err != nil { // wait for the gate
		t.Fatal(err)
	}
	ctx := context.Background()
	var won strings.Builder
	for round := range createRounds {
		_, err := s.Create(ctx, record(createKey(round), holder, 1))
		switch {
		case err == nil:
			fmt.Fprintf(&won, "create %d\n", round)
		case !errors.Is(err, lease.ErrPrecondition):
			t.Fatalf("Create round %d: %v", round, err)
		}
	}
	for {
		cur, err := s.Load(ctx, counterKey)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		gen := cur.Record.Generation + 1
		if gen > counterTop {
			break
		}
		_, err = s.Replace(ctx, record(counterKey, holder, gen), cur.Version)
		switch {
		case err == nil:
			fmt.Fprintf(&won, "replace %d\n", gen)
		case !errors.Is(err, lease.ErrPrecondition):
			t.Fatalf("Replace to generation %d: %v", gen, err)
		}
	}
	if err := os.WriteFile(filepath.Join(os.Getenv(envResults), id), []byte(won.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// runWriter replaces one key forever, printing each generation it wrote,
// until the parent kills it.
func runWriter(t *testing.T, s *file.Store) {
	ctx := context.Background()
	out := bufio.NewWriter(os.Stdout)
	for {
		cur, err := s.Load(ctx, "k")
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		gen := cur.Record.Generation + 1
		if _, err := s.Replace(ctx, record("k", "writer", gen), cur.Version); err != nil {
			t.Fatalf("Replace: %v", err)
		}
		fmt.Fprintf(out, "wrote %d\n", gen)
		out.Flush()
	}
}
