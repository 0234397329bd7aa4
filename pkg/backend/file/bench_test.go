package file_test

import (
	"context"
	"testing"

	"github.com/redlease/redlease/pkg/backend/file"
)

// BenchmarkReplace measures one compare-and-swap on a warm key: lock, read,
// write a temporary file, two fsyncs, rename. It is bound by fsync latency
// of the file system under b.TempDir.
func BenchmarkReplace(b *testing.B) {
	s := file.New(file.Options{Dir: b.TempDir()})
	ctx := context.Background()
	rec := record("clusters/dev/data.rdb", "reddb-0", 1)
	v, err := s.Create(ctx, rec)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		rec.Generation++
		if v, err = s.Replace(ctx, rec, v); err != nil {
			b.Fatal(err)
		}
	}
}
