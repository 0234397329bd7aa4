package file_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/redlease/redlease/pkg/backend/file"
	"github.com/redlease/redlease/pkg/lease"
)

// TestLeftoverTempFilesAreIgnored lays out what a crash before the rename
// leaves behind: the old record next to a complete, a partial and an empty
// temporary file. Load and List must see only the old record, and the next
// write must succeed.
func TestLeftoverTempFilesAreIgnored(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := file.New(file.Options{Dir: dir})
	ctx := context.Background()
	old := record("a/k", "old", 1)
	v1, err := s.Create(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	newer := string(lease.EncodeRecord(record("a/k", "new", 2)))
	leftovers := map[string]string{
		"a/.redlease-00000000000000000000000000000001.tmp": newer,
		"a/.redlease-00000000000000000000000000000002.tmp": newer[:len(newer)/2],
		"a/.redlease-00000000000000000000000000000003.tmp": "",
		"b/.redlease-00000000000000000000000000000004.tmp": newer, // a Create that never landed
	}
	for name, data := range leftovers {
		writeFile(t, filepath.Join(dir, "leases", filepath.FromSlash(name)), data)
	}

	got, err := s.Load(ctx, "a/k")
	if err != nil || got.Record != old || got.Version != v1 {
		t.Fatalf("Load = %+v, %v; want the old record at %s", got, err, v1)
	}
	if _, err := s.Load(ctx, "b/k"); !errors.Is(err, lease.ErrNotFound) {
		t.Fatalf("Load of a key with only a temporary file = %v, want ErrNotFound", err)
	}
	page, err := s.List(ctx, "", 10)
	if err != nil || len(page.Entries) != 1 || page.Entries[0].Key != "a/k" {
		t.Fatalf("List = %+v, %v; want only the old record", page, err)
	}
	next := record("a/k", "next", 3)
	if _, err := s.Replace(ctx, next, v1); err != nil {
		t.Fatalf("Replace after a crash: %v", err)
	}
	if _, err := s.Create(ctx, record("b/k", "b", 1)); err != nil {
		t.Fatalf("Create next to a leftover: %v", err)
	}
	if got := decodeFile(t, dir, "a/k"); got != next {
		t.Fatalf("file holds %+v, want %+v", got, next)
	}
}

// TestKilledWriterLeavesWholeRecord kills a writer process at arbitrary
// points of its write loop. Every time, the record on disk must be whole,
// be the last generation the writer reported or the one in flight, and the
// key must not stay locked: the kernel drops a dead process's flock.
func TestKilledWriterLeavesWholeRecord(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	t.Parallel()
	dir := t.TempDir()
	s, err := file.Open(file.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.Create(ctx, record("k", "parent", 1)); err != nil {
		t.Fatal(err)
	}
	for kill := range 5 {
		cmd := child(t, "writer", dir)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(stdout)
		var reported uint64
		for n := 0; n < 10+7*kill && lines.Scan(); n++ {
			if _, err := fmt.Sscanf(lines.Text(), "wrote %d", &reported); err != nil {
				t.Fatalf("writer said %q", lines.Text())
			}
		}
		if reported == 0 {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("writer reported nothing: %s", stderr.String())
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		// The writer ran on while we read: what it reported before dying is
		// still in the pipe. The last of it is the last completed write.
		for lines.Scan() {
			if _, err := fmt.Sscanf(lines.Text(), "wrote %d", &reported); err != nil {
				break // a line cut short by the kill
			}
		}
		_ = cmd.Wait() // "signal: killed"

		got, err := s.Load(ctx, "k")
		if err != nil {
			t.Fatalf("kill %d: Load after the kill: %v", kill, err)
		}
		if g := got.Record.Generation; g < reported || g > reported+1 {
			t.Fatalf("kill %d: generation %d on disk, writer reported %d", kill, g, reported)
		}
		decodeFile(t, dir, "k")
		// The lock died with the writer: a write now succeeds at once.
		if _, err := s.Replace(ctx, record("k", "parent", got.Record.Generation+1), got.Version); err != nil {
			t.Fatalf("kill %d: Replace after the kill: %v", kill, err)
		}
	}
	keys, _ := listAll(t, s, "", 10)
	if !slices.Equal(keys, []string{"k"}) {
		t.Fatalf("List after the kills = %q, want only k", keys)
	}
	var temps int
	for _, f := range filesUnder(t, filepath.Join(dir, "leases")) {
		if strings.HasSuffix(f, ".tmp") {
			temps++
		}
	}
	t.Logf("temporary files left by 5 kills: %d", temps)
}

// TestConcurrentStoresOnOneDirectory has two Store values (as two processes
// would, but with the race detector watching) write the same key.
func TestConcurrentStoresOnOneDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, b := file.New(file.Options{Dir: dir}), file.New(file.Options{Dir: dir})
	ctx := context.Background()
	if _, err := a.Create(ctx, record("k", "a", 1)); err != nil {
		t.Fatal(err)
	}
	const perStore = 40
	errs := make(chan error, 2)
	wins := make(chan int, 2)
	for _, s := range []*file.Store{a, b} {
		go func() {
			n := 0
			for range perStore {
				cur, err := s.Load(ctx, "k")
				if err != nil {
					errs <- err
					return
				}
				_, err = s.Replace(ctx, record("k", "x", cur.Record.Generation+1), cur.Version)
				switch {
				case err == nil:
					n++
				case !errors.Is(err, lease.ErrPrecondition):
					errs <- err
					return
				}
			}
			wins <- n
			errs <- nil
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	total := <-wins + <-wins
	if got := decodeFile(t, dir, "k").Generation; got != uint64(1+total) {
		t.Fatalf("generation %d after %d successful increments from 1: a lost update", got, total)
	}
}
