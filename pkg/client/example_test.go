package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/client"
	"github.com/redlease/redlease/pkg/client/clienttest"
	"github.com/redlease/redlease/pkg/lease"
)

// exampleServer stands in for `redlease serve`: the real HTTP adapter over
// an in-memory store, on 127.0.0.1, with the service on clock now.
func exampleServer(now func() time.Time) *httptest.Server {
	svc, err := lease.New(lease.Config{Store: memory.New(memory.Options{}), Now: now})
	if err != nil {
		panic(err)
	}
	return httptest.NewServer(newContractHandler(svc))
}

func ExampleClient_Acquire() {
	srv := exampleServer(time.Now)
	defer srv.Close()
	c, err := client.New(client.Options{Endpoint: srv.URL}) // redlease serve: unsigned
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	g, err := c.Acquire(ctx, client.AcquireRequest{DatabaseKey: "clusters/dev/data.rdb", HolderID: "reddb-0-1", TTL: time.Minute})
	if err != nil {
		panic(err)
	}
	fmt.Println("holder", g.Lease.HolderID, "term", g.Lease.Term, "generation", g.Lease.Generation)
	fmt.Println("deadline is send time + ttl:", g.Deadline().Equal(g.SentAt.Add(time.Minute)))

	// Another holder is refused while the lease is live.
	_, err = c.Acquire(ctx, client.AcquireRequest{DatabaseKey: "clusters/dev/data.rdb", HolderID: "reddb-1-1", TTL: time.Minute})
	var held *lease.HeldError
	if errors.As(err, &held) {
		fmt.Println("held by", held.Current.HolderID, "generation", held.Current.Generation)
	}
	fmt.Println("errors.Is(err, lease.ErrHeld):", errors.Is(err, lease.ErrHeld))
	// Output:
	// holder reddb-0-1 term 1 generation 1
	// deadline is send time + ttl: true
	// held by reddb-0-1 generation 1
	// errors.Is(err, lease.ErrHeld): true
}

func ExampleAPIError() {
	srv := exampleServer(time.Now)
	defer srv.Close()
	c, _ := client.New(client.Options{Endpoint: srv.URL})
	_, err := c.Refresh(context.Background(), client.RefreshRequest{
		DatabaseKey: "main", HolderID: "reddb-0-1", Generation: 7, TTL: time.Minute})
	var ae *client.APIError
	if errors.As(err, &ae) {
		fmt.Println(ae.StatusCode, ae.Code, ae.RequestID != "")
	}
	fmt.Println("stale:", errors.Is(err, lease.ErrStale))
	// Output:
	// 409 stale true
	// stale: true
}

// Wait sleeps until the holder's lease expires (plus jitter) and then takes
// it. The example runs on a test clock that jumps over each sleep.
func ExampleClient_Wait() {
	clock := clienttest.NewClock(time.UnixMilli(1767225600000))
	clock.AutoAdvance(true)
	srv := exampleServer(clock.Now)
	defer srv.Close()
	c, _ := client.New(client.Options{Endpoint: srv.URL, Clock: clock})
	ctx := context.Background()
	if _, err := c.Acquire(ctx, client.AcquireRequest{DatabaseKey: "main", HolderID: "reddb-0-1", TTL: 30 * time.Second}); err != nil {
		panic(err)
	}
	g, err := c.Wait(ctx, client.AcquireRequest{DatabaseKey: "main", HolderID: "reddb-1-1", TTL: 30 * time.Second},
		&client.WaitOptions{OnHeld: func(h *lease.HeldError, d time.Duration) {
			fmt.Printf("held by %s for %v more\n", h.Current.HolderID, h.RetryAfter)
		}})
	if err != nil {
		panic(err)
	}
	fmt.Println("acquired by", g.Lease.HolderID, "generation", g.Lease.Generation)
	// Output:
	// held by reddb-0-1 for 30s more
	// acquired by reddb-1-1 generation 2
}

func ExampleClient_Keep() {
	srv := exampleServer(time.Now)
	defer srv.Close()
	c, _ := client.New(client.Options{Endpoint: srv.URL})
	ctx := context.Background()
	g, err := c.Acquire(ctx, client.AcquireRequest{DatabaseKey: "main", HolderID: "reddb-0-1", TTL: time.Minute})
	if err != nil {
		panic(err)
	}
	k := c.Keep(ctx, g, client.KeeperOptions{})
	// Do the work that needs the lease with k.Context(): it is cancelled
	// the moment the lease is lost (stale, fenced or past its deadline).
	work := func(ctx context.Context) error { return ctx.Err() }
	if err := work(k.Context()); err != nil {
		fmt.Println("lost:", context.Cause(k.Context()))
	}
	if err := k.Close(ctx); err != nil { // releases
		panic(err)
	}
	snap, _ := c.Get(ctx, "main")
	fmt.Println("state after Close:", snap.State)
	// Output:
	// state after Close: released
}

func ExampleNewAWS() {
	ctx := context.Background()
	// Credentials come from the standard AWS chain (AWS_PROFILE, SSO,
	// instance roles, ...); the region from AWS_REGION or the host name.
	c, err := client.NewAWS(ctx, client.Options{
		Endpoint: "https://abc123.execute-api.eu-west-1.amazonaws.com/prod",
	}, "" /* profile */, "" /* region */)
	if err != nil {
		panic(err)
	}
	snap, err := c.Get(ctx, "clusters/dev/data.rdb")
	if err != nil {
		panic(err)
	}
	fmt.Println(snap.State, snap.Lease.HolderID, snap.ExpiresIn)
}
