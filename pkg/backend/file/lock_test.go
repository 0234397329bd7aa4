package file

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redlease/redlease/pkg/lease"
)

func testRecord(key, holder string, generation uint64) lease.Record {
	return lease.Record{Lease: lease.Lease{
		DatabaseKey: key, HolderID: holder, Term: 1, Generation: generation,
		AcquiredAtMs: 1, ExpiresAtMs: 2,
	}}
}

// TestWriterWaitsForAnotherLockHolder holds the key's lock file through a
// descriptor of its own, as another process would, and checks that a write
// neither proceeds nor hangs past its context, then proceeds once the lock
// is dropped.
func TestWriterWaitsForAnotherLockHolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	v1, err := s.Create(ctx, testRecord("a/k", "first", 1))
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.pathOf("a/k")
	if err != nil {
		t.Fatal(err)
	}
	holder, err := os.OpenFile(filepath.Join(dir, lockDirName, p.lock), os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("the lock file is not where documented: %v", err)
	}
	defer holder.Close()
	if err := syscall.Flock(int(holder.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatalf("flock: %v", err)
	}

	short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	_, err = s.Replace(short, testRecord("a/k", "second", 2), v1)
	if !errors.Is(err, lease.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Replace while another descriptor holds the lock = %v, want ErrUnavailable wrapping the deadline", err)
	}
	if got, err := s.Load(ctx, "a/k"); err != nil || got.Version != v1 {
		t.Fatalf("the refused write changed the record: %+v, %v", got, err)
	}

	done := make(chan error, 1)
	go func() {
		_, err := s.Replace(ctx, testRecord("a/k", "second", 2), v1)
		done <- err
	}()
	if err := syscall.Flock(int(holder.Fd()), syscall.LOCK_UN); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Replace after the lock was dropped: %v", err)
	}
	if got, err := s.Load(ctx, "a/k"); err != nil || got.Record.HolderID != "second" {
		t.Fatalf("after the write: %+v, %v", got, err)
	}
}

func TestKeyLocksExcludeAndForget(t *testing.T) {
	t.Parallel()
	var l keyLocks
	ctx := context.Background()
	release, err := l.acquire(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	other, err := l.acquire(ctx, "other")
	if err != nil {
		t.Fatalf("a different key must not wait: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if _, err := l.acquire(short, "k"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second acquire of a held key = %v, want the deadline", err)
	}
	release()
	other()
	again, err := l.acquire(ctx, "k")
	if err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
	again()
	if n := len(l.m); n != 0 {
		t.Fatalf("%d key locks remain after every holder left, want 0", n)
	}
}

// TestReplacedLockFileIsCorrupt replaces the lock file of a key with a
// symlink (out of DIR, inside it, dangling), a directory or a FIFO: every
// write is refused as corrupt, saying what is wrong, never as unavailable
// (a retry would meet the same file for ever); once the entry is removed,
// the store makes the lock file again and writes.
func TestReplacedLockFileIsCorrupt(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, want string
		replace    func(t *testing.T, lockPath, outside string)
	}{
		{"symlink out of the data dir", "is a symlink", func(t *testing.T, lockPath, outside string) {
			mustSymlink(t, filepath.Join(outside, "x.lock"), lockPath)
		}},
		{"symlink inside the data dir", "is a symlink", func(t *testing.T, lockPath, _ string) {
			mustSymlink(t, "other.lock", lockPath)
		}},
		{"dangling symlink", "is a symlink", func(t *testing.T, lockPath, _ string) {
			mustSymlink(t, "nothing-here", lockPath)
		}},
		{"directory", "is not a regular file (d", func(t *testing.T, lockPath, _ string) {
			if err := os.Mkdir(lockPath, 0o755); err != nil {
				t.Fatal(err)
			}
		}},
		{"fifo", "is not a regular file (p", func(t *testing.T, lockPath, _ string) {
			if err := syscall.Mkfifo(lockPath, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir, outside := t.TempDir(), t.TempDir()
			if err := os.WriteFile(filepath.Join(outside, "x.lock"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := Open(Options{Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			v1, err := s.Create(ctx, testRecord("a/k", "first", 1))
			if err != nil {
				t.Fatal(err)
			}
			p, err := s.pathOf("a/k")
			if err != nil {
				t.Fatal(err)
			}
			lockPath := filepath.Join(dir, lockDirName, p.lock)
			if err := os.WriteFile(filepath.Join(dir, lockDirName, "other.lock"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(lockPath); err != nil {
				t.Fatal(err)
			}
			tc.replace(t, lockPath, outside)
			for range 2 { // the same answer every time
				_, err = s.Replace(ctx, testRecord("a/k", "second", 2), v1)
				if !errors.Is(err, lease.ErrCorrupt) || errors.Is(err, lease.ErrUnavailable) {
					t.Fatalf("Replace over a replaced lock file = %v, want ErrCorrupt and not ErrUnavailable", err)
				}
				if msg := err.Error(); !strings.Contains(msg, tc.want) || !strings.Contains(msg, lockDirName+"/"+p.lock) {
					t.Fatalf("error %q does not say that lock file %s %s", msg, p.lock, tc.want)
				}
			}
			if err := os.Remove(lockPath); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Replace(ctx, testRecord("a/k", "second", 2), v1); err != nil {
				t.Fatalf("Replace once the entry is gone = %v, want it written", err)
			}
		})
	}
}

func mustSymlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}
