package lease_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/lease"
)

func Example() {
	now := time.UnixMilli(1767225600000)
	svc, _ := lease.New(lease.Config{Store: memory.New(memory.Options{}), Now: func() time.Time { return now }})
	ctx := context.Background()

	l, _ := svc.Acquire(ctx, lease.AcquireRequest{DatabaseKey: "clusters/dev/data.rdb", HolderID: "reddb-0-1", TTLMs: 60_000, Term: 1})
	fmt.Printf("%s\n", lease.EncodeLease(l))

	_, err := svc.Acquire(ctx, lease.AcquireRequest{DatabaseKey: "clusters/dev/data.rdb", HolderID: "reddb-1-1", TTLMs: 60_000, Term: 1})
	var held *lease.HeldError
	if errors.As(err, &held) {
		fmt.Println("held by", held.Current.HolderID, "for", held.RetryAfter)
	}

	now = now.Add(20 * time.Second)
	l, _ = svc.Refresh(ctx, lease.RefreshRequest{DatabaseKey: l.DatabaseKey, HolderID: l.HolderID, Generation: l.Generation, TTLMs: 60_000})
	fmt.Println("expires at", l.ExpiresAtMs)

	l, _ = svc.Release(ctx, lease.ReleaseRequest{DatabaseKey: l.DatabaseKey, HolderID: l.HolderID, Generation: l.Generation})
	next, _ := svc.Acquire(ctx, lease.AcquireRequest{DatabaseKey: l.DatabaseKey, HolderID: "reddb-1-1", TTLMs: 60_000, Term: 1})
	fmt.Println("next generation", next.Generation)
	// Output:
	// {"acquired_at_ms":1767225600000,"database_key":"clusters/dev/data.rdb","expires_at_ms":1767225660000,"generation":1,"holder_id":"reddb-0-1","term":1}
	// held by reddb-0-1 for 1m0s
	// expires at 1767225680000
	// next generation 2
}

func ExampleDecodeRecord() {
	rec, err := lease.DecodeRecord([]byte(`{"database_key":"main","holder_id":"h","generation":2,"acquired_at_ms":1,"expires_at_ms":9}`))
	fmt.Println(rec.Term, rec.Generation, err)
	_, err = lease.DecodeRecord([]byte(`{"database_key":"main","holder_id":"h","generation":2.0,"acquired_at_ms":1,"expires_at_ms":9}`))
	fmt.Println(errors.Is(err, lease.ErrCorrupt))
	// Output:
	// 1 2 <nil>
	// true
}
