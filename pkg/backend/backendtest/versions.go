package backendtest

import (
	"context"
	"testing"

	"github.com/redlease/redlease/pkg/lease"
)

// checkVersion fails the test unless v has the one form every backend
// hands out, a strong entity-tag (lease.NewVersion), so that an HTTP face
// can send it as an ETag and take it back from If-Match unchanged.
func checkVersion(t *testing.T, call string, v lease.Version) {
	t.Helper()
	if _, ok := v.Token(); !ok {
		t.Fatalf("%s returned version %q, want a strong entity-tag: a non-empty token in double quotes", call, v)
	}
}

// testVersionsAreStableTokens: reading a record does not change its version,
// every call reports the same version for the same stored state, and a
// write of a different record changes it.
func testVersionsAreStableTokens(t *testing.T, s lease.ListingStore, _ Options) {
	ctx := context.Background()
	const key = "versions/k"
	created := mustCreate(t, s, Record(key, "a", 1))
	for i := range 2 {
		if got := mustLoad(t, s, key); got.Version != created {
			t.Fatalf("Load %d of an unchanged record: version %q, want the one Create returned, %q", i+1, got.Version, created)
		}
	}
	replaced, err := s.Replace(ctx, Record(key, "b", 2), created)
	if err != nil {
		t.Fatalf("Replace: %v", err)
	}
	checkVersion(t, "Replace", replaced)
	if replaced == created {
		t.Fatalf("Replace with a different record kept version %q", created)
	}
	for i := range 2 {
		got := mustLoad(t, s, key)
		checkVersion(t, "Load", got.Version)
		if got.Version != replaced {
			t.Fatalf("Load %d after Replace: version %q, want the one Replace returned, %q", i+1, got.Version, replaced)
		}
	}
	page, err := s.List(ctx, "", 10)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(page.Entries) != 1 || page.Entries[0].Key != key {
		t.Fatalf("List = %+v, want the one record", page.Entries)
	}
	checkEntry(t, s, page.Entries[0])
}
