package dynamodb

import (
	"context"
	"sync"
	"testing"

	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/redlease/redlease/pkg/backend/backendtest"
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

// checkServiceCallCounts runs the shared call-count walk on a store over
// api: ALL_OLD hands back the winner, so a stale cache costs no read.
func checkServiceCallCounts(t *testing.T, api API, table, key string) {
	t.Helper()
	counter := newCountingAPI(api)
	store, err := New(counter, table, Options{})
	if err != nil {
		t.Fatal(err)
	}
	backendtest.CheckServiceCallCounts(t, store, counter.forSuite(t), key, backendtest.Costs{Reads: 0, Writes: 2})
}

// forSuite adapts the counter to backendtest; a scan is never expected.
func (c *countingAPI) forSuite(tb testing.TB) backendtest.Counter {
	return backendtest.Counter{
		Take: func() (int, int) {
			gets, puts, scans := c.take()
			if scans != 0 {
				tb.Errorf("%d unexpected Scan calls", scans)
			}
			return gets, puts
		},
		ReadName: "GetItem", WriteName: "PutItem",
	}
}

func TestServiceCallCounts(t *testing.T) {
	t.Parallel()
	checkServiceCallCounts(t, newFakeDynamoDB(testTable), testTable, "clusters/dev/data.rdb")
}
