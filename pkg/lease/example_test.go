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

	l, _ := svc.Acquire(ctx, lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "clusters/dev/data.rdb", HolderID: "reddb-0-1", TTLMs: 60_000, Term: 1})
	fmt.Printf("%s\n", lease.EncodeLease(l))

	_, err := svc.Acquire(ctx, lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "clusters/dev/data.rdb", HolderID: "reddb-1-1", TTLMs: 60_000, Term: 1})
	var held *lease.HeldError
	if errors.As(err, &held) {
		fmt.Println("held by", held.Current.HolderID, "for", held.RetryAfter)
	}

	now = now.Add(20 * time.Second)
	l, _ = svc.Refresh(ctx, lease.RefreshRequest{Principal: lease.Anonymous, DatabaseKey: l.DatabaseKey, HolderID: l.HolderID, Generation: l.Generation, TTLMs: 60_000})
	fmt.Println("expires at", l.ExpiresAtMs)

	l, _ = svc.Release(ctx, lease.ReleaseRequest{Principal: lease.Anonymous, DatabaseKey: l.DatabaseKey, HolderID: l.HolderID, Generation: l.Generation})
	next, _ := svc.Acquire(ctx, lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: l.DatabaseKey, HolderID: "reddb-1-1", TTLMs: 60_000, Term: 1})
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

// A lease belongs to the principal that acquired it: another principal,
// even one whose prefixes allow the key and who knows the holder id and
// generation, cannot release it; an admin can, by breaking glass.
func ExampleService_ForceRelease() {
	svc, _ := lease.New(lease.Config{Store: memory.New(memory.Options{})})
	ctx := context.Background()
	tenant := lease.Principal{Name: "tenant-a-reddb", Prefixes: []string{"tenants/a/"}}
	other := lease.Principal{Name: "tenant-a-batch", Prefixes: []string{"tenants/a/"}}
	ops := lease.Principal{Name: "ops", Prefixes: []string{""}, Admin: true}

	l, _ := svc.Acquire(ctx, lease.AcquireRequest{Principal: tenant, DatabaseKey: "tenants/a/main", HolderID: "reddb-0", TTLMs: 60_000, Term: 1})
	_, err := svc.Release(ctx, lease.ReleaseRequest{Principal: other, DatabaseKey: l.DatabaseKey, HolderID: l.HolderID, Generation: l.Generation})
	fmt.Println(errors.Is(err, lease.ErrForbidden), other.Allows("tenants/b/main"))

	got, _ := svc.ForceRelease(ctx, lease.ForceReleaseRequest{Principal: ops, DatabaseKey: l.DatabaseKey})
	fmt.Println("released", got.Lease.HolderID, "of", got.Principal)
	// Output:
	// true false
	// released reddb-0 of tenant-a-reddb
}

// Two instances share a store; the second's clock is 8 s behind. Its
// refresh would write an expiry 8 s earlier than the holder counts on, so
// it refuses, and the first instance still serves the holder.
func ExampleClockSkewError() {
	store := memory.New(memory.Options{})
	start := time.UnixMilli(1767225600000)
	good, _ := lease.New(lease.Config{Store: store, Now: func() time.Time { return start }})
	behind, _ := lease.New(lease.Config{Store: store, Now: func() time.Time { return start.Add(-8 * time.Second) }})
	ctx := context.Background()

	l, _ := good.Acquire(ctx, lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "main", HolderID: "reddb-0", TTLMs: 10_000, Term: 1})
	refresh := lease.RefreshRequest{Principal: lease.Anonymous, DatabaseKey: "main", HolderID: "reddb-0", Generation: l.Generation, TTLMs: 10_000}
	_, err := behind.Refresh(ctx, refresh)
	var skew *lease.ClockSkewError
	fmt.Println(errors.Is(err, lease.ErrClockSkew), errors.As(err, &skew) && skew.Stamp == "acquired_at_ms", skew.ProvenMs-skew.NowMs)
	_, err = good.Refresh(ctx, refresh)
	fmt.Println(err)
	// Output:
	// true true 8000
	// <nil>
}
