package s3

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/objects"
	"github.com/redlease/redlease/pkg/objects/objectstest"
)

// smallParts keeps the suite's large objects multipart without allocating
// S3-sized parts: the minimum is enforced by NewObjects, so the test sets
// the field afterwards.
func fakeObjects(t testing.TB, f *fakeS3) *Objects {
	t.Helper()
	s, err := NewObjects(f, ObjectsOptions{Bucket: f.bucket, Reserved: DefaultPrefix})
	if err != nil {
		t.Fatal(err)
	}
	s.opts.PartSize = 64 << 10
	return s
}

func TestObjectsConformanceOnFake(t *testing.T) {
	t.Parallel()
	objectstest.Run(t, func(t *testing.T) objectstest.Store {
		return fakeObjects(t, newFakeS3("bucket"))
	}, objectstest.Options{Reserved: DefaultPrefix, LargeSize: 64<<10*5 + 123})
}

// Every multipart upload that does not become the object is aborted: a
// refused commit, a refused condition and a body that breaks off.
func TestObjectsAbortsUnfinishedUploads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFakeS3("bucket")
	s := fakeObjects(t, f)
	size := int64(64<<10*3 + 1)
	data := bytes.Repeat([]byte{7}, int(size))
	if _, err := s.Put(ctx, "k", bytes.NewReader(data), size, objects.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	refused := errors.New("fenced")
	cases := []struct {
		name string
		body func() *bytes.Reader
		size int64
		opts objects.PutOptions
		want error
	}{
		{"refused commit", func() *bytes.Reader { return bytes.NewReader(data) }, size,
			objects.PutOptions{BeforeCommit: func(context.Context) (time.Time, error) { return time.Time{}, refused }}, refused},
		{"condition", func() *bytes.Reader { return bytes.NewReader(data) }, size,
			objects.PutOptions{Condition: objects.Condition{IfNoneMatch: true}}, lease.ErrPrecondition},
		{"short body", func() *bytes.Reader { return bytes.NewReader(data[:size-5]) }, size, objects.PutOptions{}, lease.ErrInvalid},
	}
	for _, tc := range cases {
		before := f.aborts
		_, err := s.Put(ctx, "k", tc.body(), tc.size, tc.opts)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
		if f.aborts != before+1 || f.openUploads() != 0 {
			t.Errorf("%s: %d aborts, %d uploads left open; want the upload aborted", tc.name, f.aborts-before, f.openUploads())
		}
	}
	got, _, err := s.Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(got); err != nil || !bytes.Equal(b.Bytes(), data) {
		t.Errorf("object changed by refused writes (%v)", err)
	}
}

// Small bodies are one PutObject; a body of exactly one part is too.
func TestObjectsSmallBodiesAreOnePut(t *testing.T) {
	t.Parallel()
	f := newFakeS3("bucket")
	s := fakeObjects(t, f)
	for _, n := range []int{0, 1, 64 << 10} {
		before := f.Count("PutObject")
		if _, err := s.Put(context.Background(), "k", bytes.NewReader(make([]byte, n)), int64(n), objects.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		if got := f.Count("PutObject") - before; got != 1 || f.Count("CreateMultipartUpload") != 0 {
			t.Errorf("%d bytes: %d PutObject and %d multipart uploads, want one PutObject", n, got, f.Count("CreateMultipartUpload"))
		}
	}
}

// BenchmarkObjectsPutPeakHeap streams a 1 GiB object into the S3 object
// store (a fake that keeps no part bytes) with the default part size and
// parts in flight, and reports the peak live heap: bounded by
// (PartsInFlight+1) x PartSize, 24 MiB, whatever the size.
func BenchmarkObjectsPutPeakHeap(b *testing.B) {
	const size = 1 << 30
	f := newFakeS3("bucket")
	f.discardParts = true
	s, err := NewObjects(f, ObjectsOptions{Bucket: "bucket"})
	if err != nil {
		b.Fatal(err)
	}
	var peak uint64
	b.SetBytes(size)
	for b.Loop() {
		peak = max(peak, objectstest.PeakHeap(func() {
			if _, err := s.Put(context.Background(), "clusters/big/data.rdb", objectstest.NewStream(size), size, objects.PutOptions{}); err != nil {
				b.Fatal(err)
			}
		}))
	}
	bound := float64((DefaultPartsInFlight + 1) * DefaultPartSize)
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(bound/(1<<20), "bound-MiB")
}
