package memory

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/objects"
)

// Objects is an in-process object store for the RedDB face's unit tests
// and for `redlease serve --backend memory`. It holds whole bodies in
// memory, so it is no store for large databases. ETags are a counter, so
// every write, even of the same bytes, gets a new one. It is safe for
// concurrent use.
type Objects struct {
	mu       sync.Mutex
	objects  map[string]stored
	seq      uint64
	reserved string
}

type stored struct {
	data []byte
	etag lease.Version
}

// ObjectsOptions tune an Objects store.
type ObjectsOptions struct {
	// Reserved is a key prefix the store refuses (the lease prefix, when
	// lease records share the namespace); empty for none.
	Reserved string
}

// NewObjects returns an empty object store.
func NewObjects(opts ObjectsOptions) *Objects {
	return &Objects{objects: map[string]stored{}, reserved: opts.Reserved}
}

func (s *Objects) check(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return lease.Unavailable(err, 0)
	}
	if err := objects.ValidateKey(key); err != nil {
		return err
	}
	if s.reserved != "" && strings.HasPrefix(key, s.reserved) {
		return &lease.InvalidError{Field: objects.FieldKey, Reason: "is under the reserved prefix " + strconv.Quote(s.reserved)}
	}
	return nil
}

// Head returns the object's Info.
func (s *Objects) Head(ctx context.Context, key string) (objects.Info, error) {
	if err := s.check(ctx, key); err != nil {
		return objects.Info{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[key]
	if !ok {
		return objects.Info{}, lease.ErrNotFound
	}
	return objects.Info{ETag: o.etag, Size: int64(len(o.data))}, nil
}

// Get returns the object's bytes as they were when Get was called.
func (s *Objects) Get(ctx context.Context, key string) (io.ReadCloser, objects.Info, error) {
	if err := s.check(ctx, key); err != nil {
		return nil, objects.Info{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[key]
	if !ok {
		return nil, objects.Info{}, lease.ErrNotFound
	}
	// Stored slices are never modified, only replaced: no copy needed.
	return io.NopCloser(bytes.NewReader(o.data)), objects.Info{ETag: o.etag, Size: int64(len(o.data))}, nil
}

// Put stores the body once it has arrived whole and opts.BeforeCommit, if
// any, allowed it.
func (s *Objects) Put(ctx context.Context, key string, body io.Reader, size int64, opts objects.PutOptions) (objects.Info, error) {
	if err := s.check(ctx, key); err != nil {
		return objects.Info{}, err
	}
	data, err := io.ReadAll(objects.NewBody(body, size))
	if err != nil {
		return objects.Info{}, err
	}
	if opts.BeforeCommit != nil {
		deadline, err := opts.BeforeCommit(ctx)
		if err != nil {
			return objects.Info{}, err
		}
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			return objects.Info{}, lease.Unavailable(context.DeadlineExceeded, 0)
		}
	}
	if err := ctx.Err(); err != nil {
		return objects.Info{}, lease.Unavailable(err, 0)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var cur *objects.Info
	if o, ok := s.objects[key]; ok {
		cur = &objects.Info{ETag: o.etag, Size: int64(len(o.data))}
	}
	if !opts.Condition.Holds(cur) {
		return objects.Info{}, &lease.PreconditionError{}
	}
	s.seq++
	etag := lease.NewVersion("o" + strconv.FormatUint(s.seq, 10))
	s.objects[key] = stored{data: data, etag: etag}
	return objects.Info{ETag: etag, Size: int64(len(data))}, nil
}

// Delete removes the object; an unconditional delete of an absent object
// succeeds, as on S3.
func (s *Objects) Delete(ctx context.Context, key string, cond objects.Condition) error {
	if err := s.check(ctx, key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var cur *objects.Info
	if o, ok := s.objects[key]; ok {
		cur = &objects.Info{ETag: o.etag, Size: int64(len(o.data))}
	}
	if err := objects.CheckDelete(cond, cur); err != nil {
		return err
	}
	delete(s.objects, key)
	return nil
}

// List calls fn with every key that starts with prefix, in byte order.
func (s *Objects) List(ctx context.Context, prefix string, fn func(key string) error) error {
	if err := ctx.Err(); err != nil {
		return lease.Unavailable(err, 0)
	}
	if err := objects.ValidatePrefix(prefix); err != nil {
		return err
	}
	s.mu.Lock()
	var keys []string
	for k := range s.objects {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	s.mu.Unlock()
	slices.Sort(keys)
	for _, k := range keys {
		if err := fn(k); err != nil {
			return err
		}
	}
	return nil
}
