package observe

import (
	"context"
	"sync"
	"time"

	"github.com/redlease/redlease/pkg/lease"
)

// StorageStats adds up the storage calls made on behalf of one request, so
// that the request's single metrics line can carry its storage latency.
type StorageStats struct {
	mu    sync.Mutex
	calls int
	total time.Duration
}

type statsKey struct{}

// WithStorageStats returns a context under which a TimedStore records its
// calls into the returned stats.
func WithStorageStats(ctx context.Context) (context.Context, *StorageStats) {
	s := &StorageStats{}
	return context.WithValue(ctx, statsKey{}, s), s
}

// Totals returns the number of storage calls and their summed latency.
func (s *StorageStats) Totals() (calls int, total time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls, s.total
}

func (s *StorageStats) add(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	s.total += d
}

// TimedStore wraps a store and records the latency of every call into the
// StorageStats found in the call's context (calls without one are not
// measured). clock is time.Now when nil.
func TimedStore(s lease.ListingStore, clock func() time.Time) lease.ListingStore {
	if clock == nil {
		clock = time.Now
	}
	return &timedStore{next: s, now: clock}
}

type timedStore struct {
	next lease.ListingStore
	now  func() time.Time
}

func (t *timedStore) measure(ctx context.Context) func() {
	stats, _ := ctx.Value(statsKey{}).(*StorageStats)
	if stats == nil {
		return func() {}
	}
	start := t.now()
	return func() { stats.add(t.now().Sub(start)) }
}

func (t *timedStore) Load(ctx context.Context, key string) (lease.Versioned, error) {
	defer t.measure(ctx)()
	return t.next.Load(ctx, key)
}

func (t *timedStore) Create(ctx context.Context, rec lease.Record) (lease.Version, error) {
	defer t.measure(ctx)()
	return t.next.Create(ctx, rec)
}

func (t *timedStore) Replace(ctx context.Context, rec lease.Record, expect lease.Version) (lease.Version, error) {
	defer t.measure(ctx)()
	return t.next.Replace(ctx, rec, expect)
}

func (t *timedStore) List(ctx context.Context, cursor string, limit int) (lease.Page, error) {
	defer t.measure(ctx)()
	return t.next.List(ctx, cursor, limit)
}

func (t *timedStore) LoadState(ctx context.Context) ([]byte, lease.Version, error) {
	defer t.measure(ctx)()
	return t.next.LoadState(ctx)
}

func (t *timedStore) SaveState(ctx context.Context, data []byte, expect lease.Version) (lease.Version, error) {
	defer t.measure(ctx)()
	return t.next.SaveState(ctx, data, expect)
}
