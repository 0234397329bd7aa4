package dynamodb

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/redlease/redlease/pkg/lease"
)

// countingAPI counts the requests per DynamoDB operation of any API, the
// fake or a real client.
type countingAPI struct {
	API
	mu    sync.Mutex
	calls map[string]int
}

func newCountingAPI(api API) *countingAPI { return &countingAPI{API: api, calls: map[string]int{}} }

func (c *countingAPI) add(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[op]++
}

func (c *countingAPI) take() (gets, puts, scans int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	gets, puts, scans = c.calls["GetItem"], c.calls["PutItem"], c.calls["Scan"]
	clear(c.calls)
	return gets, puts, scans
}

func (c *countingAPI) GetItem(ctx context.Context, in *awsddb.GetItemInput, o ...func(*awsddb.Options)) (*awsddb.GetItemOutput, error) {
	c.add("GetItem")
	return c.API.GetItem(ctx, in, o...)
}

func (c *countingAPI) PutItem(ctx context.Context, in *awsddb.PutItemInput, o ...func(*awsddb.Options)) (*awsddb.PutItemOutput, error) {
	c.add("PutItem")
	return c.API.PutItem(ctx, in, o...)
}

func (c *countingAPI) Scan(ctx context.Context, in *awsddb.ScanInput, o ...func(*awsddb.Options)) (*awsddb.ScanOutput, error) {
	c.add("Scan")
	return c.API.Scan(ctx, in, o...)
}

// checkServiceCallCounts drives lease.Service over a store on api and pins
// how many DynamoDB requests each lease operation costs, cold (a fresh
// instance) and warm (an instance that wrote the key last and cached its
// version). RedDB's own client needs 6 requests to acquire, 5 to refresh,
// 4 to release.
func checkServiceCallCounts(t *testing.T, api API, table, key string) {
	t.Helper()
	ctx := context.Background()
	counter := newCountingAPI(api)
	store, err := New(counter, table, Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.UnixMilli(1767225600000)
	clock := func() time.Time { return now }
	newService := func() *lease.Service {
		svc, err := lease.New(lease.Config{Store: store, Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	a, b := newService(), newService() // two Lambda instances
	const ttl = 60000
	var gen uint64
	steps := []struct {
		name       string
		do         func() error
		gets, puts int
	}{
		{"acquire, cold, new key", func() error {
			l, err := a.Acquire(ctx, lease.AcquireRequest{DatabaseKey: key, HolderID: "reddb-0", TTLMs: ttl, Term: 1})
			gen = l.Generation
			return err
		}, 1, 1},
		{"refresh, warm", func() error {
			_, err := a.Refresh(ctx, lease.RefreshRequest{DatabaseKey: key, HolderID: "reddb-0", Generation: gen, TTLMs: ttl})
			return err
		}, 0, 1},
		{"refresh, cold (other instance)", func() error {
			_, err := b.Refresh(ctx, lease.RefreshRequest{DatabaseKey: key, HolderID: "reddb-0", Generation: gen, TTLMs: ttl})
			return err
		}, 1, 1},
		// ALL_OLD hands back the winner: no re-read.
		{"refresh, stale cache (ALL_OLD, write)", func() error {
			_, err := a.Refresh(ctx, lease.RefreshRequest{DatabaseKey: key, HolderID: "reddb-0", Generation: gen, TTLMs: ttl})
			return err
		}, 0, 2},
		{"acquire refused as held, warm", func() error {
			_, err := a.Acquire(ctx, lease.AcquireRequest{DatabaseKey: key, HolderID: "reddb-1", TTLMs: ttl, Term: 1})
			if !errors.Is(err, lease.ErrHeld) {
				return err
			}
			return nil
		}, 1, 0},
		{"release, warm", func() error {
			_, err := a.Release(ctx, lease.ReleaseRequest{DatabaseKey: key, HolderID: "reddb-0", Generation: gen})
			return err
		}, 0, 1},
		{"get", func() error { _, err := a.Get(ctx, key); return err }, 1, 0},
		{"acquire after release, cold (other instance)", func() error {
			_, err := newService().Acquire(ctx, lease.AcquireRequest{DatabaseKey: key, HolderID: "reddb-1", TTLMs: ttl, Term: 1})
			return err
		}, 1, 1},
	}
	t.Logf("%-46s %7s %7s", "operation", "GetItem", "PutItem")
	for _, st := range steps {
		counter.take()
		now = now.Add(time.Second)
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		gets, puts, scans := counter.take()
		t.Logf("%-46s %7d %7d", st.name, gets, puts)
		if gets != st.gets || puts != st.puts || scans != 0 {
			t.Errorf("%s: %d GetItem, %d PutItem, %d Scan; want %d, %d, 0", st.name, gets, puts, scans, st.gets, st.puts)
		}
	}
}

func TestServiceCallCounts(t *testing.T) {
	t.Parallel()
	checkServiceCallCounts(t, newFakeDynamoDB(testTable), testTable, "clusters/dev/data.rdb")
}
