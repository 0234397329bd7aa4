package leaseops

import (
	"context"
	"fmt"
	"time"

	"github.com/redlease/redlease/bench/reqcount"
	"github.com/redlease/redlease/pkg/lease"
)

// benchTTLMs is RedDB's default lease TTL, used by every row.
const benchTTLMs = 60000

// ServiceRow measures redlease's lease.Service over one store. Its clock
// is simulated (a takeover jumps past the TTL instead of waiting); every
// storage round trip is real. Each cold operation gets a new Service, as a
// new Lambda instance would.
type ServiceRow struct {
	info     RowInfo
	store    lease.Store
	storage  *reqcount.Counter
	keys     string // database key prefix, unique to the row and run
	oneWrite bool

	now     time.Time
	stale   *lease.Service // the instance whose cache another one outdates
	staleK  string
	staleG  uint64
	warm    *lease.Service
	warmKey string
	warmGen uint64
	coldKey string
	coldGen uint64
	readKey string
}

// NewServiceRow returns the row for store, whose SDK client counts its
// requests in storage. keyPrefix keeps the row's keys apart from every
// other row's in a shared bucket or table.
func NewServiceRow(info RowInfo, store lease.Store, storage *reqcount.Counter, keyPrefix string) *ServiceRow {
	info.Kind = KindRedlease
	return &ServiceRow{info: info, store: store, storage: storage, keys: keyPrefix, now: time.Now()}
}

// NewOneWriteRow is the experimental row: acquire tries the conditional
// create first for a key the instance has never seen (see onewrite.go).
// It measures the two acquire operations only.
func NewOneWriteRow(info RowInfo, store lease.Store, storage *reqcount.Counter, keyPrefix string) *ServiceRow {
	r := NewServiceRow(info, store, storage, keyPrefix)
	r.info.Kind = KindExperimental
	r.oneWrite = true
	return r
}

// Info implements Subject.
func (r *ServiceRow) Info() RowInfo { return r.info }

// Take implements Subject.
func (r *ServiceRow) Take() Calls { return Calls{Storage: r.storage.Take()} }

func (r *ServiceRow) clock() time.Time { return r.now }

func (r *ServiceRow) service(store lease.Store) (*lease.Service, error) {
	return lease.New(lease.Config{Store: store, Now: r.clock})
}

func (r *ServiceRow) fresh() (*lease.Service, error) {
	if r.oneWrite {
		return r.service(newGuessAbsent(r.store))
	}
	return r.service(r.store)
}

func (r *ServiceRow) key(parts ...any) string {
	return r.keys + fmt.Sprint(parts...)
}

func acquireReq(key, holder string) lease.AcquireRequest {
	return lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: key, HolderID: holder, TTLMs: benchTTLMs, Term: 1}
}

// Prepare implements Subject.
func (r *ServiceRow) Prepare(ctx context.Context, op Op, i int) (Action, error) {
	r.now = r.now.Add(time.Second)
	if r.oneWrite && op != AcquireNew && op != AcquireTakeover {
		return nil, ErrNotMeasured
	}
	switch op {
	case AcquireNew:
		return r.acquire(r.key("new/", i), 1)
	case AcquireTakeover:
		k := r.key("takeover/", i)
		setup, err := r.service(r.store)
		if err != nil {
			return nil, err
		}
		if _, err := setup.Acquire(ctx, acquireReq(k, "bench-old")); err != nil {
			return nil, err
		}
		r.now = r.now.Add(2 * benchTTLMs * time.Millisecond) // the old holder's lease has expired
		return r.acquire(k, 2)
	case RefreshWarm:
		if r.warm == nil {
			if err := r.holdWarm(ctx); err != nil {
				return nil, err
			}
		}
		return r.refresh(r.warm, r.warmKey, r.warmGen), nil
	case RefreshCold:
		if r.coldKey == "" {
			r.coldKey = r.key("refresh-cold")
			l, err := r.acquireWith(ctx, r.coldKey)
			if err != nil {
				return nil, err
			}
			r.coldGen = l.Generation
		}
		svc, err := r.fresh()
		if err != nil {
			return nil, err
		}
		return r.refresh(svc, r.coldKey, r.coldGen), nil
	case RefreshStale:
		return r.refreshStale(ctx)
	case ReleaseWarm, ReleaseCold:
		return r.release(ctx, op, i)
	case Read:
		if r.readKey == "" {
			r.readKey = r.key("read")
			if _, err := r.acquireWith(ctx, r.readKey); err != nil {
				return nil, err
			}
		}
		svc, err := r.fresh()
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context) error {
			_, err := svc.Get(ctx, lease.Anonymous, r.readKey)
			return err
		}, nil
	}
	return nil, fmt.Errorf("unknown operation %q", op)
}

