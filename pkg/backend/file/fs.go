package file

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
	"time"

	"github.com/redlease/redlease/pkg/lease"
)

const (
	// retryAfter is the hint sent with every file system failure.
	retryAfter = time.Second
	// maxRecordBytes bounds a read: a record is a few hundred bytes, so
	// anything much larger is not one and must not be slurped into memory.
	maxRecordBytes = 64 << 10
	dirPerm        = 0o755
	filePerm       = 0o644
)

// errAbsent is the internal signal for "no such record or directory"; the
// callers turn it into ErrNotFound, a precondition failure or an empty page.
var errAbsent = errors.New("absent")

// errNotDirectory marks a path where a directory was expected and something
// else (for the object store: another object) is; it comes wrapped with
// lease.ErrCorrupt for the lease records, where it can only be damage.
var errNotDirectory = errors.New("not a directory")

// unavailable wraps a file system failure.
func unavailable(err error) error { return lease.Unavailable(err, retryAfter) }

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{lease.ErrCorrupt}, args...)...)
}

// openChild opens the directory name inside parent, creating it when asked.
// It refuses a symlink, and checks that the directory it opened is the inode
// it inspected, so a link swapped in between is refused as well.
func openChild(parent *os.Root, name string, create bool) (*os.Root, error) {
	fi, err := parent.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) && create {
		switch err = parent.Mkdir(name, dirPerm); {
		case err == nil:
			// The new entry is durable only once its parent is synced.
			if err := syncDir(parent); err != nil {
				return nil, err
			}
		case !errors.Is(err, fs.ErrExist): // a concurrent creator is fine
			return nil, unavailable(err)
		}
		fi, err = parent.Lstat(name)
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, errAbsent
	case err != nil:
		return nil, unavailable(err)
	case fi.Mode()&fs.ModeSymlink != 0:
		return nil, corruptf("%q is a symlink", name)
	case !fi.IsDir():
		return nil, fmt.Errorf("%w: %w", errNotDirectory, corruptf("%q is not a directory", name))
	}
	child, err := parent.OpenRoot(name)
	if err != nil {
		return nil, unavailable(err)
	}
	opened, err := child.Stat(".")
	if err != nil {
		child.Close()
		return nil, unavailable(err)
	}
	if !os.SameFile(fi, opened) {
		child.Close()
		return nil, corruptf("%q changed while being opened", name)
	}
	return child, nil
}

// openDirs walks from root down the names, one checked step at a time. The
// caller closes the result (never root itself).
func openDirs(root *os.Root, names []string, create bool) (*os.Root, error) {
	cur, err := root.OpenRoot(".")
	if err != nil {
		return nil, unavailable(err)
	}
	for _, name := range names {
		next, err := openChild(cur, name, create)
		cur.Close()
		if err != nil {
			if errors.Is(err, lease.ErrCorrupt) {
				return nil, fmt.Errorf("directory of the record: %w", err)
			}
			return nil, err
		}
		cur = next
	}
	return cur, nil
}

// readRecordFile returns the bytes of the record file name in dir, refusing
// anything but a regular file.
func readRecordFile(dir *os.Root, name string) ([]byte, error) {
	fi, err := dir.Lstat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, errAbsent
	case err != nil:
		return nil, unavailable(err)
	case fi.Mode()&fs.ModeSymlink != 0:
		return nil, corruptf("record %q is a symlink", name)
	case !fi.Mode().IsRegular():
		return nil, corruptf("record %q is not a regular file", name)
	}
	// O_NONBLOCK: a FIFO swapped in after the Lstat must not hang the open.
	f, err := dir.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errAbsent
	}
	if err != nil {
		return nil, unavailable(err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, unavailable(err)
	} else if !fi.Mode().IsRegular() {
		return nil, corruptf("record %q is not a regular file", name)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxRecordBytes+1))
	if err != nil {
		return nil, unavailable(err)
	}
	if len(data) > maxRecordBytes {
		return nil, corruptf("record %q is larger than %d bytes", name, maxRecordBytes)
	}
	return data, nil
}

// decodeVersioned decodes stored bytes read for key. A record that names
// another key is refused: the sweep acts on Record.DatabaseKey, so a copied
// or misplaced file must not make it touch a different lease.
func decodeVersioned(key string, data []byte) (lease.Versioned, error) {
	rec, err := lease.DecodeRecord(data)
	if err != nil {
		return lease.Versioned{}, err
	}
	if rec.DatabaseKey != key {
		return lease.Versioned{}, corruptf("record stored for %q names database_key %q", key, rec.DatabaseKey)
	}
	return lease.Versioned{Record: rec, Version: versionOf(data)}, nil
}

// writeAtomic replaces name in dir with data: temporary file, fsync, rename
// over, fsync the directory. An error after the rename means the write was
// applied but may not be durable, which ErrUnavailable's contract allows.
func writeAtomic(dir *os.Root, name string, data []byte) error {
	f, tmp, err := createTemp(dir)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = dir.Rename(tmp, name)
	}
	if err != nil {
		_ = dir.Remove(tmp) // best effort; a leftover is ignored anyway
		return unavailable(err)
	}
	return syncDir(dir)
}

// createTemp creates a new temporary file in dir, for writing.
func createTemp(dir *os.Root) (*os.File, string, error) {
	var (
		f   *os.File
		tmp string
		err error
	)
	for range 3 { // a clash of 128 random bits means a broken RNG; retry anyway
		tmp = tempName()
		f, err = dir.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		return nil, "", unavailable(err)
	}
	return f, tmp, nil
}

// tempName never ends in ".lease.json", so nothing mistakes it for a record.
func tempName() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return tempPrefix + hex.EncodeToString(b[:]) + tempSuffix
}

func syncDir(dir *os.Root) error {
	d, err := dir.Open(".")
	if err != nil {
		return unavailable(err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return unavailable(err)
	}
	return nil
}
