package file_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/redlease/redlease/pkg/backend/file"
	"github.com/redlease/redlease/pkg/lease"
)

// symlinkCase builds a tree where one step of the path of key "a/k" is a
// symlink, either to somewhere outside the data dir or to a sibling inside.
type symlinkCase struct {
	name  string
	setup func(t *testing.T, dir, outside string)
	// wholeTree: the link is the prefix directory itself, so there is no
	// tree to list and List fails as a whole.
	wholeTree bool
}

var symlinkCases = []symlinkCase{
	{"prefix dir links outside", func(t *testing.T, dir, outside string) {
		mkdirs(t, filepath.Join(outside, "a"))
		writeFile(t, filepath.Join(outside, "a", "k.lease.json"), string(lease.EncodeRecord(record("a/k", "evil", 1))))
		symlink(t, outside, filepath.Join(dir, "leases"))
	}, true},
	{"key dir links outside", func(t *testing.T, dir, outside string) {
		writeFile(t, filepath.Join(outside, "k.lease.json"), string(lease.EncodeRecord(record("a/k", "evil", 1))))
		mkdirs(t, filepath.Join(dir, "leases"))
		symlink(t, outside, filepath.Join(dir, "leases", "a"))
	}, false},
	{"key dir links inside", func(t *testing.T, dir, _ string) {
		writeFile(t, filepath.Join(dir, "leases", "b", "k.lease.json"), string(lease.EncodeRecord(record("a/k", "alias", 1))))
		symlink(t, "b", filepath.Join(dir, "leases", "a"))
	}, false},
	{"record links outside", func(t *testing.T, dir, outside string) {
		writeFile(t, filepath.Join(outside, "k.lease.json"), string(lease.EncodeRecord(record("a/k", "evil", 1))))
		mkdirs(t, filepath.Join(dir, "leases", "a"))
		symlink(t, filepath.Join(outside, "k.lease.json"), filepath.Join(dir, "leases", "a", "k.lease.json"))
	}, false},
	{"record links inside", func(t *testing.T, dir, _ string) {
		writeFile(t, filepath.Join(dir, "leases", "a", "real"), string(lease.EncodeRecord(record("a/k", "alias", 1))))
		symlink(t, "real", filepath.Join(dir, "leases", "a", "k.lease.json"))
	}, false},
}

func mkdirs(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(path, 0o755); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func TestSymlinksAreRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range symlinkCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir, outside := t.TempDir(), t.TempDir()
			tc.setup(t, dir, outside)
			s := file.New(file.Options{Dir: dir})
			ctx := context.Background()
			if v, err := s.Load(ctx, "a/k"); !errors.Is(err, lease.ErrCorrupt) {
				t.Errorf("Load = %+v, %v; want ErrCorrupt", v, err)
			}
			if _, err := s.Create(ctx, record("a/k", "h", 2)); !errors.Is(err, lease.ErrCorrupt) {
				t.Errorf("Create = %v, want ErrCorrupt", err)
			}
			if _, err := s.Replace(ctx, record("a/k", "h", 2), `"any"`); !errors.Is(err, lease.ErrCorrupt) {
				t.Errorf("Replace = %v, want ErrCorrupt", err)
			}
			// The listing names the link as unreadable, never follows it,
			// and lists no a/k: the sweep counts it and goes on.
			page, err := s.List(ctx, "", 10)
			switch {
			case tc.wholeTree:
				if !errors.Is(err, lease.ErrCorrupt) {
					t.Errorf("List through a linked prefix = %+v, %v; want ErrCorrupt", page, err)
				}
			case err != nil:
				t.Errorf("List = %v, want the link reported in the page", err)
			default:
				for _, e := range page.Entries {
					if e.Key == "a/k" {
						t.Errorf("List returned a/k through a link: %+v", e)
					}
				}
				if len(page.Unreadable) != 1 || !errors.Is(page.Unreadable[0].Err, lease.ErrCorrupt) ||
					(page.Unreadable[0].Key != "a" && page.Unreadable[0].Key != "a/k") {
					t.Errorf("List unreadable = %+v, want the link (a or a/k) as corrupt", page.Unreadable)
				}
			}
			// Nothing was written outside the data dir.
			if files := filesUnder(t, outside); len(files) > 1 {
				t.Errorf("files appeared outside the data dir: %q", files)
			}
		})
	}
}

func TestOpenRefusesSymlinkedPrefix(t *testing.T) {
	t.Parallel()
	dir, outside := t.TempDir(), t.TempDir()
	symlink(t, outside, filepath.Join(dir, "leases"))
	if _, err := file.Open(file.Options{Dir: dir}); !errors.Is(err, lease.ErrCorrupt) {
		t.Fatalf("Open = %v, want ErrCorrupt", err)
	}
}

func TestDataDirMayBeASymlink(t *testing.T) {
	t.Parallel()
	real := t.TempDir()
	link := filepath.Join(t.TempDir(), "data")
	symlink(t, real, link)
	s, err := file.Open(file.Options{Dir: link})
	if err != nil {
		t.Fatalf("Open through a symlinked data dir: %v", err)
	}
	if _, err := s.Create(context.Background(), record("k", "h", 1)); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if _, err := os.Stat(filepath.Join(real, "leases", "k.lease.json")); err != nil {
		t.Fatalf("record not in the link's target: %v", err)
	}
}

func TestSpecialFileIsCorrupt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mkdirs(t, filepath.Join(dir, "leases"))
	if err := syscall.Mkfifo(filepath.Join(dir, "leases", "k.lease.json"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	s := file.New(file.Options{Dir: dir})
	if _, err := s.Load(context.Background(), "k"); !errors.Is(err, lease.ErrCorrupt) {
		t.Errorf("Load of a FIFO = %v, want ErrCorrupt", err)
	}
	page, err := s.List(context.Background(), "", 10)
	if err != nil || len(page.Entries) != 0 || len(page.Unreadable) != 1 || page.Unreadable[0].Key != "k" ||
		!errors.Is(page.Unreadable[0].Err, lease.ErrCorrupt) || !strings.Contains(page.Unreadable[0].Err.Error(), "named pipe") {
		t.Errorf("List over a FIFO = %+v, %v; want k unreadable as a named pipe", page, err)
	}
}

func TestKeyDirectoryThatIsAFileIsCorrupt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "leases", "a"), "not a directory")
	s := file.New(file.Options{Dir: dir})
	if _, err := s.Create(context.Background(), record("a/k", "h", 1)); !errors.Is(err, lease.ErrCorrupt) {
		t.Errorf("Create = %v, want ErrCorrupt", err)
	}
}