// acquire returns an action that acquires k on a fresh instance and checks
// the generation it got.
func (r *ServiceRow) acquire(k string, wantGen uint64) (Action, error) {
	svc, err := r.fresh()
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) error {
		l, err := svc.Acquire(ctx, acquireReq(k, "bench-new"))
		if err != nil {
			return err
		}
		if l.Generation != wantGen {
			return fmt.Errorf("acquire %q: generation %d, want %d", k, l.Generation, wantGen)
		}
		return nil
	}, nil
}

// acquireWith takes k through a setup instance, holder "bench".
func (r *ServiceRow) acquireWith(ctx context.Context, k string) (lease.Lease, error) {
	setup, err := r.service(r.store)
	if err != nil {
		return lease.Lease{}, err
	}
	return setup.Acquire(ctx, acquireReq(k, "bench"))
}

func (r *ServiceRow) holdWarm(ctx context.Context) error {
	svc, err := r.service(r.store)
	if err != nil {
		return err
	}
	r.warmKey = r.key("refresh-warm")
	l, err := svc.Acquire(ctx, acquireReq(r.warmKey, "bench"))
	if err != nil {
		return err
	}
	r.warm, r.warmGen = svc, l.Generation
	return nil
}

func (r *ServiceRow) refresh(svc *lease.Service, k string, gen uint64) Action {
	return func(ctx context.Context) error {
		_, err := svc.Refresh(ctx, lease.RefreshRequest{Principal: lease.Anonymous, DatabaseKey: k, HolderID: "bench", Generation: gen, TTLMs: benchTTLMs})
		return err
	}
}

// refreshStale: the instance that last refreshed the key refreshes again
// after another instance (a fresh one each time) has refreshed it in
// between, so its cached version no longer matches.
func (r *ServiceRow) refreshStale(ctx context.Context) (Action, error) {
	if r.stale == nil {
		svc, err := r.service(r.store)
		if err != nil {
			return nil, err
		}
		r.staleK = r.key("refresh-stale")
		l, err := svc.Acquire(ctx, acquireReq(r.staleK, "bench"))
		if err != nil {
			return nil, err
		}
		r.stale, r.staleG = svc, l.Generation
	}
	other, err := r.service(r.store)
	if err != nil {
		return nil, err
	}
	if err := r.refresh(other, r.staleK, r.staleG)(ctx); err != nil {
		return nil, err
	}
	return r.refresh(r.stale, r.staleK, r.staleG), nil
}

func (r *ServiceRow) release(ctx context.Context, op Op, i int) (Action, error) {
	k := r.key("release-warm/", i)
	if op == ReleaseCold {
		k = r.key("release-cold/", i)
	}
	holder, err := r.service(r.store)
	if err != nil {
		return nil, err
	}
	l, err := holder.Acquire(ctx, acquireReq(k, "bench"))
	if err != nil {
		return nil, err
	}
	svc := holder // warm: the instance that acquired
	if op == ReleaseCold {
		if svc, err = r.fresh(); err != nil {
			return nil, err
		}
	}
	return func(ctx context.Context) error {
		_, err := svc.Release(ctx, lease.ReleaseRequest{Principal: lease.Anonymous, DatabaseKey: k, HolderID: "bench", Generation: l.Generation})
		return err
	}, nil
}
