package s3

import (
	"testing"

	"github.com/redlease/redlease/pkg/backend/backendtest"
)

// benchServiceOps runs the shared service benchmark on a store over api and
// reports S3 requests per operation.
func benchServiceOps(b *testing.B, api API, bucket string, opts Options) {
	counter := newCountingAPI(api)
	store, err := New(counter, bucket, opts)
	if err != nil {
		b.Fatal(err)
	}
	backendtest.BenchmarkService(b, store, counter.forSuite(b))
}

// BenchmarkStoreOpsFake is the in-process baseline: the cost of the store
// and the Service without any network.
func BenchmarkStoreOpsFake(b *testing.B) {
	benchServiceOps(b, newFakeS3(testBucket), testBucket, Options{})
}
