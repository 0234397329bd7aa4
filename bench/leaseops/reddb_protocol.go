package leaseops

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redlease/redlease/pkg/lease"
)

// ObjectAPI is the remote-backend surface RedDB's lease uses: object
// version (HEAD), download (GET), conditional upload and conditional
// delete. RedDB has it twice, over S3 (RED_BACKEND=s3) and over plain HTTP
// (RED_BACKEND=http); objects_s3.go and objects_http.go are the two here.
type ObjectAPI interface {
	// Head returns the object's ETag, or an error matching errAbsent.
	Head(ctx context.Context, key string) (etag string, err error)
	// Get returns the object's bytes, or an error matching errAbsent.
	Get(ctx context.Context, key string) ([]byte, error)
	// Put uploads body if cond holds, else fails with errPrecondition.
	Put(ctx context.Context, key string, body []byte, cond Condition) error
	// Delete removes the object if it is at ifMatch, else fails with
	// errPrecondition.
	Delete(ctx context.Context, key, ifMatch string) error
}

// Condition is the precondition of an upload; the zero value is none.
type Condition struct {
	IfNoneMatch bool   // If-None-Match: *
	IfMatch     string // If-Match: <etag as received>
}

var (
	errAbsent       = errors.New("object absent")
	errPrecondition = errors.New("precondition failed")
)

// reddbClient replays RedDB's lease (REDDB-INTEROP.md, "Observed
// sequences") request for request:
//
//	acquire, no record:       HEAD 404, PUT If-None-Match: *, HEAD, GET (4)
//	acquire, existing record: HEAD, GET, HEAD, PUT If-Match, HEAD, GET (6)
//	refresh:                  HEAD, GET, HEAD, PUT If-Match, HEAD (5)
//	release:                  HEAD, GET, HEAD, DELETE If-Match (4)
//
// and reads a lease as HEAD, GET, the load step all of those begin with
// (RedDB has no read of its own). Decisions follow RedDB's rules with the
// client's own wall clock, which is RedDB's defect 4.
type reddbClient struct {
	api    ObjectAPI
	prefix string // RED_LEASE_PREFIX
	holder string
	ttlMs  uint64
	now    func() time.Time
	// unconditionalDelete sends release's DELETE without If-Match, for
	// stores that do not implement conditional deletes (LocalStack: 501).
	unconditionalDelete bool
}

func (c *reddbClient) object(dbKey string) string { return c.prefix + dbKey + ".lease.json" }

func (c *reddbClient) nowMs() uint64 { return lease.UnixMs(c.now()) }

// load is HEAD then GET, decoded.
func (c *reddbClient) load(ctx context.Context, obj string) (lease.Record, error) {
	if _, err := c.api.Head(ctx, obj); err != nil {
		return lease.Record{}, err
	}
	body, err := c.api.Get(ctx, obj)
	if err != nil {
		return lease.Record{}, err
	}
	return lease.DecodeRecord(body)
}

func (c *reddbClient) acquire(ctx context.Context, dbKey string) (lease.Record, error) {
	obj := c.object(dbKey)
	now := c.nowMs()
	next := lease.Record{Lease: lease.Lease{DatabaseKey: dbKey, HolderID: c.holder, Term: 1,
		Generation: 1, AcquiredAtMs: now, ExpiresAtMs: now + c.ttlMs}}
	_, err := c.api.Head(ctx, obj)
	switch {
	case errors.Is(err, errAbsent):
		if err := c.api.Put(ctx, obj, lease.EncodeRecord(next), Condition{IfNoneMatch: true}); err != nil {
			return lease.Record{}, fmt.Errorf("create: %w", err)
		}
	case err != nil:
		return lease.Record{}, err
	default:
		body, err := c.api.Get(ctx, obj)
		if err != nil {
			return lease.Record{}, err
		}
		cur, err := lease.DecodeRecord(body)
		if err != nil {
			return lease.Record{}, err
		}
		if cur.ExpiresAtMs > now && cur.HolderID != c.holder {
			return lease.Record{}, fmt.Errorf("lease for %q held by %q (gen %d)", dbKey, cur.HolderID, cur.Generation)
		}
		etag, err := c.api.Head(ctx, obj)
		if err != nil {
			return lease.Record{}, err
		}
		next.Generation = cur.Generation + 1
		if err := c.api.Put(ctx, obj, lease.EncodeRecord(next), Condition{IfMatch: etag}); err != nil {
			return lease.Record{}, fmt.Errorf("replace: %w", err)
		}
	}
	// RedDB reads back what it wrote: HEAD for the new version, GET.
	got, err := c.load(ctx, obj)
	if err != nil {
		return lease.Record{}, err
	}
	if got.HolderID != c.holder || got.Generation != next.Generation {
		return lease.Record{}, fmt.Errorf("read back %q: holder %q gen %d", dbKey, got.HolderID, got.Generation)
	}
	return got, nil
}

// mine loads the record and checks that it is this holder's generation.
func (c *reddbClient) mine(ctx context.Context, obj string, gen uint64) (lease.Record, string, error) {
	cur, err := c.load(ctx, obj)
	if err != nil {
		return lease.Record{}, "", err
	}
	if cur.HolderID != c.holder || cur.Generation != gen {
		return lease.Record{}, "", fmt.Errorf("lease %q is %q gen %d, not ours", obj, cur.HolderID, cur.Generation)
	}
	etag, err := c.api.Head(ctx, obj)
	return cur, etag, err
}

func (c *reddbClient) refresh(ctx context.Context, dbKey string, gen uint64) error {
	obj := c.object(dbKey)
	cur, etag, err := c.mine(ctx, obj, gen)
	if err != nil {
		return err
	}
	cur.ExpiresAtMs = c.nowMs() + c.ttlMs // only expires_at_ms changes
	if err := c.api.Put(ctx, obj, lease.EncodeRecord(cur), Condition{IfMatch: etag}); err != nil {
		return fmt.Errorf("refresh: %w", err)
	}
	_, err = c.api.Head(ctx, obj) // RedDB learns its new version
	return err
}

func (c *reddbClient) release(ctx context.Context, dbKey string, gen uint64) error {
	obj := c.object(dbKey)
	_, etag, err := c.mine(ctx, obj, gen)
	if err != nil {
		return err
	}
	if c.unconditionalDelete {
		etag = ""
	}
	return c.api.Delete(ctx, obj, etag)
}

func (c *reddbClient) read(ctx context.Context, dbKey string) (lease.Record, error) {
	return c.load(ctx, c.object(dbKey))
}

// put stores rec unconditionally, for setting up an iteration.
func (c *reddbClient) put(ctx context.Context, rec lease.Record) error {
	return c.api.Put(ctx, c.object(rec.DatabaseKey), lease.EncodeRecord(rec), Condition{})
}
