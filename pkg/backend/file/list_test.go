package file_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/redlease/redlease/pkg/backend/file"
	"github.com/redlease/redlease/pkg/lease"
)

// Keys whose byte order differs from a plain directory walk: "-" and "."
// sort before "/", so "a-c" and "a.b" come between "a" and "a/b".
var orderKeys = []string{
	"a/b", "a", "a-c", "a.b", "a0", "a/b/c", "a/b-", "b", "Z", "ä/x", "a b",
	"a.lease.json", "x/y.lease.json", "a/b.c/d", "a/b/c/d/e/f",
}

func listAll(t *testing.T, s lease.Lister, cursor string, limit int) (keys []string, pages int) {
	t.Helper()
	for {
		page, err := s.List(context.Background(), cursor, limit)
		if err != nil {
			t.Fatalf("List(%q, %d): %v", cursor, limit, err)
		}
		pages++
		if len(page.Entries) > limit {
			t.Fatalf("List(%q, %d) returned %d entries", cursor, limit, len(page.Entries))
		}
		for _, e := range page.Entries {
			keys = append(keys, e.Key)
		}
		if page.Next == "" {
			return keys, pages
		}
		if last := keys[len(keys)-1]; page.Next != last {
			t.Fatalf("Next = %q, want the last key returned, %q", page.Next, last)
		}
		if pages > 100 {
			t.Fatal("List does not terminate")
		}
		cursor = page.Next
	}
}

func TestListOrderIsKeyByteOrder(t *testing.T) {
	t.Parallel()
	s := file.New(file.Options{Dir: t.TempDir()})
	for i, k := range orderKeys {
		if _, err := s.Create(context.Background(), record(k, fmt.Sprint("h", i), 1)); err != nil {
			t.Fatalf("Create(%q): %v", k, err)
		}
	}
	want := slices.Clone(orderKeys)
	slices.Sort(want)
	for limit := 1; limit <= len(want)+1; limit++ {
		got, pages := listAll(t, s, "", limit)
		if !slices.Equal(got, want) {
			t.Fatalf("limit %d: listed\n%q\nwant\n%q", limit, got, want)
		}
		if wantPages := (len(want) + limit - 1) / limit; pages != wantPages {
			t.Errorf("limit %d: %d pages, want %d (Next must be empty on the last page)", limit, pages, wantPages)
		}
	}
	// Cursors that are not stored keys, including ones inside a subtree.
	for _, cursor := range []string{"a/", "a/b/", "a.", "a/b/c/d", "0", "zzz", "a/b/c/d/e/f"} {
		got, _ := listAll(t, s, cursor, 3)
		var wantAfter []string
		for _, k := range want {
			if k > cursor {
				wantAfter = append(wantAfter, k)
			}
		}
		if !slices.Equal(got, wantAfter) {
			t.Errorf("after %q: listed %q, want %q", cursor, got, wantAfter)
		}
	}
}

func TestListEmptyAndVersions(t *testing.T) {
	t.Parallel()
	s := file.New(file.Options{Dir: t.TempDir()})
	page, err := s.List(context.Background(), "", 0)
	if err != nil || len(page.Entries) != 0 || page.Next != "" {
		t.Fatalf("List of an empty store = %+v, %v", page, err)
	}
	v, err := s.Create(context.Background(), record("k", "h", 1))
	if err != nil {
		t.Fatal(err)
	}
	page, err = s.List(context.Background(), "", 0)
	if err != nil || len(page.Entries) != 1 || page.Entries[0].Key != "k" || page.Entries[0].Tag == "" || page.Next != "" {
		t.Fatalf("List = %+v, %v; want one tagged entry", page, err)
	}
	// The listing reads no record: its entries carry a tag, not a version.
	if e := page.Entries[0]; e.Version != "" || e.Record != nil {
		t.Errorf("entry %+v carries a version or record; the file listing only stats", e)
	}
	if got := s.ContentVersion(record("k", "h", 1)); got != v {
		t.Errorf("ContentVersion = %s, the stored version is %s", got, v)
	}
}

func TestListSkipsStrayFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := file.New(file.Options{Dir: dir})
	if _, err := s.Create(context.Background(), record("a/k", "h", 1)); err != nil {
		t.Fatal(err)
	}
	tree := filepath.Join(dir, "leases")
	for _, name := range []string{
		"a/.redlease-0123.tmp", "a/k.lease.json.lock", "a/README", ".lease.json", "a/..lease.json",
		"x.lease.json/inside.lease.json", // a directory named like a record holds no valid key
	} {
		writeFile(t, filepath.Join(tree, filepath.FromSlash(name)), "garbage")
	}
	got, _ := listAll(t, s, "", 10)
	if !slices.Equal(got, []string{"a/k"}) {
		t.Fatalf("listed %q, want only a/k", got)
	}
}

func TestListHonoursLimitAcrossDirectories(t *testing.T) {
	t.Parallel()
	s := file.New(file.Options{Dir: t.TempDir()})
	var want []string
	for i := range 12 {
		k := fmt.Sprintf("d%d/k%02d", i%3, i)
		if _, err := s.Create(context.Background(), record(k, "h", 1)); err != nil {
			t.Fatal(err)
		}
		want = append(want, k)
	}
	slices.Sort(want)
	got, pages := listAll(t, s, "", 4)
	if !slices.Equal(got, want) || pages != 3 {
		t.Fatalf("listed %q in %d pages, want %q in 3", got, pages, want)
	}
}
