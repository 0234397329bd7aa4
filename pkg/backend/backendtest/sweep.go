package backendtest

import (
	"context"
	"testing"
	"time"

	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/sweep"
	"github.com/redlease/redlease/pkg/sweep/sweeptest"
)

// testSweepMarksTheWholeRecord: the sweep over this store reports an
// expired lease once and its mark changes only expiry_reported_ms, every
// other member (the principal, a refresh's written_at_ms and members
// unknown to this version among them) kept as stored; the next run
// knows the record is reported and reports nothing. A listing or a state
// that dropped a member would show here as a mark that erased it.
func testSweepMarksTheWholeRecord(t *testing.T, s lease.ListingStore, _ Options) {
	ctx := context.Background()
	owned := Record("sweep/owned", "reddb-0", 3)
	owned.Principal = "arn:aws:sts::123456789012:assumed-role/reddb-a/tenant-a"
	// A refresh's stamp and a member of a later version ride along too.
	owned.WrittenAtMs = owned.AcquiredAtMs + 20000
	owned.Unknown = `{"zz_later":{"kept":[1,true,null]}}`
	plain := Record("sweep/plain", "reddb-1", 4)
	for _, rec := range []lease.Record{owned, plain} {
		mustCreate(t, s, rec)
	}
	// Two minutes after Record's acquisition: both expired a minute ago.
	now := time.UnixMilli(int64(owned.ExpiresAtMs)).Add(time.Minute) //nolint:gosec // a 2026 time in ms
	pub := &sweeptest.Recorder{}
	sw, err := sweep.New(sweep.Config{Store: s, Publisher: pub, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	first, err := sw.Run(ctx)
	if err != nil || first.Reported != 2 {
		t.Fatalf("first run = %+v, %v; want both expiries reported", first, err)
	}
	for _, want := range []lease.Record{owned, plain} {
		want.ExpiryReportedMs = lease.UnixMs(now)
		if got := mustLoad(t, s, want.DatabaseKey).Record; got != want {
			t.Errorf("after the mark %q holds %+v, want %+v (only the mark added)", want.DatabaseKey, got, want)
		}
	}
	second, err := sw.Run(ctx)
	if err != nil || second.Reported != 0 || second.AlreadyReported != 2 {
		t.Fatalf("second run = %+v, %v; want nothing reported, both known as reported", second, err)
	}
	if events, _ := pub.Take(); len(events) != 2 {
		t.Fatalf("%d events published over two runs, want 2", len(events))
	}
}
