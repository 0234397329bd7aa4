package s3

import (
	"context"
	"sync"
	"testing"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/redlease/redlease/pkg/backend/backendtest"
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

// checkServiceCallCounts runs the shared call-count walk on a store over
// api: S3 re-reads after a 412, so a stale cache costs one GetObject.
func checkServiceCallCounts(t *testing.T, api API, bucket string, opts Options, key string) {
	t.Helper()
	counter := newCountingAPI(api)
	store, err := New(counter, bucket, opts)
	if err != nil {
		t.Fatal(err)
	}
	backendtest.CheckServiceCallCounts(t, store, counter.forSuite(t), key, backendtest.Costs{Reads: 1, Writes: 2})
}

// forSuite adapts the counter to backendtest; a listing is never expected.
func (c *countingAPI) forSuite(tb testing.TB) backendtest.Counter {
	return backendtest.Counter{
		Take: func() (int, int) {
			gets, puts, lists := c.take()
			if lists != 0 {
				tb.Errorf("%d unexpected ListObjectsV2 calls", lists)
			}
			return gets, puts
		},
		ReadName: "GetObject", WriteName: "PutObject",
	}
}

func TestServiceCallCounts(t *testing.T) {
	t.Parallel()
	checkServiceCallCounts(t, newFakeS3(testBucket), testBucket, Options{}, "clusters/dev/data.rdb")
}
