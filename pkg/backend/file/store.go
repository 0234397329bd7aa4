package file

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/redlease/redlease/pkg/lease"
)

var (
	_ lease.ListingStore     = (*Store)(nil)
	_ lease.ContentVersioner = (*Store)(nil)
)

// Store keeps lease records in a directory. It is safe for concurrent use,
// also by several processes (and several Stores) on the same directory. It
// holds no open files between calls and needs no Close.
type Store struct {
	dir        string
	prefix     string
	prefixDirs []string
	err        error // a bad option, returned by every call
	keys       keyLocks
	cleaned    int // stale temporary files Open removed
}

// Options configure a Store.
type Options struct {
	// Dir is the data directory (DIR below); it is required.
	Dir string
	// Prefix is the directory path under Dir that holds the records, as
	// the object key prefix does in the bucket. It must end in "/"; ""
	// means DefaultPrefix.
	Prefix string
	// Now is the clock Open compares temporary files' ages with; time.Now
	// when nil.
	Now func() time.Time
}

// New returns a store without touching the disk, for callers that cannot
// handle an error (tests). A bad option surfaces as the error of every
// call. opts.Dir must exist before the first call; Open creates it.
func New(opts Options) *Store {
	s := &Store{dir: opts.Dir, prefix: opts.Prefix}
	if s.prefix == "" {
		s.prefix = DefaultPrefix
	}
	s.prefixDirs, s.err = splitPrefix(s.prefix)
	if s.dir == "" {
		s.err = errors.New("file: no data directory")
	}
	return s
}

// Open checks the options, creates the data directory, the prefix
// directories and the lock directory as needed, removes the temporary
// files of writes that never finished (".redlease-*.tmp" a minute old or
// more, by opts.Now), and returns the store. It refuses a prefix tree that
// goes through a symlink.
func Open(opts Options) (*Store, error) {
	s := New(opts)
	if s.err != nil {
		return nil, s.err
	}
	if err := os.MkdirAll(s.dir, dirPerm); err != nil {
		return nil, fmt.Errorf("file: create data dir: %w", err)
	}
	root, err := s.openRoot()
	if err != nil {
		return nil, err
	}
	defer root.Close()
	for _, dirs := range [][]string{s.prefixDirs, {lockDirName}} {
		d, err := openDirs(root, dirs, true)
		if err != nil {
			return nil, fmt.Errorf("file: open %q in %q: %w", filepath.Join(dirs...), s.dir, err)
		}
		d.Close()
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	s.cleaned = removeStaleTemps(root, strings.Join(s.prefixDirs, "/"), now())
	return s, nil
}

// RemovedTemps returns how many leftover temporary files Open removed.
func (s *Store) RemovedTemps() int { return s.cleaned }

// Dir returns the data directory.
func (s *Store) Dir() string { return s.dir }

// Prefix returns the record prefix in force.
func (s *Store) Prefix() string { return s.prefix }

// RecordPath returns the file that holds (or would hold) the record of key,
// for operators and tests.
func (s *Store) RecordPath(key string) (string, error) {
	if s.err != nil {
		return "", s.err
	}
	p, err := s.pathOf(key)
	if err != nil {
		return "", err
	}
	return filepath.Join(s.dir, filepath.FromSlash(p.object)), nil
}

func (s *Store) openRoot() (*os.Root, error) {
	root, err := os.OpenRoot(s.dir)
	if err != nil {
		return nil, unavailable(fmt.Errorf("data dir: %w", err))
	}
	return root, nil
}

// begin is the common start of every call.
func (s *Store) begin(ctx context.Context) (*os.Root, error) {
	if err := ctx.Err(); err != nil {
		return nil, lease.Unavailable(err, 0)
	}
	if s.err != nil {
		return nil, s.err
	}
	return s.openRoot()
}

// Load implements lease.Store. It takes no lock: rename makes every read see
// one complete version.
func (s *Store) Load(ctx context.Context, key string) (lease.Versioned, error) {
	v, err := s.load(ctx, key)
	if err != nil {
		return lease.Versioned{}, fmt.Errorf("load %q: %w", key, err)
	}
	return v, nil
}

func (s *Store) load(ctx context.Context, key string) (lease.Versioned, error) {
	p, err := s.pathOf(key)
	if err != nil {
		return lease.Versioned{}, err
	}
	root, err := s.begin(ctx)
	if err != nil {
		return lease.Versioned{}, err
	}
	defer root.Close()
	dir, err := openDirs(root, p.dirs, false)
	if err != nil {
		return lease.Versioned{}, notFound(err)
	}
	defer dir.Close()
	data, err := readRecordFile(dir, p.base)
	if err != nil {
		return lease.Versioned{}, notFound(err)
	}
	return decodeVersioned(key, data)
}

func notFound(err error) error {
	if errors.Is(err, errAbsent) {
		return lease.ErrNotFound
	}
	return err
}

// Create implements lease.Store: it writes rec only if its key has no record.
func (s *Store) Create(ctx context.Context, rec lease.Record) (lease.Version, error) {
	v, err := s.write(ctx, rec, "")
	if err != nil {
		return "", fmt.Errorf("create %q: %w", rec.DatabaseKey, err)
	}
	return v, nil
}

// Replace implements lease.Store: it writes rec only if the stored record is
// at version expect.
func (s *Store) Replace(ctx context.Context, rec lease.Record, expect lease.Version) (lease.Version, error) {
	if expect == "" {
		return "", fmt.Errorf("replace %q: empty version", rec.DatabaseKey)
	}
	v, err := s.write(ctx, rec, expect)
	if err != nil {
		return "", fmt.Errorf("replace %q: %w", rec.DatabaseKey, err)
	}
	return v, nil
}

// write is the compare-and-swap: lock, read, compare, write, unlock. An
// empty expect means "create".
func (s *Store) write(ctx context.Context, rec lease.Record, expect lease.Version) (lease.Version, error) {
	create := expect == ""
	p, err := s.pathOf(rec.DatabaseKey)
	if err != nil {
		return "", err
	}
	root, err := s.begin(ctx)
	if err != nil {
		return "", err
	}
	defer root.Close()
	unlock, err := s.lockKey(ctx, root, p)
	if err != nil {
		return "", err
	}
	defer unlock()

	dir, err := openDirs(root, p.dirs, create)
	if errors.Is(err, errAbsent) { // Replace of a key whose directory is missing
		return "", &lease.PreconditionError{}
	}
	if err != nil {
		return "", err
	}
	defer dir.Close()
	cur, err := readRecordFile(dir, p.base)
	switch {
	case errors.Is(err, errAbsent):
		if !create {
			return "", &lease.PreconditionError{}
		}
	case err != nil:
		return "", err
	case create || versionOf(cur) != expect:
		return "", preconditionFailed(rec.DatabaseKey, cur)
	}
	data := lease.EncodeRecord(rec)
	if err := writeAtomic(dir, p.base, data); err != nil {
		return "", err
	}
	return versionOf(data), nil
}

// preconditionFailed reports what the store holds, read under the lock, so
// the service can re-decide without another read. Bytes that do not decode
// are left out; the service's next Load reports them as corrupt.
func preconditionFailed(key string, cur []byte) error {
	v, err := decodeVersioned(key, cur)
	if err != nil {
		return &lease.PreconditionError{}
	}
	return &lease.PreconditionError{Current: &v}
}
