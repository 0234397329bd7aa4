package objects_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/objects"
)

func TestValidateKey(t *testing.T) {
	t.Parallel()
	good := []string{"clusters/dev/data.rdb", "clusters/dev/snapshots/000000000001-1767225600000.snapshot",
		"MANIFEST.json", "tenants/a/café/data.rdb", strings.Repeat("a", objects.MaxSegmentBytes)}
	for _, k := range good {
		if err := objects.ValidateKey(k); err != nil {
			t.Errorf("ValidateKey(%q) = %v, want nil", k, err)
		}
	}
	bad := []string{"", "/a", "a/", "a//b", "a/./b", "a/../b", "..", "a\x00", "a\nb", "\xff\xfe",
		"tenants/a/cafe\u0301/data.rdb", // NFD
		"tenants\u2215a",                // DIVISION SLASH
		".redlease-locks/x", "a/.redlease-1.tmp",
		strings.Repeat("a", objects.MaxSegmentBytes+1), strings.Repeat("a/", objects.MaxKeyBytes/2) + "b"}
	for _, k := range bad {
		err := objects.ValidateKey(k)
		var inv *lease.InvalidError
		if !errors.As(err, &inv) || inv.Field != objects.FieldKey {
			t.Errorf("ValidateKey(%q) = %v, want an *InvalidError on %q", k, err, objects.FieldKey)
		}
	}
}

func TestDatabaseKey(t *testing.T) {
	t.Parallel()
	tests := []struct{ object, want string }{
		{"clusters/dev/data.rdb", "clusters/dev/data.rdb"},
		{"clusters/dev/MANIFEST.json", "clusters/dev/data.rdb"},
		{"clusters/dev/manifests/head.json", "clusters/dev/data.rdb"},
		{"clusters/dev/snapshots/000000000001-1767225600000.snapshot", "clusters/dev/data.rdb"},
		{"clusters/dev/snapshots/000000000001-1767225600000.snapshot.manifest.json", "clusters/dev/data.rdb"},
		{"clusters/dev/snapshots/blob_cache/l2.pager", "clusters/dev/data.rdb"},
		{"clusters/dev/wal/000000000001-000000000002.wal", "clusters/dev/data.rdb"},
		{"data.rdb", "data.rdb"},
		{"wal/x.wal", "data.rdb"},
		{"a/manifests", "a/data.rdb"}, // a file named like a directory is the directory's own
		{"tenants/a/orders/other.bin", "tenants/a/orders/data.rdb"},
	}
	for _, tc := range tests {
		if got := objects.DatabaseKey(tc.object, objects.DefaultDataFile); got != tc.want {
			t.Errorf("DatabaseKey(%q) = %q, want %q", tc.object, got, tc.want)
		}
	}
}

func TestValidateDatabaseKey(t *testing.T) {
	t.Parallel()
	for _, k := range []string{"clusters/dev/data.rdb", "data.rdb", "tenants/a/walrus/data.rdb"} {
		if err := objects.ValidateDatabaseKey(k, objects.DefaultDataFile); err != nil {
			t.Errorf("ValidateDatabaseKey(%q) = %v, want nil", k, err)
		}
	}
	for _, k := range []string{"clusters/dev/main", "clusters/wal/data.rdb", "x/snapshots/y/data.rdb", "manifests/data.rdb"} {
		if err := objects.ValidateDatabaseKey(k, objects.DefaultDataFile); !errors.Is(err, lease.ErrInvalid) {
			t.Errorf("ValidateDatabaseKey(%q) = %v, want ErrInvalid", k, err)
		}
	}
}

// Every key a valid database directory holds maps back to that database.
func FuzzDatabaseKey(f *testing.F) {
	f.Add("clusters/dev/", "snapshots/1.snapshot")
	f.Add("", "MANIFEST.json")
	f.Add("a/b/", "wal/x")
	f.Fuzz(func(t *testing.T, dir, rest string) {
		db := dir + objects.DefaultDataFile
		if objects.ValidateDatabaseKey(db, objects.DefaultDataFile) != nil || objects.ValidateKey(db) != nil {
			return
		}
		for _, name := range []string{objects.DefaultDataFile, "MANIFEST.json", "manifests/head.json", "snapshots/" + rest, "wal/" + rest} {
			key := dir + name
			if objects.ValidateKey(key) != nil {
				continue
			}
			if got := objects.DatabaseKey(key, objects.DefaultDataFile); got != db {
				t.Fatalf("DatabaseKey(%q) = %q, want %q", key, got, db)
			}
		}
	})
}
