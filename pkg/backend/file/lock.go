package file

import (
	"context"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/redlease/redlease/pkg/lease"
)

// Polling bounds for a lock another process holds. flock(2) cannot be
// interrupted by a context, so the store polls with LOCK_NB instead of
// blocking; a holder keeps the lock for one read, one write and two fsyncs.
const (
	minLockPoll = 100 * time.Microsecond
	maxLockPoll = 10 * time.Millisecond
)

// keyLocks serialises the goroutines of one Store per key, so that only one
// of them at a time holds a lock file open and polls flock.
type keyLocks struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	token chan struct{} // holds one value while the key is locked
	refs  int           // holders and waiters; the entry goes at zero
}

func (l *keyLocks) acquire(ctx context.Context, name string) (release func(), err error) {
	l.mu.Lock()
	if l.m == nil {
		l.m = make(map[string]*keyLock)
	}
	k := l.m[name]
	if k == nil {
		k = &keyLock{token: make(chan struct{}, 1)}
		l.m[name] = k
	}
	k.refs++
	l.mu.Unlock()
	if err := ctx.Err(); err != nil {
		l.unref(name, k)
		return nil, err
	}
	select {
	case k.token <- struct{}{}:
		return func() { <-k.token; l.unref(name, k) }, nil
	case <-ctx.Done():
		l.unref(name, k)
		return nil, ctx.Err()
	}
}

func (l *keyLocks) unref(name string, k *keyLock) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if k.refs--; k.refs == 0 {
		delete(l.m, name)
	}
}

// lockKey takes the in-process and the cross-process lock of one record and
// returns the function that releases both.
func (s *Store) lockKey(ctx context.Context, root *os.Root, p objectPath) (unlock func(), err error) {
	return takeLocks(ctx, &s.keys, root, p)
}

// takeLocks takes p's in-process lock in locks, then the flock on its lock
// file, and returns the function that releases both.
func takeLocks(ctx context.Context, locks *keyLocks, root *os.Root, p objectPath) (unlock func(), err error) {
	release, err := locks.acquire(ctx, p.object)
	if err != nil {
		return nil, lease.Unavailable(err, 0)
	}
	f, err := openLockFile(root, p.lock)
	if err != nil {
		release()
		return nil, err
	}
	if err := flockWait(ctx, f); err != nil {
		f.Close()
		release()
		return nil, err
	}
	return func() {
		f.Close() // closing the only descriptor drops the flock
		release()
	}, nil
}

// openLockFile opens (creating) a lock file, refusing one that is a symlink
// or anything but a regular file: the lock file is never replaced, so the
// inode opened must be the inode that Lstat sees under that name. Such a
// lock file is corruption (someone replaced it), never a reason to retry:
// it is refused before the open, which would follow a link (and fail for
// one leading out of DIR, over and over).
func openLockFile(root *os.Root, name string) (*os.File, error) {
	dir, err := openDirs(root, []string{lockDirName}, true)
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	switch fi, err := dir.Lstat(name); {
	case errors.Is(err, fs.ErrNotExist): // created below
	case err != nil:
		return nil, unavailable(err)
	case !fi.Mode().IsRegular():
		return nil, badLockFile(name, fi.Mode())
	}
	f, err := dir.OpenFile(name, os.O_RDWR|os.O_CREATE, filePerm)
	if err != nil {
		return nil, unavailable(err)
	}
	opened, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, unavailable(err)
	}
	named, err := dir.Lstat(name)
	if err != nil {
		f.Close()
		return nil, unavailable(err)
	}
	if !os.SameFile(opened, named) || !named.Mode().IsRegular() {
		f.Close()
		return nil, badLockFile(name, named.Mode())
	}
	return f, nil
}

// badLockFile says what is wrong with a lock file and what to do.
func badLockFile(name string, mode fs.FileMode) error {
	what := "not a regular file (" + mode.Type().String() + ")"
	if mode&fs.ModeSymlink != 0 {
		what = "a symlink"
	}
	return corruptf("lock file %s/%s is %s: the lock directory must hold only the store's own regular files; "+
		"remove it (the store creates it again) and check what replaced it", lockDirName, name, what)
}

// flockWait takes an exclusive flock on f, polling so that ctx can end the
// wait.
func flockWait(ctx context.Context, f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return unavailable(err)
	}
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for delay := minLockPoll; ; delay = min(2*delay, maxLockPoll) {
		var ferr error
		if err := rc.Control(func(fd uintptr) {
			ferr = syscall.Flock(int(fd), syscall.LOCK_EX|syscall.LOCK_NB)
		}); err != nil {
			return unavailable(err)
		}
		switch {
		case ferr == nil:
			return nil
		case !errors.Is(ferr, syscall.EWOULDBLOCK) && !errors.Is(ferr, syscall.EINTR):
			return unavailable(&os.PathError{Op: "flock", Path: f.Name(), Err: ferr})
		}
		// Jitter keeps processes that lost together from polling in step.
		wait := delay/2 + rand.N(delay)
		if timer == nil {
			timer = time.NewTimer(wait)
		} else {
			timer.Reset(wait)
		}
		select {
		case <-timer.C:
		case <-ctx.Done():
			return lease.Unavailable(ctx.Err(), 0)
		}
	}
}
