package dynamodb

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/redlease/redlease/internal/testclock"
	"github.com/redlease/redlease/pkg/sweep"
	"github.com/redlease/redlease/pkg/sweep/sweeptest"
)

// seedExpired writes n records that have expired at the sweep's now
// (2026-01-01T00:01:00Z), keys db/00, db/01, ...
func seedExpired(t *testing.T, s *Store, n int) {
	t.Helper()
	for i := range n {
		if _, err := s.Create(context.Background(), record(fmt.Sprintf("db/%02d", i), "h", 1)); err != nil {
			t.Fatal(err)
		}
	}
}

func sweepOver(t *testing.T, s *Store, pub sweep.Publisher, pageSize int) (*sweep.Sweeper, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	sw, err := sweep.New(sweep.Config{Store: s, Publisher: pub, Now: testclock.New(testclock.Epoch.Add(time.Minute)).Now,
		PageSize: pageSize, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return sw, &logs
}

// An item that is not a lease record, and a mark DynamoDB keeps throttling
// beyond the retries, are each counted and logged; the rest of the page is
// swept, and the next run reports the throttled one.
func TestBadItemAndThrottledMarkDoNotStopTheSweep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, fake := newTestStore(t)
	seedExpired(t, s, 10)
	bad := encodeItem(record("db/99", "h", 1), 1)
	bad[attrGeneration] = &types.AttributeValueMemberS{Value: "one"}
	fake.putRaw(bad)
	fake.FailNext("PutItem", codeError("PutItem", http.StatusBadRequest, "ProvisionedThroughputExceededException"))
	pub := &sweeptest.Recorder{}
	sw, logs := sweepOver(t, s, pub, 0)
	res, err := sw.Run(ctx)
	if err != nil || res.Reported != 9 || res.Failed != 1 || res.Unreadable != 1 || res.CyclesCompleted != 1 {
		t.Fatalf("Run = %+v, %v; want 9 reported, 1 failed mark, 1 unreadable item", res, err)
	}
	for _, want := range []string{`"database_key":"db/99"`, "ProvisionedThroughputExceededException"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
	if n := len(pub.Keys()); n != 10 {
		t.Errorf("%d events published, want 10 (the throttled mark's event went out)", n)
	}
	res, err = sw.Run(ctx)
	if err != nil || res.Reported != 1 || res.AlreadyReported != 9 || len(pub.Keys()) != 1 {
		t.Fatalf("second run %+v, %v; want the throttled one published again and marked", res, err)
	}
}

// A Scan page that fails (throttled beyond the retries) ends the run with
// the error, but what came before it stays done: the next run starts at
// the failed page, not at the first.
func TestFailedScanPageIsWhereTheNextRunStarts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, fake := newTestStore(t)
	seedExpired(t, s, 40)
	pub := &sweeptest.Recorder{}
	sw, _ := sweepOver(t, s, pub, 8) // 2 items a segment and page
	fake.FailNext("Scan", nil, nil, nil, nil, codeError("Scan", http.StatusBadRequest, "ThrottlingException"))
	res, err := sw.Run(ctx)
	if err == nil || res.Pages != 1 || res.Reported != 8 {
		t.Fatalf("Run = %+v, %v; want the second page's failure after the first page's 8 reported", res, err)
	}
	fake.mu.Lock()
	fake.scans = nil
	fake.mu.Unlock()
	res, err = sw.Run(ctx)
	// It resumes after the first page, reports the other 32, and with
	// time to spare (no deadline) goes round once more, finding all 40
	// reported.
	if err != nil || !res.Resumed || res.Reported != 32 || res.CyclesCompleted != 2 || res.AlreadyReported != 40 {
		t.Fatalf("second run %+v, %v; want it to resume after the first page and report the other 32", res, err)
	}
	fake.mu.Lock()
	first := fake.scans[0]
	fake.mu.Unlock()
	if first.ExclusiveStartKey == nil {
		t.Error("the second run's first Scan started at the table's start")
	}
}
