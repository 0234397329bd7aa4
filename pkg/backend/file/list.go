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
)

// defaultListLimit is the page size when the caller names none, as S3's.
const defaultListLimit = 1000

// errPageFull stops the walk once a record beyond the page is seen.
var errPageFull = errors.New("page full")

// List implements lease.Lister. It walks the prefix tree in byte order of
// database key (S3's listing order) and returns the records whose key
// sorts after cursor, without reading them: an entry's tag is its file's
// identity, size and times (see fileTag), so the sweep reads only the files
// that changed. Next is the last key returned when more records follow.
// Temporary and other stray files are skipped; a symlink or special file in
// the tree is reported as unreadable (never followed, never read) and the
// walk goes on, so that one such file cannot hide the records after it.
func (s *Store) List(ctx context.Context, cursor string, limit int) (lease.Page, error) {
	page, err := s.list(ctx, cursor, limit)
	if err != nil {
		return lease.Page{}, fmt.Errorf("list after %q: %w", cursor, err)
	}
	return page, nil
}

func (s *Store) list(ctx context.Context, cursor string, limit int) (lease.Page, error) {
	if limit <= 0 {
		limit = defaultListLimit
	}
	root, err := s.begin(ctx)
	if err != nil {
		return lease.Page{}, err
	}
	defer root.Close()
	top, err := openDirs(root, s.prefixDirs, false)
	if errors.Is(err, errAbsent) {
		return lease.Page{}, nil // nothing written yet
	}
	if err != nil {
		return lease.Page{}, err
	}
	defer top.Close()
	w := walker{ctx: ctx, cursor: cursor, limit: limit}
	switch err := w.walk(top, ""); {
	case errors.Is(err, errPageFull):
		w.page.Next = w.page.Entries[len(w.page.Entries)-1].Key
		// What the walk passed after the last entry belongs to the next page.
		w.bad = slices.DeleteFunc(w.bad, func(b badEntry) bool { return b.at > w.page.Next && !strings.HasPrefix(w.page.Next, b.at) })
	case err != nil:
		return lease.Page{}, err
	}
	for _, b := range w.bad {
		w.page.Unreadable = append(w.page.Unreadable, b.Unreadable)
	}
	return w.page, nil
}

// badEntry is an unreadable object with its place in key order.
type badEntry struct {
	lease.Unreadable
	at string
}

type walker struct {
	ctx    context.Context
	cursor string
	limit  int
	page   lease.Page
	bad    []badEntry
}

// entry is one directory entry placed in key order.
type entry struct {
	name  string
	order string // its position among keys: "seg" for a record, "name/" for a directory
	kind  entryKind
}

type entryKind int

const (
	kindSkip   entryKind = iota // temporary files and strays
	kindRecord                  // a regular file named "seg.lease.json"
	kindDir                     // a directory that may hold records
	kindBad                     // a symlink, or a special file named like a record
)

// classify places a directory entry. Ordering a directory by name+"/" and a
// record by its key segment yields the byte order of the full keys, because
// no key segment contains "/": "a" < "a-b" < "a/x" as keys, while the names
// "a" (dir) < "a-b.lease.json" < "a.lease.json" would not be.
func classify(e fs.DirEntry) entry {
	name := e.Name()
	seg, isRecordName := recordKeySegment(name)
	t := e.Type()
	switch {
	case t.IsDir():
		if strings.HasSuffix(name, lease.ObjectSuffix) {
			return entry{name: name, kind: kindSkip} // no valid key lives below
		}
		return entry{name: name, order: dirOrder(name), kind: kindDir}
	case t.IsRegular() && isRecordName:
		return entry{name: name, order: seg, kind: kindRecord}
	case t.IsRegular():
		return entry{name: name, kind: kindSkip}
	case isRecordName:
		return entry{name: name, order: seg, kind: kindBad}
	case t&fs.ModeSymlink != 0:
		return entry{name: name, order: dirOrder(name), kind: kindBad} // it could stand for a directory
	default:
		return entry{name: name, kind: kindSkip} // a special file that cannot hold records
	}
}

// dirOrder places a directory among its siblings: all of its keys start
// with name+"/", and no key segment contains "/".
func dirOrder(name string) string { return name + "/" }

// walk lists one directory whose keys all start with keyPrefix.
func (w *walker) walk(dir *os.Root, keyPrefix string) error {
	entries, err := readDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := w.ctx.Err(); err != nil {
			return lease.Unavailable(err, 0)
		}
		at := keyPrefix + e.order
		switch e.kind {
		case kindDir:
			if at < w.cursor && !strings.HasPrefix(w.cursor, at) {
				continue // every key below sorts before the cursor
			}
			child, err := openChild(dir, e.name, false)
			if errors.Is(err, errAbsent) {
				continue
			}
			if errors.Is(err, lease.ErrCorrupt) { // swapped for a link or file since it was read
				w.bad = append(w.bad, badEntry{lease.Unreadable{Key: keyPrefix + e.name, Err: err}, at})
				continue
			}
			if err != nil {
				return fmt.Errorf("directory %q: %w", at, err)
			}
			err = w.walk(child, at)
			child.Close()
			if err != nil {
				return err
			}
		case kindRecord:
			if at <= w.cursor {
				continue
			}
			if len(w.page.Entries) == w.limit {
				return errPageFull
			}
			fi, err := dir.Lstat(e.name)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				continue // removed since the directory was read
			case err != nil:
				w.bad = append(w.bad, badEntry{lease.Unreadable{Key: at, Err: unavailable(err)}, at})
				continue
			case !fi.Mode().IsRegular():
				w.bad = append(w.bad, badEntry{lease.Unreadable{Key: at, Err: corruptf("record %q is %s", keyPrefix+e.name, describeMode(fi.Mode()))}, at})
				continue
			}
			w.page.Entries = append(w.page.Entries, lease.Entry{Key: at, Tag: fileTag(fi)})
		case kindBad:
			if at > w.cursor || strings.HasPrefix(w.cursor, at) {
				what := "a symlink"
				if fi, err := dir.Lstat(e.name); err == nil {
					what = describeMode(fi.Mode())
				}
				key := keyPrefix + e.name
				if seg, ok := recordKeySegment(e.name); ok {
					key = keyPrefix + seg
				}
				w.bad = append(w.bad, badEntry{lease.Unreadable{
					Key: key,
					Err: corruptf("%q in the lease tree is %s; it is neither read nor followed", keyPrefix+e.name, what),
				}, at})
			}
		}
	}
	return nil
}

// readDir returns the record-relevant entries of dir in key order.
func readDir(dir *os.Root) ([]entry, error) {
	d, err := dir.Open(".")
	if err != nil {
		return nil, unavailable(err)
	}
	des, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return nil, unavailable(err)
	}
	entries := make([]entry, 0, len(des))
	for _, de := range des {
		if e := classify(de); e.kind != kindSkip {
			entries = append(entries, e)
		}
	}
	slices.SortFunc(entries, func(a, b entry) int { return cmp.Compare(a.order, b.order) })
	return entries, nil
}
