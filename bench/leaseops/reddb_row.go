package leaseops

import (
	"context"
	"fmt"
	"time"

	"github.com/redlease/redlease/bench/reqcount"
	"github.com/redlease/redlease/pkg/lease"
)

// RedDBRow measures RedDB's lease protocol over an ObjectAPI: straight to
// S3 (RedDB's own S3 lease) or through a redlease face (the gateway row).
// RedDB keeps no version cache, so its warm, cold and stale figures
// measure the same sequence.
type RedDBRow struct {
	info    RowInfo
	c       *reddbClient
	storage *reqcount.Counter // storage requests: the SDK client's
	front   *reqcount.Counter // requests RedDB sends to redlease; nil for direct S3
	keys    string

	refreshKey string
	readKey    string
}

// RedDBOptions configure a RedDBRow.
type RedDBOptions struct {
	// KeyPrefix keeps the row's database keys apart from other rows'.
	KeyPrefix string
	// UnconditionalDelete releases with a DELETE without If-Match (see
	// ProbeConditionalDelete).
	UnconditionalDelete bool
}

// NewRedDBRow returns a row that replays RedDB's protocol over api.
func NewRedDBRow(info RowInfo, api ObjectAPI, storage, front *reqcount.Counter, opts RedDBOptions) *RedDBRow {
	if info.Kind == "" {
		info.Kind = KindRedDB
	}
	return &RedDBRow{
		info: info,
		c: &reddbClient{api: api, prefix: "leases/", holder: "reddb-bench", ttlMs: benchTTLMs,
			now: time.Now, unconditionalDelete: opts.UnconditionalDelete},
		storage: storage,
		front:   front,
		keys:    opts.KeyPrefix,
	}
}

// Info implements Subject.
func (r *RedDBRow) Info() RowInfo { return r.info }

// Take implements Subject.
func (r *RedDBRow) Take() Calls {
	var c Calls
	if r.storage != nil {
		c.Storage = r.storage.Take()
	}
	if r.front != nil {
		c.Front = r.front.Take()
	}
	return c
}

func (r *RedDBRow) key(parts ...any) string { return r.keys + fmt.Sprint(parts...) }

// held stores a record of this holder at generation 1, live for the TTL.
func (r *RedDBRow) held(ctx context.Context, k string) error {
	now := lease.UnixMs(time.Now())
	return r.c.put(ctx, lease.Record{Lease: lease.Lease{DatabaseKey: k, HolderID: r.c.holder, Term: 1,
		Generation: 1, AcquiredAtMs: now, ExpiresAtMs: now + benchTTLMs}})
}

// Prepare implements Subject.
func (r *RedDBRow) Prepare(ctx context.Context, op Op, i int) (Action, error) {
	switch op {
	case AcquireNew:
		k := r.key("new/", i)
		return func(ctx context.Context) error { _, err := r.c.acquire(ctx, k); return err }, nil
	case AcquireTakeover:
		k := r.key("takeover/", i)
		past := lease.UnixMs(time.Now()) - 2*benchTTLMs
		expired := lease.Record{Lease: lease.Lease{DatabaseKey: k, HolderID: "reddb-old", Term: 1,
			Generation: 1, AcquiredAtMs: past, ExpiresAtMs: past + benchTTLMs}}
		if err := r.c.put(ctx, expired); err != nil {
			return nil, err
		}
		return func(ctx context.Context) error {
			got, err := r.c.acquire(ctx, k)
			if err == nil && got.Generation != 2 {
				err = fmt.Errorf("takeover %q: generation %d, want 2", k, got.Generation)
			}
			return err
		}, nil
	case RefreshWarm, RefreshCold, RefreshStale:
		if r.refreshKey == "" {
			r.refreshKey = r.key("refresh")
			if err := r.held(ctx, r.refreshKey); err != nil {
				return nil, err
			}
		}
		return func(ctx context.Context) error { return r.c.refresh(ctx, r.refreshKey, 1) }, nil
	case ReleaseWarm, ReleaseCold:
		k := r.key("release-warm/", i)
		if op == ReleaseCold {
			k = r.key("release-cold/", i)
		}
		if err := r.held(ctx, k); err != nil {
			return nil, err
		}
		return func(ctx context.Context) error { return r.c.release(ctx, k, 1) }, nil
	case Read:
		if r.readKey == "" {
			r.readKey = r.key("read")
			if err := r.held(ctx, r.readKey); err != nil {
				return nil, err
			}
		}
		return func(ctx context.Context) error { _, err := r.c.read(ctx, r.readKey); return err }, nil
	}
	return nil, fmt.Errorf("unknown operation %q", op)
}
