package s3

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redlease/redlease/internal/testclock"
	"github.com/redlease/redlease/pkg/sweep"
	"github.com/redlease/redlease/pkg/sweep/sweeptest"
)

// sweepOver builds a sweeper over s at 2026-01-01T00:01:00Z, logging to
// the returned buffer as JSON.
func sweepOver(t *testing.T, s *Store, pub sweep.Publisher) (*sweep.Sweeper, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	sw, err := sweep.New(sweep.Config{Store: s, Publisher: pub, Now: testclock.New(testclock.Epoch.Add(time.Minute)).Now,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return sw, &logs
}

// One object that cannot be read never stops the sweep: an object another
// writer keeps from this role (AccessDenied), one encrypted with a KMS key
// the sweep may not use, one S3 keeps throttling beyond the retries, and one
// that is not a lease record are each counted and logged by key, and every
// other record on the page is swept. The next run reads the three again
// (the corrupt one is known and not re-read) and reports what it now can.
func TestObjectsThatCannotBeReadDoNotStopTheSweep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, fake := newTestStore(t, Options{})
	expired := record("x", "h", 1) // expires 2026-01-01T00:01:00Z, the sweep's now
	for i := range 12 {
		r := expired
		r.DatabaseKey = fmt.Sprintf("db/%02d", i)
		if _, err := s.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	fake.putRaw(s.ObjectKey("db/05"), []byte("{"))
	fake.getErr = map[string]error{
		s.ObjectKey("db/02"): s3Error("GetObject", http.StatusForbidden, "AccessDenied"),
		s.ObjectKey("db/07"): s3Error("GetObject", http.StatusBadRequest, "KMS.DisabledException"),
		s.ObjectKey("db/09"): s3Error("GetObject", http.StatusServiceUnavailable, "SlowDown"),
	}
	pub := &sweeptest.Recorder{}
	sw, logs := sweepOver(t, s, pub)
	res, err := sw.Run(ctx)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Reported != 8 || res.ReadErrors != 3 || res.Unreadable != 1 || res.Truncated || res.CyclesCompleted != 1 {
		t.Fatalf("result %+v, want 8 reported, 3 read errors, 1 unreadable, the cycle complete", res)
	}
	got := pub.Keys()
	for _, bad := range []string{"db/02", "db/05", "db/07", "db/09"} {
		if got[bad] > 0 {
			t.Errorf("%s was reported although it could not be read", bad)
		}
		if !strings.Contains(logs.String(), `"database_key":"`+bad+`"`) {
			t.Errorf("no log line names %s:\n%s", bad, logs)
		}
	}
	for _, code := range []string{"AccessDenied", "KMS.DisabledException", "SlowDown"} {
		if !strings.Contains(logs.String(), code) {
			t.Errorf("the logs do not say %s", code)
		}
	}

	fake.getErr = nil
	fake.Reset()
	res, err = sw.Run(ctx)
	if err != nil || res.Reported != 3 || res.Unreadable != 1 || res.ReadErrors != 0 {
		t.Fatalf("second run %+v, %v; want the three reported now, the corrupt one still counted", res, err)
	}
	// The state GET, then the three that failed: not the corrupt one, not
	// the eight marked by the first run.
	if n := fake.Count("GetObject"); n != 4 {
		t.Errorf("second run made %d GetObject calls, want 4 (the state and the three that had failed)", n)
	}
	if got := pub.Keys(); len(got) != 3 || got["db/02"] != 1 || got["db/07"] != 1 || got["db/09"] != 1 {
		t.Errorf("second run reported %v", got)
	}
}

// A role without s3:ListBucket on the state object gets 403 for a state
// that does not exist yet: the sweep runs without it and creates it with
// If-None-Match, which succeeds, so the next run has it.
func TestStateDeniedBecauseMissingIsCreated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, fake := newTestStore(t, Options{})
	if _, err := s.Create(ctx, record("k", "h", 1)); err != nil {
		t.Fatal(err)
	}
	fake.getErr = map[string]error{s.StateKey(): s3Error("GetObject", http.StatusForbidden, "AccessDenied")}
	sw, logs := sweepOver(t, s, &sweeptest.Recorder{})
	res, err := sw.Run(ctx)
	if err != nil || res.StateLoaded || res.StateBytes == 0 {
		t.Fatalf("Run = %+v, %v; want a run without state that then saves one", res, err)
	}
	fake.getErr = nil
	if res, _ := sw.Run(ctx); !res.StateLoaded || res.Read != 0 {
		t.Fatalf("second run %+v, want the state found and nothing read", res)
	}
	if strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Errorf("a state that did not exist yet logged an error:\n%s", logs)
	}
	put := fake.puts[len(fake.puts)-1]
	if put.IfMatch == nil || put.IfNoneMatch != nil {
		t.Errorf("the second save sent If-Match %v, If-None-Match %v; want If-Match only", put.IfMatch, put.IfNoneMatch)
	}
}

// A state the sweep may write but not read (a KMS key it lacks, say) is
// found out by the refused create, and reported as the error it is.
func TestStateThatExistsButCannotBeReadIsAnError(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, fake := newTestStore(t, Options{})
	if _, err := s.SaveState(ctx, []byte("someone's state"), ""); err != nil {
		t.Fatal(err)
	}
	fake.getErr = map[string]error{s.StateKey(): s3Error("GetObject", http.StatusForbidden, "AccessDenied")}
	sw, logs := sweepOver(t, s, &sweeptest.Recorder{})
	if _, err := sw.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !strings.Contains(logs.String(), "sweep state exists but cannot be read") {
		t.Errorf("logs do not say the state cannot be read:\n%s", logs)
	}
	if data, _, _ := fakeObjectData(fake, s.StateKey()); string(data) != "someone's state" {
		t.Errorf("the unreadable state was overwritten with %q", data)
	}
}

func fakeObjectData(f *fakeS3, key string) ([]byte, string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	obj, ok := f.objects[key]
	return obj.data, obj.etag, ok
}

// An object deleted between the listing and its read is no error and no
// report: it is simply no longer there to sweep.
func TestObjectGoneBeforeItsReadIsSkipped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, fake := newTestStore(t, Options{})
	for _, k := range []string{"a", "b", "c"} {
		if _, err := s.Create(ctx, record(k, "h", 1)); err != nil {
			t.Fatal(err)
		}
	}
	var once sync.Once
	fake.afterList = func() { once.Do(func() { fake.remove(s.ObjectKey("b")) }) }
	pub := &sweeptest.Recorder{}
	sw, logs := sweepOver(t, s, pub)
	res, err := sw.Run(ctx)
	if err != nil || res.Reported != 2 || res.ReadErrors != 0 || res.Unreadable != 0 || pub.Keys()["b"] > 0 {
		t.Fatalf("Run = %+v, %v; want a and c reported and b gone quietly\n%s", res, err, logs)
	}
}
