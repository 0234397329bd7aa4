package file_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/redlease/redlease/pkg/backend/backendtest"
	"github.com/redlease/redlease/pkg/backend/file"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/objects"
	"github.com/redlease/redlease/pkg/objects/objectstest"
)

func TestObjectsConformance(t *testing.T) {
	t.Parallel()
	objectstest.Run(t, func(t *testing.T) objectstest.Store {
		s, err := file.OpenObjects(file.ObjectsOptions{Dir: t.TempDir(), Reserved: "leases/"})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, objectstest.Options{Reserved: "leases/"})
}

// Objects and the lease Store share one directory, as `redlease serve`
// runs them: listing objects never names a lease record, the lock
// directory or a temporary file, and objects are plain files at their key.
func TestObjectsShareTheDataDirectory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	leases, err := file.Open(file.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leases.Create(ctx, backendtest.Record("clusters/dev/data.rdb", "h", 1)); err != nil {
		t.Fatal(err)
	}
	objs, err := file.OpenObjects(file.ObjectsOptions{Dir: dir, Reserved: file.DefaultPrefix})
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("\x00\xffbinary")
	if _, err := objs.Put(ctx, "clusters/dev/data.rdb", bytes.NewReader(data), int64(len(data)), objects.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "clusters", "dev", ".redlease-0123.tmp"), []byte("leftover"), 0o600); err != nil {
		t.Fatal(err)
	}
	var keys []string
	if err := objs.List(ctx, "", func(k string) error { keys = append(keys, k); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys, []string{"clusters/dev/data.rdb"}) {
		t.Errorf("List(\"\") = %q, want only the data object", keys)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "clusters", "dev", "data.rdb")); err != nil || !bytes.Equal(got, data) {
		t.Errorf("object file holds %q (%v), want the bytes written", got, err)
	}
	if _, err := leases.Load(ctx, "clusters/dev/data.rdb"); err != nil {
		t.Errorf("lease record after object writes: %v", err)
	}
}

// Every write of a key gets a new ETag even when the bytes, the size and
// (after the file system recycles it) the inode are the same, so a stale
// If-Match can never match a later version.
func TestObjectsETagsNeverRepeat(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// A clock that never moves: the file system's own times cannot keep
	// the versions apart.
	frozen := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	objs, err := file.OpenObjects(file.ObjectsOptions{Dir: t.TempDir(), Now: func() time.Time { return frozen }})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[lease.Version]int{}
	for i := range 200 {
		info, err := objs.Put(ctx, "k", bytes.NewReader([]byte("same")), 4, objects.PutOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if j, dup := seen[info.ETag]; dup {
			t.Fatalf("write %d got the ETag %q of write %d", i, info.ETag, j)
		}
		seen[info.ETag] = i
	}
}

// A key that needs a directory where an object is (or names a directory
// of other objects) cannot be stored on a file system; it is refused as
// invalid and nothing changes.
func TestObjectsFileDirectoryConflicts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	objs, err := file.OpenObjects(file.ObjectsOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a/b", "c/d/e"} {
		if _, err := objs.Put(ctx, k, bytes.NewReader([]byte("x")), 1, objects.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"a/b/c", "c/d"} {
		_, err := objs.Put(ctx, k, bytes.NewReader([]byte("y")), 1, objects.PutOptions{})
		if !errors.Is(err, lease.ErrInvalid) {
			t.Errorf("Put(%q) = %v, want ErrInvalid", k, err)
		}
		if _, err := objs.Head(ctx, k); !errors.Is(err, lease.ErrNotFound) {
			t.Errorf("Head(%q) = %v, want ErrNotFound", k, err)
		}
	}
}

// A write that does not commit leaves nothing in the data directory, not
// even the directories of its key.
func TestObjectsRefusedWriteLeavesNoTrace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	objs, err := file.OpenObjects(file.ObjectsOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	before := tree(t, dir)
	refused := errors.New("fenced")
	_, err = objs.Put(context.Background(), "new/deep/data.rdb", bytes.NewReader([]byte("x")), 1, objects.PutOptions{
		BeforeCommit: func(context.Context) (time.Time, error) { return time.Time{}, refused },
	})
	if !errors.Is(err, refused) {
		t.Fatalf("Put = %v", err)
	}
	if _, err := objs.Put(context.Background(), "new/short", bytes.NewReader([]byte("x")), 5, objects.PutOptions{}); !errors.Is(err, lease.ErrInvalid) {
		t.Fatalf("short Put = %v", err)
	}
	if after := tree(t, dir); !slices.Equal(before, after) {
		t.Errorf("the data directory changed: %q, was %q", after, before)
	}
}

func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	if err := filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		out = append(out, p)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return out
}
