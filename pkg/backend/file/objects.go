package file

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/objects"
)

// Objects stores RedDB's objects in a directory, laid out like the bucket:
// object key K is the file DIR/K. It shares DIR with the lease Store (whose
// records live under the lease prefix, which Objects refuses) and its lock
// directory. It streams: a body goes through a fixed buffer into a
// temporary file in DIR/.redlease-staging/, which is fsynced and renamed
// over the object, so memory stays bounded whatever the object's size, a
// crash leaves the old object or the new one, never a torn one, and a
// write that does not commit leaves nothing behind.
//
// ETags come from the file's inode, size and modification time, and the
// commit gives every new version of a key a modification time later than
// the one it replaces, so an ETag never comes back for another version
// even when the file system reuses the inode (see commitTime). Reading an
// ETag costs one stat, not a pass over a large file.
//
// Writes of one key are serialised by the same two locks the lease Store
// uses (in-process, then flock(2) on a file in DIR/.redlease-locks/), held
// only for the commit, not while a body arrives. Reads take no lock. It is
// safe for concurrent use by many goroutines and processes.
type Objects struct {
	dir      string
	reserved string
	now      func() time.Time
	keys     keyLocks
}

// ObjectsOptions configure an Objects store.
type ObjectsOptions struct {
	// Dir is the data directory; it is required and created when missing.
	Dir string
	// Reserved is a key prefix the store refuses, the lease Store's
	// prefix: its records are written only by the lease service.
	Reserved string
	// Now is the clock that stamps commits; time.Now when nil.
	Now func() time.Time
}

var _ = objectsAPI((*Objects)(nil))

// objectsAPI is the method set the RedDB face consumes (kept here so a
// change of signature shows in this package's build).
type objectsAPI interface {
	Head(ctx context.Context, key string) (objects.Info, error)
	Get(ctx context.Context, key string) (io.ReadCloser, objects.Info, error)
	Put(ctx context.Context, key string, body io.Reader, size int64, opts objects.PutOptions) (objects.Info, error)
	Delete(ctx context.Context, key string, cond objects.Condition) error
	List(ctx context.Context, prefix string, fn func(key string) error) error
}

// stagingDirName holds the bodies of writes in flight, on the same file
// system as the objects so that the commit is a rename. Its name starts
// with objects.ReservedSegmentPrefix, so no key reaches it.
const stagingDirName = ".redlease-staging"

// copyBufferBytes is the buffer a body streams through.
const copyBufferBytes = 256 << 10

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, copyBufferBytes); return &b }}

// OpenObjects checks the options, creates the data and lock directories as
// needed and returns the store.
func OpenObjects(opts ObjectsOptions) (*Objects, error) {
	if opts.Dir == "" {
		return nil, errors.New("file objects: no data directory")
	}
	if opts.Reserved != "" && !strings.HasSuffix(opts.Reserved, "/") {
		return nil, fmt.Errorf("file objects: reserved prefix %q must end in '/'", opts.Reserved)
	}
	if err := os.MkdirAll(opts.Dir, dirPerm); err != nil {
		return nil, fmt.Errorf("file objects: create data dir: %w", err)
	}
	s := &Objects{dir: opts.Dir, reserved: opts.Reserved, now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}
	root, err := s.openRoot()
	if err != nil {
		return nil, err
	}
	defer root.Close()
	for _, name := range []string{lockDirName, stagingDirName} {
		d, err := openDirs(root, []string{name}, true)
		if err != nil {
			return nil, fmt.Errorf("file objects: directory %s in %q: %w", name, opts.Dir, err)
		}
		d.Close()
	}
	return s, nil
}

// Dir returns the data directory.
func (s *Objects) Dir() string { return s.dir }

func (s *Objects) openRoot() (*os.Root, error) {
	root, err := os.OpenRoot(s.dir)
	if err != nil {
		return nil, unavailable(fmt.Errorf("data dir: %w", err))
	}
	return root, nil
}

// objectFile locates one object.
type objectFile struct {
	key  string
	dirs []string
	base string
	lock objectPath // the names lockKey takes
}

func (s *Objects) pathOf(key string) (objectFile, error) {
	if err := objects.ValidateKey(key); err != nil {
		return objectFile{}, err
	}
	if s.reserved != "" && strings.HasPrefix(key, s.reserved) {
		return objectFile{}, &lease.InvalidError{Field: objects.FieldKey,
			Reason: "is under the prefix " + strconv.Quote(s.reserved) + ", where only lease records live"}
	}
	segs := strings.Split(key, "/")
	sum := sha256.Sum256([]byte("object\x00" + key))
	return objectFile{
		key:  key,
		dirs: segs[:len(segs)-1],
		base: segs[len(segs)-1],
		lock: objectPath{object: "object\x00" + key, lock: "o" + hex.EncodeToString(sum[:]) + ".lock"},
	}, nil
}

