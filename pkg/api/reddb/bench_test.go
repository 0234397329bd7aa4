package reddb_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/api/httpserver"
	"github.com/redlease/redlease/pkg/api/reddb"
	"github.com/redlease/redlease/pkg/backend/file"
	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/objects/objectstest"
)

// BenchmarkServeStreamsLargeObjects puts a 1 GiB data object through what
// `redlease serve` runs (net/http, the httpserver adapter, this face, the
// file object store) and reads it back, over a real loopback connection,
// and reports the peak live heap of each direction: a 1 GiB object must
// not need 1 GiB of memory. The figures are the bound (a copy buffer per
// direction), not a timing.
func BenchmarkServeStreamsLargeObjects(b *testing.B) {
	const size = 1 << 30
	svc, err := lease.New(lease.Config{Store: memory.New(memory.Options{})})
	if err != nil {
		b.Fatal(err)
	}
	objs, err := file.OpenObjects(file.ObjectsOptions{Dir: b.TempDir(), Reserved: lease.DefaultPrefix})
	if err != nil {
		b.Fatal(err)
	}
	face, err := reddb.New(reddb.Config{Service: svc, Objects: objs})
	if err != nil {
		b.Fatal(err)
	}
	// As redlease serve without a tokens document: every caller anonymous.
	srv := httptest.NewServer(httpserver.Handler(api.Authenticate(face, api.Open())))
	defer srv.Close()
	url := srv.URL + "/v1/reddb/clusters/big/data.rdb"
	var putPeak, getPeak uint64
	b.SetBytes(2 * size)
	for b.Loop() {
		putPeak = max(putPeak, objectstest.PeakHeap(func() {
			req, err := http.NewRequestWithContext(context.Background(), http.MethodPut, url, objectstest.NewStream(size))
			if err != nil {
				b.Fatal(err)
			}
			req.ContentLength = size
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("PUT: %d", resp.StatusCode)
			}
		}))
		getPeak = max(getPeak, objectstest.PeakHeap(func() {
			resp, err := http.Get(url)
			if err != nil {
				b.Fatal(err)
			}
			n, err := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil || n != size || resp.ContentLength != size {
				b.Fatalf("GET: %d bytes of %d (%v)", n, resp.ContentLength, err)
			}
		}))
	}
	b.ReportMetric(float64(putPeak)/(1<<20), "put-peak-heap-MiB")
	b.ReportMetric(float64(getPeak)/(1<<20), "get-peak-heap-MiB")
	b.Logf("1 GiB object: peak live heap %s for the PUT, %s for the GET (server and client in one process)",
		mib(putPeak), mib(getPeak))
}

func mib(n uint64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
