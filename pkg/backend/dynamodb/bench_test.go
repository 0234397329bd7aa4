package dynamodb

import (
	"testing"

	"github.com/redlease/redlease/pkg/backend/backendtest"
)

// benchServiceOps runs the shared service benchmark on a store over api and
// reports DynamoDB requests per operation.
func benchServiceOps(b *testing.B, api API, table string) {
	counter := newCountingAPI(api)
	store, err := New(counter, table, Options{})
	if err != nil {
		b.Fatal(err)
	}
	backendtest.BenchmarkService(b, store, counter.forSuite(b))
}

// BenchmarkStoreOpsFake is the in-process baseline: the cost of the store
// and the Service without any network.
func BenchmarkStoreOpsFake(b *testing.B) {
	benchServiceOps(b, newFakeDynamoDB(testTable), testTable)
}
