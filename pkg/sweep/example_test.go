package sweep_test

import (
	"context"
	"fmt"
	"time"

	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/sweep"
)

// printPublisher prints each event's detail and accepts it.
type printPublisher struct{}

func (printPublisher) Publish(_ context.Context, events []sweep.ExpiredEvent) []error {
	for _, e := range events {
		d, _ := e.Detail()
		fmt.Println(d)
	}
	return make([]error, len(events))
}

func ExampleSweeper_Run() {
	store := memory.New(memory.Options{})
	ctx := context.Background()
	_, _ = store.Create(ctx, lease.Record{Lease: lease.Lease{
		DatabaseKey: "clusters/dev/data.rdb", HolderID: "reddb-0-1", Term: 1, Generation: 1,
		AcquiredAtMs: 1767225600000, ExpiresAtMs: 1767225660000,
	}})
	now := func() time.Time { return time.UnixMilli(1767225665000) }
	sw, err := sweep.New(sweep.Config{Store: store, Publisher: printPublisher{}, Now: now})
	if err != nil {
		panic(err)
	}
	first, _ := sw.Run(ctx)
	second, _ := sw.Run(ctx) // the same expiry is not reported twice
	fmt.Println("reported:", first.Reported, second.Reported)
	// Output:
	// {"database_key":"clusters/dev/data.rdb","holder_id":"reddb-0-1","term":1,"generation":1,"acquired_at_ms":1767225600000,"expires_at_ms":1767225660000,"expired_at":"2026-01-01T00:01:00.000Z","expired_for_ms":5000,"event_id":"071c79831098d3e3685dca8a9dda0582"}
	// reported: 1 0
}
