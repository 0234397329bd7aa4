package s3

import "testing"

// FuzzObjectName checks the object-name decoder of List: it never panics,
// and whatever it accepts maps back to the same object name, so a listing
// can only ever name keys that Load reads from the same object.
func FuzzObjectName(f *testing.F) {
	for _, seed := range []string{
		"leases/main.lease.json",
		"leases/clusters/dev/data.rdb.lease.json",
		"leases/.lease.json",
		"leases/a.lease.json.lease.json",
		"leases/README.txt",
		"other/x.lease.json",
		"leases/ünï/鍵.lease.json",
	} {
		f.Add(seed)
	}
	s, _ := newTestStore(f, Options{})
	f.Fuzz(func(t *testing.T, name string) {
		key, ok := s.databaseKey(name)
		if !ok {
			return
		}
		if key == "" {
			t.Fatalf("databaseKey(%q) accepted an empty key", name)
		}
		if back := s.ObjectKey(key); back != name {
			t.Fatalf("databaseKey(%q) = %q, whose object is %q", name, key, back)
		}
	})
}