// begin is the common start of every call.
func (s *Objects) begin(ctx context.Context, key string) (objectFile, *os.Root, error) {
	if err := ctx.Err(); err != nil {
		return objectFile{}, nil, lease.Unavailable(err, 0)
	}
	p, err := s.pathOf(key)
	if err != nil {
		return objectFile{}, nil, err
	}
	root, err := s.openRoot()
	if err != nil {
		return objectFile{}, nil, err
	}
	return p, root, nil
}

// openParent opens the object's directory. Where a directory of the key
// is missing, or is an object itself, the object does not exist.
func openParent(root *os.Root, p objectFile) (*os.Root, error) {
	dir, err := openDirs(root, p.dirs, false)
	if errors.Is(err, errAbsent) || errors.Is(err, errNotDirectory) {
		return nil, lease.ErrNotFound
	}
	return dir, err
}

// statObject describes the object file name in dir, nil when there is no
// object by that name (nothing, or a directory of other objects).
func statObject(dir *os.Root, name string) (*objects.Info, os.FileInfo, error) {
	fi, err := dir.Lstat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil, nil
	case err != nil:
		return nil, nil, unavailable(err)
	case fi.IsDir():
		return nil, fi, nil
	case fi.Mode()&fs.ModeSymlink != 0:
		return nil, nil, corruptf("object %q is a symlink", name)
	case !fi.Mode().IsRegular():
		return nil, nil, corruptf("object %q is not a regular file", name)
	}
	info := infoOf(fi)
	return &info, fi, nil
}

// infoOf derives the ETag of a stored object from its inode, size and
// modification time.
func infoOf(fi os.FileInfo) objects.Info {
	var ino uint64
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		ino = st.Ino
	}
	mtime := fi.ModTime().UnixNano()
	return objects.Info{
		ETag: lease.NewVersion(strconv.FormatUint(ino, 16) + "-" + strconv.FormatInt(mtime, 16) + "-" + strconv.FormatInt(fi.Size(), 16)),
		Size: fi.Size(),
	}
}

// Head returns the object's Info with one stat.
func (s *Objects) Head(ctx context.Context, key string) (objects.Info, error) {
	info, err := s.head(ctx, key)
	if err != nil {
		return objects.Info{}, fmt.Errorf("head %q: %w", key, err)
	}
	return info, nil
}

func (s *Objects) head(ctx context.Context, key string) (objects.Info, error) {
	p, root, err := s.begin(ctx, key)
	if err != nil {
		return objects.Info{}, err
	}
	defer root.Close()
	dir, err := openParent(root, p)
	if err != nil {
		return objects.Info{}, err
	}
	defer dir.Close()
	info, _, err := statObject(dir, p.base)
	if err != nil {
		return objects.Info{}, err
	}
	if info == nil {
		return objects.Info{}, lease.ErrNotFound
	}
	return *info, nil
}

// Get opens the object for reading. The reader keeps the version it opened
// even if the object is replaced meanwhile; the caller closes it.
func (s *Objects) Get(ctx context.Context, key string) (io.ReadCloser, objects.Info, error) {
	f, info, err := s.get(ctx, key)
	if err != nil {
		return nil, objects.Info{}, fmt.Errorf("get %q: %w", key, err)
	}
	return f, info, nil
}

func (s *Objects) get(ctx context.Context, key string) (*os.File, objects.Info, error) {
	p, root, err := s.begin(ctx, key)
	if err != nil {
		return nil, objects.Info{}, err
	}
	defer root.Close()
	dir, err := openParent(root, p)
	if err != nil {
		return nil, objects.Info{}, err
	}
	defer dir.Close()
	info, named, err := statObject(dir, p.base)
	if err != nil {
		return nil, objects.Info{}, err
	}
	if info == nil {
		return nil, objects.Info{}, lease.ErrNotFound
	}
	// O_NONBLOCK: a FIFO swapped in after the Lstat must not hang the open.
	f, err := dir.OpenFile(p.base, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, objects.Info{}, lease.ErrNotFound // deleted in between
	}
	if err != nil {
		return nil, objects.Info{}, unavailable(err)
	}
	opened, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, objects.Info{}, unavailable(err)
	}
	if !opened.Mode().IsRegular() {
		f.Close()
		return nil, objects.Info{}, corruptf("object %q is not a regular file", p.base)
	}
	if !os.SameFile(opened, named) {
		// Replaced between the stat and the open. A later complete version
		// is fine (it is described by its own stat); anything that is not
		// the regular file now under the name (a swapped-in symlink) is not.
		if now, err := dir.Lstat(p.base); err != nil || !now.Mode().IsRegular() || !os.SameFile(opened, now) {
			f.Close()
			return nil, objects.Info{}, unavailable(fmt.Errorf("object %q changed while being opened", p.base))
		}
	}
	return f, infoOf(opened), nil
}
