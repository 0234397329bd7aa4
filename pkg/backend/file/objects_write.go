package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/objects"
)

// Put streams the body into a temporary file in DIR/.redlease-staging/,
// fsyncs it, asks opts.BeforeCommit, then, under the key's lock, makes the
// key's directories, checks opts.Condition and renames the file over the
// object. Memory use is one
// copy buffer whatever the size. A body that does not arrive whole, a
// refused condition or commit, and every failure before the rename leave
// the stored object as it was.
func (s *Objects) Put(ctx context.Context, key string, body io.Reader, size int64, opts objects.PutOptions) (objects.Info, error) {
	info, err := s.put(ctx, key, body, size, opts)
	if err != nil {
		return objects.Info{}, fmt.Errorf("put %q: %w", key, err)
	}
	return info, nil
}

func (s *Objects) put(ctx context.Context, key string, body io.Reader, size int64, opts objects.PutOptions) (objects.Info, error) {
	p, root, err := s.begin(ctx, key)
	if err != nil {
		return objects.Info{}, err
	}
	defer root.Close()
	// The body is staged in the staging directory, so that a write that is
	// refused or fails leaves nothing behind, not even the directories of
	// its key; they are made at the commit.
	staging, err := openDirs(root, []string{stagingDirName}, true)
	if err != nil {
		return objects.Info{}, err
	}
	defer staging.Close()
	tmp, err := stage(staging, body, size)
	if err != nil {
		return objects.Info{}, err
	}
	committed := false
	defer func() {
		if !committed {
			_ = staging.Remove(tmp) // best effort; a leftover is ignored by every read
		}
	}()

	if opts.BeforeCommit != nil {
		deadline, err := opts.BeforeCommit(ctx)
		if err != nil {
			return objects.Info{}, err
		}
		if !deadline.IsZero() {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, deadline)
			defer cancel()
		}
	}
	unlock, err := s.lockKey(ctx, root, p)
	if err != nil {
		return objects.Info{}, err
	}
	defer unlock()
	dir, err := openDirs(root, p.dirs, true)
	if errors.Is(err, errNotDirectory) {
		return objects.Info{}, &lease.InvalidError{Field: objects.FieldKey,
			Reason: "needs a directory where another object is stored (the file backend cannot hold both \"a\" and \"a/b\")"}
	}
	if err != nil {
		return objects.Info{}, err
	}
	defer dir.Close()
	cur, curFI, err := statObject(dir, p.base)
	if err != nil {
		return objects.Info{}, err
	}
	if cur == nil && curFI != nil {
		return objects.Info{}, &lease.InvalidError{Field: objects.FieldKey,
			Reason: "names a directory of other objects (the file backend cannot hold both \"a\" and \"a/b\")"}
	}
	if !opts.Condition.Holds(cur) {
		return objects.Info{}, &lease.PreconditionError{}
	}
	if err := commitTime(staging, tmp, curFI, s.now()); err != nil {
		return objects.Info{}, err
	}
	// The commit point: past the deadline nothing may become visible.
	if err := ctx.Err(); err != nil {
		return objects.Info{}, lease.Unavailable(err, 0)
	}
	if err := root.Rename(stagingDirName+"/"+tmp, p.key); err != nil {
		return objects.Info{}, unavailable(err)
	}
	committed = true
	if err := syncDir(dir); err != nil {
		return objects.Info{}, err // applied, maybe not durable: ErrUnavailable says so
	}
	if err := syncDir(staging); err != nil {
		return objects.Info{}, err
	}
	info, _, err := statObject(dir, p.base)
	if err != nil {
		return objects.Info{}, err
	}
	if info == nil {
		return objects.Info{}, unavailable(fmt.Errorf("object %q vanished after its commit", key))
	}
	return *info, nil
}

// stage writes the whole body to a new temporary file in dir, fsynced and
// closed, and returns its name; on failure nothing is left behind.
func stage(dir *os.Root, body io.Reader, size int64) (string, error) {
	f, tmp, err := createTemp(dir)
	if err != nil {
		return "", err
	}
	buf := copyBuffers.Get().(*[]byte)
	_, err = io.CopyBuffer(onlyWriter{f}, objects.NewBody(body, size), *buf)
	copyBuffers.Put(buf)
	var bodyErr *objects.BodyError
	switch {
	case errors.As(err, &bodyErr):
	case err != nil:
		err = unavailable(err)
	default:
		if err = f.Sync(); err != nil {
			err = unavailable(err)
		}
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = unavailable(cerr)
	}
	if err != nil {
		_ = dir.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

// onlyWriter hides *os.File's ReadFrom, so that io.CopyBuffer uses the
// bounded buffer instead of whatever the file's ReadFrom chooses.
type onlyWriter struct{ w io.Writer }

func (o onlyWriter) Write(p []byte) (int, error) { return o.w.Write(p) }

// commitTime stamps the staged file with a modification time later than
// the version it replaces (cur, nil when none), so that no two versions of
// one key share an ETag: the inode of a replaced version can be reused by
// a later one, but never together with its modification time. It checks
// that the file system kept the time it was given.
func commitTime(dir *os.Root, tmp string, cur os.FileInfo, now time.Time) error {
	after := time.Time{}
	if cur != nil {
		after = cur.ModTime()
	}
	want := now
	for _, step := range []time.Duration{time.Nanosecond, time.Second} {
		if !want.After(after) {
			want = after.Add(step)
		}
		if err := dir.Chtimes(tmp, want, want); err != nil {
			return unavailable(err)
		}
		fi, err := dir.Lstat(tmp)
		if err != nil {
			return unavailable(err)
		}
		if fi.ModTime().After(after) {
			return nil
		}
		want = after // coarse timestamps: try a whole second later
	}
	return unavailable(errors.New("the file system does not keep modification times precisely enough for ETags"))
}

// Delete removes the object under its lock. An unconditional delete of an
// absent object succeeds, as on S3; an If-Match that does not hold is a
// precondition failure. Emptied directories stay (they hold no object).
func (s *Objects) Delete(ctx context.Context, key string, cond objects.Condition) error {
	if err := s.delete(ctx, key, cond); err != nil {
		return fmt.Errorf("delete %q: %w", key, err)
	}
	return nil
}

func (s *Objects) delete(ctx context.Context, key string, cond objects.Condition) error {
	p, root, err := s.begin(ctx, key)
	if err != nil {
		return err
	}
	defer root.Close()
	unlock, err := s.lockKey(ctx, root, p)
	if err != nil {
		return err
	}
	defer unlock()
	dir, err := openParent(root, p)
	if errors.Is(err, lease.ErrNotFound) {
		return objects.CheckDelete(cond, nil)
	}
	if err != nil {
		return err
	}
	defer dir.Close()
	cur, _, err := statObject(dir, p.base)
	if err != nil {
		return err
	}
	if err := objects.CheckDelete(cond, cur); err != nil || cur == nil {
		return err
	}
	if err := dir.Remove(p.base); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return unavailable(err)
	}
	return syncDir(dir)
}

// lockKey takes the two locks of one object, as the lease Store does for
// a record.
func (s *Objects) lockKey(ctx context.Context, root *os.Root, p objectFile) (func(), error) {
	return takeLocks(ctx, &s.keys, root, p.lock)
}
