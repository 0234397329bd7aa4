package s3

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/redlease/redlease/pkg/backend/backendtest"
	"github.com/redlease/redlease/pkg/lease"
)

func listAll(t *testing.T, s *Store, limit int) (map[string]lease.Entry, int) {
	t.Helper()
	got := map[string]lease.Entry{}
	cursor, pages := "", 0
	for {
		page, err := s.List(context.Background(), cursor, limit)
		if err != nil {
			t.Fatalf("List(%q): %v", cursor, err)
		}
		pages++
		for _, e := range page.Entries {
			if _, dup := got[e.Key]; dup {
				t.Fatalf("List returned %q twice", e.Key)
			}
			got[e.Key] = e
		}
		if page.Next == "" {
			return got, pages
		}
		cursor = page.Next
	}
}

// TestListIsOneRequestPerPageAndReadsNothing: a page is one ListObjectsV2
// call and no GetObject; every entry's tag and version is its ETag, the one
// Load and If-Match see.
func TestListIsOneRequestPerPageAndReadsNothing(t *testing.T) {
	t.Parallel()
	s, fake := newTestStore(t, Options{})
	want := map[string]lease.Version{}
	for i := range 25 {
		key := fmt.Sprintf("clusters/%02d/data.rdb", i)
		v, err := s.Create(context.Background(), record(key, "h", uint64(i+1)))
		if err != nil {
			t.Fatal(err)
		}
		want[key] = v
	}
	fake.Reset()
	got, pages := listAll(t, s, 10)
	if pages != 3 || fake.Count("ListObjectsV2") != 3 || fake.Count("GetObject") != 0 {
		t.Fatalf("%d pages, %d ListObjectsV2, %d GetObject; want 3, 3, 0",
			pages, fake.Count("ListObjectsV2"), fake.Count("GetObject"))
	}
	for k, v := range want {
		e := got[k]
		if e.Version != v || e.Tag != string(v) || e.Record != nil {
			t.Errorf("%q listed as %+v, want tag and version %s and no record", k, e, v)
		}
	}
}

// TestListCursorIsTheLastObjectKey: the cursor is the object key the page
// ended on and goes back as StartAfter (never a continuation token, which
// a later process could not rely on), so a store built later continues
// where an earlier one stopped.
func TestListCursorIsTheLastObjectKey(t *testing.T) {
	t.Parallel()
	s, fake := newTestStore(t, Options{})
	for i := range 7 {
		if _, err := s.Create(context.Background(), record(fmt.Sprintf("db%d", i), "h", 1)); err != nil {
			t.Fatal(err)
		}
	}
	first, err := s.List(context.Background(), "", 3)
	if err != nil || first.Next != "leases/db2.lease.json" {
		t.Fatalf("List = %+v, %v; want Next leases/db2.lease.json", first, err)
	}
	later, err := New(fake, Options{Bucket: testBucket})
	if err != nil {
		t.Fatal(err)
	}
	second, err := later.List(context.Background(), first.Next, 3)
	if err != nil || len(second.Entries) != 3 || second.Entries[0].Key != "db3" {
		t.Fatalf("List after the cursor = %+v, %v; want db3..db5", second, err)
	}
	in := fake.lists[len(fake.lists)-1]
	if aws.ToString(in.StartAfter) != first.Next || in.ContinuationToken != nil {
		t.Errorf("ListObjectsV2 StartAfter %q, ContinuationToken %v; want the cursor as StartAfter only",
			aws.ToString(in.StartAfter), in.ContinuationToken)
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
	if _, err := s.SaveState(context.Background(), []byte("state"), ""); err != nil {
		t.Fatal(err)
	}
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

func TestListMapsErrors(t *testing.T) {
	t.Parallel()
	s, fake := newTestStore(t, Options{})
	if _, err := s.Create(context.Background(), record("k", "h", 1)); err != nil {
		t.Fatal(err)
	}
	fake.FailNext("ListObjectsV2", s3Error("ListObjectsV2", 503, "SlowDown"))
	_, err := s.List(context.Background(), "", 10)
	backendtest.WantUnavailable.Check(t, err)
	fake.FailNext("ListObjectsV2", s3Error("ListObjectsV2", 403, "AccessDenied"))
	_, err = s.List(context.Background(), "", 10)
	backendtest.WantOther.Check(t, err)
}
