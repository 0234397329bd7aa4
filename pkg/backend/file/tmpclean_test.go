package file_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/redlease/redlease/pkg/backend/file"
	"github.com/redlease/redlease/pkg/lease"
)

// TestOpenRemovesStaleTemps leaves temporary files of every age in the
// record tree, and others that only look like them, and opens the store
// at a fixed time: only the temporary files a minute old or more go.
func TestOpenRemovesStaleTemps(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	dir, outside := t.TempDir(), t.TempDir()
	files := []struct {
		rel  string
		age  time.Duration
		gone bool
	}{
		{"leases/.redlease-0123456789abcdef0123456789abcdef.tmp", time.Hour, true},
		{"leases/clusters/dev/.redlease-aa.tmp", time.Minute, true},
		{"leases/clusters/dev/.redlease-bb.tmp", time.Minute - time.Millisecond, false}, // a write may be under way
		{"leases/clusters/dev/.redlease-cc.tmp", -time.Hour, false},                     // from the future: not provably stale
		{"leases/clusters/dev/data.rdb.lease.json", time.Hour, false},
		{"leases/clusters/dev/notes.tmp", time.Hour, false},
		{"leases/clusters/dev/.redlease-.tmp", time.Hour, false}, // no random part: not ours
		{"elsewhere/.redlease-dd.tmp", time.Hour, false},         // outside the record tree
	}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		data := []byte("partial")
		if filepath.Ext(p) == ".json" {
			data = lease.EncodeRecord(record("clusters/dev/data.rdb", "h", 1))
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		mtime := now.Add(-f.age)
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	// A link named like a temporary file, to a stale file outside: neither
	// the link's target nor the link is touched.
	target := filepath.Join(outside, "victim")
	if err := os.WriteFile(target, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	old := now.Add(-time.Hour)
	if err := os.Chtimes(target, old, old); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "leases", ".redlease-ee.tmp")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}

	s, err := file.Open(file.Options{Dir: dir, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.RemovedTemps(); got != 2 {
		t.Errorf("RemovedTemps() = %d, want 2", got)
	}
	for _, f := range files {
		_, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(f.rel)))
		if gone := os.IsNotExist(err); gone != f.gone {
			t.Errorf("%s (%v old): gone = %v, want %v", f.rel, f.age, gone, f.gone)
		}
	}
	for _, p := range []string{link, target} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s: %v, want it left alone", p, err)
		}
	}
	if _, err := s.Load(context.Background(), "clusters/dev/data.rdb"); err != nil {
		t.Errorf("the record next to the removed file: %v", err)
	}
}
