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
	"syscall"

	"github.com/redlease/redlease/pkg/lease"
)

const (
	// stateDirName holds the sweep's state, outside the prefix tree (a
	// prefix may not start with it, as with lockDirName).
	stateDirName = ".redlease-sweep"
	// maxStateBytes bounds what LoadState reads; the state of a million
	// keys is far smaller.
	maxStateBytes = 256 << 20
)

// statePath is where the sweep over this store's prefix keeps its state:
// one file per prefix, so stores with different prefixes on one DIR never
// share it.
func (s *Store) statePath() objectPath {
	sum := sha256.Sum256([]byte(s.prefix))
	name := "state-" + hex.EncodeToString(sum[:8])
	return objectPath{object: stateDirName + "/" + name, dirs: []string{stateDirName}, base: name, lock: name + ".lock"}
}

// LoadState implements lease.StateStore.
func (s *Store) LoadState(ctx context.Context) ([]byte, lease.Version, error) {
	root, err := s.begin(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("load sweep state: %w", err)
	}
	defer root.Close()
	data, err := readState(root, s.statePath())
	if err != nil {
		return nil, "", fmt.Errorf("load sweep state: %w", notFound(err))
	}
	return data, versionOf(data), nil
}

// SaveState implements lease.StateStore: the compare-and-swap of a record,
// on the state file.
func (s *Store) SaveState(ctx context.Context, data []byte, expect lease.Version) (lease.Version, error) {
	v, err := s.saveState(ctx, data, expect)
	if err != nil {
		return "", fmt.Errorf("save sweep state: %w", err)
	}
	return v, nil
}

func (s *Store) saveState(ctx context.Context, data []byte, expect lease.Version) (lease.Version, error) {
	p := s.statePath()
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
	cur, err := readState(root, p)
	switch {
	case errors.Is(err, errAbsent):
		if expect != "" {
			return "", &lease.PreconditionError{}
		}
	case err != nil:
		return "", err
	case versionOf(cur) != expect:
		return "", &lease.PreconditionError{}
	}
	dir, err := openDirs(root, p.dirs, true)
	if err != nil {
		return "", err
	}
	defer dir.Close()
	if err := writeAtomic(dir, p.base, data); err != nil {
		return "", err
	}
	return versionOf(data), nil
}

// readState reads the state file, refusing anything but a regular file.
func readState(root *os.Root, p objectPath) ([]byte, error) {
	dir, err := openDirs(root, p.dirs, false)
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	f, err := dir.OpenFile(p.base, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW, 0)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, errAbsent
	case errors.Is(err, syscall.ELOOP):
		return nil, corruptf("sweep state %q is a symlink", p.object)
	case err != nil:
		return nil, unavailable(err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, unavailable(err)
	} else if !fi.Mode().IsRegular() {
		return nil, corruptf("sweep state %q is %s", p.object, describeMode(fi.Mode()))
	}
	data, err := io.ReadAll(io.LimitReader(f, maxStateBytes+1))
	if err != nil {
		return nil, unavailable(err)
	}
	if len(data) > maxStateBytes {
		return nil, corruptf("sweep state %q is larger than %d bytes", p.object, maxStateBytes)
	}
	return data, nil
}

// ContentVersion implements lease.ContentVersioner: a version is the
// SHA-256 of the stored bytes, which are EncodeRecord's.
func (s *Store) ContentVersion(rec lease.Record) lease.Version {
	return versionOf(lease.EncodeRecord(rec))
}
