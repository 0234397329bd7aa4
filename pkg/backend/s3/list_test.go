package s3

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/redlease/redlease/pkg/backend/backendtest"
	"github.com/redlease/redlease/pkg/lease"
)

func listAll(t *testing.T, s *Store, limit int) (map[string]lease.Versioned, int) {
	t.Helper()
	got := map[string]lease.Versioned{}
	cursor, pages := "", 0
	for {
		page, err := s.List(context.Background(), cursor, limit)
		if err != nil {
			t.Fatalf("List(%q): %v", cursor, err)
		}
		pages++
		for _, v := range page.Records {
			if _, dup := got[v.Record.DatabaseKey]; dup {
				t.Fatalf("List returned %q twice", v.Record.DatabaseKey)
			}
			got[v.Record.DatabaseKey] = v
		}
		if page.Next == "" {
			return got, pages
		}
		cursor = page.Next
	}
}

func TestListSkipsKeyThatVanished(t *testing.T) {
	t.Parallel()
	s, fake := newTestStore(t, Options{})
	for i := range 5 {
		if _, err := s.Create(context.Background(), record(fmt.Sprintf("db%d", i), "h", 1)); err != nil {
			t.Fatal(err)
		}
	}
	// The listing names db2; by the time its GetObject runs it is gone.
	var once sync.Once
	fake.afterList = func() { once.Do(func() { fake.remove("leases/db2.lease.json") }) }
	got, _ := listAll(t, s, 100)
	if len(got) != 4 {
		t.Fatalf("List returned %d records, want the 4 that still exist", len(got))
	}
	if _, ok := got["db2"]; ok {
		t.Fatalf("List returned the vanished db2")
	}
}

func TestListIgnoresOtherObjectsAndPages(t *testing.T) {
	t.Parallel()
	s, fake := newTestStore(t, Options{})
	want := map[string]lease.Version{}
	for i := range 7 {
		key := fmt.Sprintf("clusters/%d/data.rdb", i)
		v, err := s.Create(context.Background(), record(key, "h", uint64(i+1)))
		if err != nil {
			t.Fatal(err)
		}
		want[key] = v
	}
	fake.putRaw("leases/README.txt", []byte("not a lease"))
	fake.putRaw("leases/.lease.json", []byte("no key"))
	fake.putRaw("other/x.lease.json", lease.EncodeRecord(record("x", "h", 1)))
	got, pages := listAll(t, s, 3)
	if len(got) != len(want) {
		t.Fatalf("List returned %d records, want %d", len(got), len(want))
	}
	for k, v := range want {
		if got[k].Version != v {
			t.Errorf("List version of %q = %q, want %q", k, got[k].Version, v)
		}
	}
	if pages < 3 {
		t.Errorf("List used %d pages for 9 objects at limit 3", pages)
	}
	for _, in := range fake.lists {
		if aws.ToString(in.Prefix) != "leases/" || aws.ToInt32(in.MaxKeys) != 3 {
			t.Errorf("ListObjectsV2 prefix %q, max keys %d; want leases/, 3", aws.ToString(in.Prefix), aws.ToInt32(in.MaxKeys))
		}
	}
}

func TestListReportsCorruptRecordAndGoesOn(t *testing.T) {
	t.Parallel()
	s, fake := newTestStore(t, Options{})
	for i := range 20 {
		if _, err := s.Create(context.Background(), record(fmt.Sprintf("db%02d", i), "h", 1)); err != nil {
			t.Fatal(err)
		}
	}
	fake.putRaw("leases/db07.lease.json", []byte("{"))
	page, err := s.List(context.Background(), "", 100)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(page.Records) != 19 || len(page.Unreadable) != 1 || page.Unreadable[0] != "db07" {
		t.Fatalf("List = %d records, unreadable %v; want 19 and [db07]", len(page.Records), page.Unreadable)
	}
}

func TestListMapsErrors(t *testing.T) {
	t.Parallel()
	s, fake := newTestStore(t, Options{})
	if _, err := s.Create(context.Background(), record("k", "h", 1)); err != nil {
		t.Fatal(err)
	}
	fake.FailNext("ListObjectsV2", s3Error("ListObjectsV2", 503, "SlowDown"))
	_, err := s.List(context.Background(), "", 10)
	backendtest.WantUnavailable.Check(t, err)
	fake.FailNext("GetObject", s3Error("GetObject", 500, "InternalError"))
	_, err = s.List(context.Background(), "", 10)
	backendtest.WantUnavailable.Check(t, err)
}

// TestListBoundsConcurrentGets: a page's GetObjects overlap, but never more
// than ListConcurrency at once. Inside a synctest bubble each GetObject
// takes a fake 50 ms, so every request that can be in flight is.
func TestListBoundsConcurrentGets(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s, fake := newTestStore(t, Options{ListConcurrency: 4})
		for i := range 30 {
			if _, err := s.Create(context.Background(), record(fmt.Sprintf("db%02d", i), "h", 1)); err != nil {
				t.Fatal(err)
			}
		}
		var mu sync.Mutex
		inFlight, peak := 0, 0
		fake.onGet = func() {
			mu.Lock()
			inFlight++
			peak = max(peak, inFlight)
			mu.Unlock()
			time.Sleep(50 * time.Millisecond)
			mu.Lock()
			inFlight--
			mu.Unlock()
		}
		start := time.Now()
		page, err := s.List(context.Background(), "", 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Records) != 30 {
			t.Fatalf("List returned %d records, want 30", len(page.Records))
		}
		if peak != 4 {
			t.Errorf("peak GetObjects in flight = %d, want ListConcurrency 4", peak)
		}
		// 30 requests, 4 at a time, 50 ms each: 8 rounds.
		if took := time.Since(start); took != 8*50*time.Millisecond {
			t.Errorf("List took %v of fake time, want 400ms", took)
		}
		for i, v := range page.Records {
			if want := fmt.Sprintf("db%02d", i); v.Record.DatabaseKey != want {
				t.Fatalf("record %d is %q, want %q (listing order)", i, v.Record.DatabaseKey, want)
			}
		}
	})
}
