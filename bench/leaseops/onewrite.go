package leaseops

import (
	"context"
	"fmt"
	"sync"

	"github.com/redlease/redlease/pkg/lease"
)

// guessAbsent measures the proposed one-write acquire without touching
// pkg/lease: for a key this instance has never seen, Load answers "no
// record" without a request, so lease.Service decides as for a new key and
// sends the conditional create (If-None-Match: * on S3,
// attribute_not_exists on DynamoDB) straight away. Only the storage can
// confirm the guess. If a record exists the create fails, the Service
// re-reads (on S3; DynamoDB returns the record with the refusal) and
// decides again on the real record, so the released marker, the term
// fence and the held check all still see the current record.
//
// It is a benchmark device for acquire only: a refresh or release decided
// on a guessed absence would answer "stale" without asking the storage.
// The change proposed for pkg/lease (docs/performance.md) treats the guess
// as unverified instead, which is sound for every operation.
type guessAbsent struct {
	lease.Store
	mu   sync.Mutex
	seen map[string]bool
}

func newGuessAbsent(s lease.Store) *guessAbsent {
	return &guessAbsent{Store: s, seen: map[string]bool{}}
}

// firstSight reports whether key is new to this instance, and remembers it.
func (g *guessAbsent) firstSight(key string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	first := !g.seen[key]
	g.seen[key] = true
	return first
}

// Load implements lease.Store.
func (g *guessAbsent) Load(ctx context.Context, key string) (lease.Versioned, error) {
	if g.firstSight(key) {
		return lease.Versioned{}, fmt.Errorf("guessed absent %q: %w", key, lease.ErrNotFound)
	}
	return g.Store.Load(ctx, key)
}

// Create implements lease.Store.
func (g *guessAbsent) Create(ctx context.Context, rec lease.Record) (lease.Version, error) {
	g.firstSight(rec.DatabaseKey)
	return g.Store.Create(ctx, rec)
}
