package file_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redlease/redlease/internal/testclock"
	"github.com/redlease/redlease/pkg/backend/file"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/sweep"
	"github.com/redlease/redlease/pkg/sweep/sweeptest"
)

// A symlink where a record should be, a symlinked directory and a FIFO
// named like a record, all in the middle of the tree, are each counted and
// logged by name; nothing is followed or opened, and every record around
// them is swept, on the same page.
func TestLinksAndSpecialFilesDoNotStopTheSweep(t *testing.T) {
	t.Parallel()
	dir, outside := t.TempDir(), t.TempDir()
	s := file.New(file.Options{Dir: dir})
	ctx := context.Background()
	for _, k := range []string{"a/1", "a/3", "b/1", "c/1", "d"} {
		r := record(k, "h", 1) // expires 2026-01-01T00:01:00Z, the sweep's now
		if _, err := s.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	tree := filepath.Join(dir, "leases")
	writeFile(t, filepath.Join(outside, "x.lease.json"), string(lease.EncodeRecord(record("a/2", "evil", 1))))
	symlink(t, filepath.Join(outside, "x.lease.json"), filepath.Join(tree, "a", "2.lease.json"))
	mkdirs(t, filepath.Join(outside, "sub"))
	writeFile(t, filepath.Join(outside, "sub", "k.lease.json"), string(lease.EncodeRecord(record("b/link/k", "evil", 1))))
	symlink(t, filepath.Join(outside, "sub"), filepath.Join(tree, "b", "link"))
	if err := syscall.Mkfifo(filepath.Join(tree, "c", "0.lease.json"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}

	var logs bytes.Buffer
	pub := &sweeptest.Recorder{}
	sw, err := sweep.New(sweep.Config{Store: s, Publisher: pub, Now: testclock.New(testclock.Epoch.Add(time.Minute)).Now,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	res, err := sw.Run(ctx)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Reported != 5 || res.Unreadable != 3 || res.Pages != 1 || res.CyclesCompleted != 1 {
		t.Fatalf("result %+v, want the 5 records reported and 3 unreadable on one page", res)
	}
	for _, name := range []string{`"database_key":"a/2"`, `"database_key":"b/link"`, `"database_key":"c/0"`, "named pipe", "symlink"} {
		if !strings.Contains(logs.String(), name) {
			t.Errorf("logs lack %s:\n%s", name, logs.String())
		}
	}
	for k := range pub.Keys() {
		if k == "a/2" || strings.HasPrefix(k, "b/link") {
			t.Errorf("%s, behind a link, was reported", k)
		}
	}
	// Nothing outside the data dir was written.
	if data, err := os.ReadFile(filepath.Join(outside, "x.lease.json")); err != nil || strings.Contains(string(data), "expiry_reported_ms") {
		t.Errorf("the link's target was touched: %s, %v", data, err)
	}
}
