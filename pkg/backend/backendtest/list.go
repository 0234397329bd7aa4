package backendtest

import (
	"context"
	"fmt"
	"testing"

	"github.com/redlease/redlease/pkg/lease"
)

// listed returns every entry of a full listing by key.
func listed(t *testing.T, s lease.Lister) map[string]lease.Entry {
	t.Helper()
	out := map[string]lease.Entry{}
	for cursor, pages := "", 0; ; pages++ {
		page, err := s.List(context.Background(), cursor, 100)
		if err != nil {
			t.Fatalf("List(%q): %v", cursor, err)
		}
		for _, e := range page.Entries {
			out[e.Key] = e
		}
		if page.Next == "" || pages > 1000 {
			return out
		}
		cursor = page.Next
	}
}

// testListTags: a listing's tag stays put while a record is only read and
// moves with every write, including a write of a record that differs only
// in the sweep's mark; the sweep relies on both to skip unchanged records.
func testListTags(t *testing.T, s lease.ListingStore, _ Options) {
	ctx := context.Background()
	const key = "tags/k"
	v1 := mustCreate(t, s, Record(key, "a", 1))
	first := listed(t, s)[key]
	mustLoad(t, s, key)
	if again := listed(t, s)[key]; again.Tag != first.Tag {
		t.Fatalf("tag moved from %q to %q with no write", first.Tag, again.Tag)
	}
	marked := Record(key, "a", 1)
	marked.ExpiryReportedMs = 1767225700000
	if _, err := s.Replace(ctx, marked, v1); err != nil {
		t.Fatalf("Replace: %v", err)
	}
	second := listed(t, s)[key]
	if second.Tag == first.Tag {
		t.Fatalf("tag %q did not move when the record was rewritten", first.Tag)
	}
	checkEntry(t, s, second)
}

// testListCursorLater: a cursor handed out by one listing still works after
// other writes, as it does for a sweep that continues in a later run.
func testListCursorLater(t *testing.T, s lease.ListingStore, _ Options) {
	ctx := context.Background()
	for i := range 6 {
		mustCreate(t, s, Record(fmt.Sprintf("later/%d", i), "h", 1))
	}
	first, err := s.List(ctx, "", 2)
	if err != nil || first.Next == "" {
		t.Fatalf("List = %+v, %v; want a first page and a cursor", first, err)
	}
	for i := range 6 {
		mustCreate(t, s, Record(fmt.Sprintf("later/new-%d", i), "h", 1))
	}
	seen := map[string]bool{}
	for _, e := range first.Entries {
		seen[e.Key] = true
	}
	for cursor, pages := first.Next, 0; cursor != ""; pages++ {
		page, err := s.List(ctx, cursor, 2)
		if err != nil {
			t.Fatalf("List(%q) after more writes: %v", cursor, err)
		}
		for _, e := range page.Entries {
			if seen[e.Key] {
				t.Fatalf("%q listed again after the cursor passed it", e.Key)
			}
			seen[e.Key] = true
		}
		if pages > 100 {
			t.Fatal("List did not finish")
		}
		cursor = page.Next
	}
	for i := range 6 {
		if k := fmt.Sprintf("later/%d", i); !seen[k] {
			t.Errorf("%q, written before the first page, was never listed", k)
		}
	}
}

// testState: the sweep's state is absent until saved, saved only at the
// version expected, read back as written, and neither listed nor reachable
// as a record.
func testState(t *testing.T, s lease.ListingStore, _ Options) {
	ctx := context.Background()
	if _, _, err := s.LoadState(ctx); !isNotFound(err) {
		t.Fatalf("LoadState of a new store = %v, want ErrNotFound", err)
	}
	mustCreate(t, s, Record("state/k", "h", 1))
	big := make([]byte, 100<<10)
	for i := range big {
		big[i] = byte(i * 7)
	}
	v1, err := s.SaveState(ctx, big, "")
	if err != nil {
		t.Fatalf("SaveState(create): %v", err)
	}
	checkVersion(t, "SaveState", v1)
	if _, err := s.SaveState(ctx, []byte("again"), ""); !isPrecondition(err) {
		t.Fatalf("SaveState(create) over a saved state = %v, want a precondition failure", err)
	}
	data, v, err := s.LoadState(ctx)
	if err != nil || v != v1 || string(data) != string(big) {
		t.Fatalf("LoadState = %d bytes at %q, %v; want the %d bytes saved at %q", len(data), v, err, len(big), v1)
	}
	v2, err := s.SaveState(ctx, []byte("second"), v1)
	if err != nil || v2 == v1 {
		t.Fatalf("SaveState(at %q) = %q, %v; want a new version", v1, v2, err)
	}
	if _, err := s.SaveState(ctx, []byte("stale"), v1); !isPrecondition(err) {
		t.Fatalf("SaveState at a stale version = %v, want a precondition failure", err)
	}
	if data, v, err := s.LoadState(ctx); err != nil || v != v2 || string(data) != "second" {
		t.Fatalf("LoadState = %q at %q, %v; want \"second\" at %q", data, v, err, v2)
	}
	got := listed(t, s)
	if len(got) != 1 || got["state/k"].Key == "" {
		t.Fatalf("the listing holds %v, want only state/k (the state is no record)", got)
	}
}
