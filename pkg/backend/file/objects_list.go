package file

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/objects"
)

// List calls fn with the key of every object that starts with prefix, in
// byte order of key (S3's order), until fn returns an error, which List
// returns. Temporary files, the lock directory, the reserved prefix and
// anything that is neither a regular file nor a plain directory are left
// out. Objects written during the listing may or may not appear.
func (s *Objects) List(ctx context.Context, prefix string, fn func(key string) error) error {
	if err := s.list(ctx, prefix, fn); err != nil {
		return fmt.Errorf("list %q: %w", prefix, err)
	}
	return nil
}

func (s *Objects) list(ctx context.Context, prefix string, fn func(key string) error) error {
	if err := ctx.Err(); err != nil {
		return lease.Unavailable(err, 0)
	}
	if err := objects.ValidatePrefix(prefix); err != nil {
		return err
	}
	root, err := s.openRoot()
	if err != nil {
		return err
	}
	defer root.Close()
	// "a/b/pa" lists directory "a/b", names starting with "pa".
	var dirs []string
	partial := prefix
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dirs, partial = strings.Split(prefix[:i], "/"), prefix[i+1:]
	}
	top, err := openDirs(root, dirs, false)
	if errors.Is(err, errAbsent) || errors.Is(err, errNotDirectory) {
		return nil
	}
	if err != nil {
		return err
	}
	defer top.Close()
	rel := strings.Join(dirs, "/")
	if rel != "" {
		rel += "/"
	}
	w := objectWalker{ctx: ctx, reserved: s.reserved, fn: fn}
	return w.walk(top, rel, partial)
}

type objectWalker struct {
	ctx      context.Context
	reserved string
	fn       func(string) error
}

type listEntry struct {
	name  string
	dir   bool
	order string // the name as it sorts among full keys: directories with '/'
}

// walk lists dir (whose keys start with rel), keeping names that start
// with partial, in the byte order of the keys they hold.
func (w *objectWalker) walk(dir *os.Root, rel, partial string) error {
	if err := w.ctx.Err(); err != nil {
		return lease.Unavailable(err, 0)
	}
	entries, err := readEntries(dir)
	if err != nil {
		return err
	}
	var list []listEntry
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, partial) || strings.HasPrefix(name, objects.ReservedSegmentPrefix) {
			continue
		}
		switch t := e.Type(); {
		case t.IsDir():
			if w.reserved != "" && strings.HasPrefix(w.reserved, rel+name+"/") {
				continue // the reserved tree, or a directory on its way there
			}
			list = append(list, listEntry{name: name, dir: true, order: name + "/"})
		case t.IsRegular():
			list = append(list, listEntry{name: name, order: name})
		}
	}
	slices.SortFunc(list, func(a, b listEntry) int { return cmp.Compare(a.order, b.order) })
	for _, e := range list {
		key := rel + e.name
		if w.reserved != "" && strings.HasPrefix(key, w.reserved) {
			continue
		}
		if !e.dir {
			if err := w.fn(key); err != nil {
				return err
			}
			continue
		}
		child, err := openChild(dir, e.name, false)
		if errors.Is(err, errAbsent) || errors.Is(err, errNotDirectory) || errors.Is(err, lease.ErrCorrupt) {
			continue // gone, replaced, or a symlink swapped in: no objects there
		}
		if err != nil {
			return err
		}
		err = w.walk(child, key+"/", "")
		child.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func readEntries(dir *os.Root) ([]fs.DirEntry, error) {
	d, err := dir.Open(".")
	if err != nil {
		return nil, unavailable(err)
	}
	defer d.Close()
	entries, err := d.ReadDir(-1)
	if err != nil {
		return nil, unavailable(err)
	}
	return entries, nil
}
