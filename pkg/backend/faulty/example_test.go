package faulty_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/redlease/redlease/pkg/backend/faulty"
	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/lease"
)

// The first acquire's write is applied but its answer is lost: the caller
// sees backend_unavailable. Retrying is safe: it gets the next generation.
func Example() {
	store := faulty.New(memory.New(memory.Options{}), faulty.Options{
		Rules: []faulty.Rule{{Op: faulty.OpCreate, Nth: 1, Kind: faulty.FailAfter}},
	})
	svc, _ := lease.New(lease.Config{Store: store})
	req := lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "main", HolderID: "reddb-0", TTLMs: 60000, Term: 1}
	_, err := svc.Acquire(context.Background(), req)
	fmt.Println(errors.Is(err, lease.ErrUnavailable), len(store.Writes()))
	l, err := svc.Acquire(context.Background(), req)
	fmt.Println(l.Generation, err)
	// Output:
	// true 1
	// 2 <nil>
}
