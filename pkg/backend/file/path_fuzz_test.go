package file

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redlease/redlease/pkg/lease"
)

var keySeeds = []string{
	"main", "clusters/dev/data.rdb", "a.lease.json", "a.lease.json/b", "../x", "a//b",
	"/abs", "a/./b", "ünï/鍵", "a\x00b", ".redlease-locks/x", "x/.redlease-0.tmp",
}

// FuzzKeyPath checks the key-to-path mapping: every key the service accepts
// is storable, every path stays inside the prefix tree, names are single safe
// components, and the walk recovers the key from the path.
func FuzzKeyPath(f *testing.F) {
	for _, k := range keySeeds {
		f.Add(k)
	}
	s := New(Options{Dir: "/data"})
	f.Fuzz(func(t *testing.T, key string) {
		p, err := s.pathOf(key)
		if err != nil {
			if !errors.Is(err, lease.ErrInvalid) {
				t.Fatalf("pathOf(%q) = %v, want ErrInvalid", key, err)
			}
			if lease.DefaultLimits().ValidateKey(key) == nil {
				t.Fatalf("the service accepts %q but the file store refuses it: %v", key, err)
			}
			return
		}
		names := append(append([]string(nil), p.dirs...), p.base)
		for i, n := range names {
			if badSegment(n) != "" || strings.Contains(n, "/") || len(n) > maxNameBytes {
				t.Fatalf("pathOf(%q): unsafe name %q", key, n)
			}
			if i < len(names)-1 && strings.HasSuffix(n, lease.ObjectSuffix) {
				t.Fatalf("pathOf(%q): directory %q looks like a record", key, n)
			}
		}
		if p.dirs[0] == lockDirName {
			t.Fatalf("pathOf(%q) is inside the lock directory", key)
		}
		if p.object != s.prefix+key+lease.ObjectSuffix || strings.Join(names, "/") != p.object {
			t.Fatalf("pathOf(%q): object %q, names %q", key, p.object, names)
		}
		joined := filepath.Join("/data", filepath.FromSlash(p.object))
		if !strings.HasPrefix(joined, "/data/leases/") || filepath.Clean(joined) != joined {
			t.Fatalf("pathOf(%q) resolves to %q, outside the tree", key, joined)
		}
		seg, ok := recordKeySegment(p.base)
		if !ok {
			t.Fatalf("the walk would skip the record of %q (%q)", key, p.base)
		}
		if got := strings.Join(append(append([]string(nil), p.dirs[len(s.prefixDirs):]...), seg), "/"); got != key {
			t.Fatalf("the walk would list %q as %q", key, got)
		}
	})
}

// walkBefore reports whether List's walk reaches key a before key b, by
// comparing the entries where their paths part, as readDir orders them.
func walkBefore(a, b string) bool {
	pa, pb := strings.Split(a, "/"), strings.Split(b, "/")
	for i := 0; ; i++ {
		lastA, lastB := i == len(pa)-1, i == len(pb)-1
		if !lastA && !lastB && pa[i] == pb[i] {
			continue // same directory: descend
		}
		order := func(seg string, last bool) string {
			if last {
				return seg // the record file "seg.lease.json"
			}
			return dirOrder(seg)
		}
		return order(pa[i], lastA) < order(pb[i], lastB)
	}
}

// FuzzListOrder checks that the walk's order is the byte order of keys, the
// order S3 lists in and the cursor relies on.
func FuzzListOrder(f *testing.F) {
	f.Add("a", "a/b")
	f.Add("a-c", "a/b")
	f.Add("a/b", "a.b")
	f.Add("a/b/c", "a/b-")
	f.Add("x", "x")
	s := New(Options{Dir: "/data"})
	f.Fuzz(func(t *testing.T, a, b string) {
		if _, err := s.pathOf(a); err != nil {
			return
		}
		if _, err := s.pathOf(b); err != nil {
			return
		}
		if got, want := walkBefore(a, b), a < b; got != want {
			t.Fatalf("walk puts %q before %q: %v, byte order says %v", a, b, got, want)
		}
	})
}
