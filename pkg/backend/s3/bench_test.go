package s3

import (
	"testing"

	"github.com/redlease/redlease/pkg/backend/backendtest"
)

// BenchmarkStoreOpsFake is the in-process baseline: the cost of the store
// and the Service without any network.
func BenchmarkStoreOpsFake(b *testing.B) {
	s, fake := newTestStore(b, Options{})
	backendtest.BenchmarkService(b, s, fake.Counter(b, "GetObject", "PutObject"))
}
