// Package memory is an in-process lease store. It keeps each record in the
// exact bytes RedDB would read, so the codec is exercised as it is on S3,
// and versions are a counter ("m1", "m2", ... quoted as every version is),
// so no two writes ever share one.
package memory

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/redlease/redlease/pkg/lease"
)

var _ lease.ListingStore = (*Store)(nil)

type object struct {
	data    []byte
	version lease.Version
}

// Store is safe for concurrent use. The zero value is not usable; call New.
type Store struct {
	mu      sync.Mutex
	objects map[string]object
	seq     uint64
	state   *object // the sweep's state, nil until saved
}

// Options tune a Store. There is nothing to tune yet: the struct gives New
// the shape of every store's constructor, New(dependencies, Options), so
// that an option added later changes no caller.
type Options struct{}

// New returns an empty store.
func New(Options) *Store { return &Store{objects: make(map[string]object)} }

// Load implements lease.Store.
func (s *Store) Load(ctx context.Context, key string) (lease.Versioned, error) {
	if err := ctx.Err(); err != nil {
		return lease.Versioned{}, lease.Unavailable(err, 0)
	}
	s.mu.Lock()
	obj, ok := s.objects[key]
	s.mu.Unlock()
	if !ok {
		return lease.Versioned{}, fmt.Errorf("load %q: %w", key, lease.ErrNotFound)
	}
	rec, err := lease.DecodeRecord(obj.data)
	if err != nil {
		return lease.Versioned{}, fmt.Errorf("load %q: %w", key, err)
	}
	return lease.Versioned{Record: rec, Version: obj.version}, nil
}

// Create implements lease.Store.
func (s *Store) Create(ctx context.Context, rec lease.Record) (lease.Version, error) {
	return s.write(ctx, rec, "")
}

// Replace implements lease.Store.
func (s *Store) Replace(ctx context.Context, rec lease.Record, expect lease.Version) (lease.Version, error) {
	if expect == "" {
		return "", fmt.Errorf("replace %q: empty version", rec.DatabaseKey)
	}
	return s.write(ctx, rec, expect)
}

func (s *Store) write(ctx context.Context, rec lease.Record, expect lease.Version) (lease.Version, error) {
	if err := ctx.Err(); err != nil {
		return "", lease.Unavailable(err, 0)
	}
	key := rec.DatabaseKey
	s.mu.Lock()
	defer s.mu.Unlock()
	obj, exists := s.objects[key]
	if exists != (expect != "") || (exists && obj.version != expect) {
		return "", &lease.PreconditionError{}
	}
	v := s.nextVersion()
	s.objects[key] = object{data: lease.EncodeRecord(rec), version: v}
	return v, nil
}

// List implements lease.Lister in key order; the cursor is the last key of
// the previous page. Entries carry their records, decoded from the stored
// bytes; bytes that do not decode are reported as unreadable.
func (s *Store) List(ctx context.Context, cursor string, limit int) (lease.Page, error) {
	if err := ctx.Err(); err != nil {
		return lease.Page{}, lease.Unavailable(err, 0)
	}
	if limit <= 0 {
		limit = 1000
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.objects))
	for k := range s.objects {
		if strings.Compare(k, cursor) > 0 {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var page lease.Page
	for _, k := range keys {
		if len(page.Entries) == limit {
			page.Next = page.Entries[len(page.Entries)-1].Key
			break
		}
		obj := s.objects[k]
		rec, err := lease.DecodeRecord(obj.data)
		if err != nil {
			page.Unreadable = append(page.Unreadable, lease.Unreadable{Key: k, Err: err})
			continue
		}
		page.Entries = append(page.Entries, lease.Entry{Key: k, Tag: string(obj.version), Version: obj.version, Record: &rec})
	}
	return page, nil
}

// LoadState implements lease.StateStore.
func (s *Store) LoadState(ctx context.Context) ([]byte, lease.Version, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", lease.Unavailable(err, 0)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == nil {
		return nil, "", fmt.Errorf("load sweep state: %w", lease.ErrNotFound)
	}
	return slices.Clone(s.state.data), s.state.version, nil
}

// SaveState implements lease.StateStore.
func (s *Store) SaveState(ctx context.Context, data []byte, expect lease.Version) (lease.Version, error) {
	if err := ctx.Err(); err != nil {
		return "", lease.Unavailable(err, 0)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if (s.state != nil) != (expect != "") || (s.state != nil && s.state.version != expect) {
		return "", fmt.Errorf("save sweep state: %w", &lease.PreconditionError{})
	}
	v := s.nextVersion()
	s.state = &object{data: slices.Clone(data), version: v}
	return v, nil
}

// Raw returns the stored bytes of a key, for tests that compare what RedDB
// would read.
func (s *Store) Raw(key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	obj, ok := s.objects[key]
	return slices.Clone(obj.data), ok
}

// PutRaw stores bytes as if another writer (RedDB itself) had put them.
func (s *Store) PutRaw(key string, data []byte) lease.Version {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.nextVersion()
	s.objects[key] = object{data: slices.Clone(data), version: v}
	return v
}

// nextVersion counts a write; s.mu is held.
func (s *Store) nextVersion() lease.Version {
	s.seq++
	return lease.NewVersion("m" + strconv.FormatUint(s.seq, 10))
}
