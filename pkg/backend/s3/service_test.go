package s3

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/redlease/redlease/pkg/lease"
)

// countingAPI counts the requests per S3 operation of any API, the fake or
// a real client.
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

func (c *countingAPI) take() (gets, puts, lists int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	gets, puts, lists = c.calls["GetObject"], c.calls["PutObject"], c.calls["ListObjectsV2"]
	clear(c.calls)
	return gets, puts, lists
}

func (c *countingAPI) GetObject(ctx context.Context, in *awss3.GetObjectInput, o ...func(*awss3.Options)) (*awss3.GetObjectOutput, error) {
	c.add("GetObject")
	return c.API.GetObject(ctx, in, o...)
}

func (c *countingAPI) PutObject(ctx context.Context, in *awss3.PutObjectInput, o ...func(*awss3.Options)) (*awss3.PutObjectOutput, error) {
	c.add("PutObject")
	return c.API.PutObject(ctx, in, o...)
}

func (c *countingAPI) ListObjectsV2(ctx context.Context, in *awss3.ListObjectsV2Input, o ...func(*awss3.Options)) (*awss3.ListObjectsV2Output, error) {
	c.add("ListObjectsV2")
	return c.API.ListObjectsV2(ctx, in, o...)
}

// checkServiceCallCounts drives lease.Service over a store on api and pins
// how many S3 requests each lease operation costs, cold (a fresh instance)
// and warm (an instance that wrote the key last and cached its ETag).
// RedDB's own client needs 6 requests to acquire, 5 to refresh, 4 to release.
func checkServiceCallCounts(t *testing.T, api API, bucket string, opts Options, key string) {
	t.Helper()
	ctx := context.Background()
	counter := newCountingAPI(api)
	store, err := New(counter, bucket, opts)
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
		{"refresh, stale cache (412, re-read, write)", func() error {
			_, err := a.Refresh(ctx, lease.RefreshRequest{DatabaseKey: key, HolderID: "reddb-0", Generation: gen, TTLMs: ttl})
			return err
		}, 1, 2},
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
	t.Logf("%-46s %9s %9s", "operation", "GetObject", "PutObject")
	for _, st := range steps {
		counter.take()
		now = now.Add(time.Second)
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		gets, puts, lists := counter.take()
		t.Logf("%-46s %9d %9d", st.name, gets, puts)
		if gets != st.gets || puts != st.puts || lists != 0 {
			t.Errorf("%s: %d GetObject, %d PutObject, %d ListObjectsV2; want %d, %d, 0",
				st.name, gets, puts, lists, st.gets, st.puts)
		}
	}
}

func TestServiceCallCounts(t *testing.T) {
	t.Parallel()
	checkServiceCallCounts(t, newFakeS3(testBucket), testBucket, Options{}, "clusters/dev/data.rdb")
}
