package file_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/redlease/redlease/pkg/backend/file"
	"github.com/redlease/redlease/pkg/lease"
)

// Open a data directory, create a record, and replace it with
// compare-and-swap. The record is a file in the bucket's layout holding
// exactly the bytes RedDB reads.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "redlease-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	s, err := file.Open(file.Options{Dir: dir}) // records under dir/leases/
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	rec := lease.Record{Lease: lease.Lease{
		DatabaseKey: "clusters/dev/data.rdb", HolderID: "reddb-0", Term: 1,
		Generation: 1, AcquiredAtMs: 1767225600000, ExpiresAtMs: 1767225630000,
	}}
	v1, err := s.Create(ctx, rec)
	if err != nil {
		panic(err)
	}

	rec.Generation, rec.HolderID = 2, "reddb-1"
	if _, err := s.Replace(ctx, rec, v1); err != nil {
		panic(err)
	}
	// A second writer that still holds the old version loses.
	_, err = s.Replace(ctx, rec, v1)
	fmt.Println("stale replace refused:", errors.Is(err, lease.ErrPrecondition))

	path, _ := s.RecordPath(rec.DatabaseKey)
	rel, _ := filepath.Rel(dir, path)
	data, _ := os.ReadFile(path)
	fmt.Println(filepath.ToSlash(rel))
	fmt.Println(string(data))
	// Output:
	// stale replace refused: true
	// leases/clusters/dev/data.rdb.lease.json
	// {"acquired_at_ms":1767225600000,"database_key":"clusters/dev/data.rdb","expires_at_ms":1767225630000,"generation":2,"holder_id":"reddb-1","term":1}
}
