package file_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/redlease/redlease/pkg/backend/backendtest"
	"github.com/redlease/redlease/pkg/backend/file"
	"github.com/redlease/redlease/pkg/lease"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	backendtest.Run(t, func(t *testing.T) lease.ListingStore { return file.New(file.Options{Dir: t.TempDir()}) }, backendtest.Options{})
}

// TestConformanceOpenedWithPrefix runs the suite through Open and a custom
// prefix, which is how `redlease serve` builds the store.
func TestConformanceOpenedWithPrefix(t *testing.T) {
	t.Parallel()
	backendtest.Run(t, func(t *testing.T) lease.ListingStore {
		s, err := file.Open(file.Options{Dir: filepath.Join(t.TempDir(), "data"), Prefix: "tenants/blue/"})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	}, backendtest.Options{Rounds: 5})
}

// record is backendtest.Record with a 30 s lease, the one the golden file
// below holds.
func record(key, holder string, generation uint64) lease.Record {
	rec := backendtest.Record(key, holder, generation)
	rec.ExpiresAtMs = rec.AcquiredAtMs + 30_000
	return rec
}

// filesUnder lists every file below dir, relative and slash-separated.
func filesUnder(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		files = append(files, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	return files
}

func TestGoldenFileOnDisk(t *testing.T) {
	t.Parallel()
	const golden = `{"acquired_at_ms":1767225600000,"database_key":"clusters/dev/data.rdb",` +
		`"expires_at_ms":1767225630000,"generation":7,"holder_id":"reddb-0","term":2}`
	tests := []struct {
		name   string
		option string // Options.Prefix
		prefix string // the prefix in force
	}{
		{"empty prefix means default", "", "leases/"},
		{"custom prefix", "a/b/", "a/b/"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			s := file.New(file.Options{Dir: dir, Prefix: tc.option})
			rec := record("clusters/dev/data.rdb", "reddb-0", 7)
			if got := string(lease.EncodeRecord(rec)); got != golden {
				t.Fatalf("EncodeRecord = %s, want %s", got, golden)
			}
			v, err := s.Create(context.Background(), rec)
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			want := tc.prefix + "clusters/dev/data.rdb.lease.json"
			got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(want)))
			if err != nil {
				t.Fatalf("record not at %s: %v", want, err)
			}
			if string(got) != golden {
				t.Fatalf("file bytes = %q, want %q", got, golden)
			}
			sum := sha256.Sum256([]byte(golden))
			if wantV := lease.Version(`"` + hex.EncodeToString(sum[:]) + `"`); v != wantV {
				t.Errorf("version = %s, want the quoted SHA-256 %s", v, wantV)
			}
			if path, err := s.RecordPath(rec.DatabaseKey); err != nil || path != filepath.Join(dir, filepath.FromSlash(want)) {
				t.Errorf("RecordPath = %q, %v; want %q", path, err, filepath.Join(dir, want))
			}
			// The prefix tree holds the record and nothing else: no temporary
			// file survives a write, and lock files live outside the tree.
			if files := filesUnder(t, filepath.Join(dir, filepath.FromSlash(tc.prefix))); !slices.Equal(files, []string{"clusters/dev/data.rdb.lease.json"}) {
				t.Errorf("prefix tree holds %q, want only the record", files)
			}
		})
	}
}

func TestReleasedRecordBytes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := file.New(file.Options{Dir: dir})
	rec := record("k", "reddb-1", 3)
	rec.ReleasedAtMs = 1767225610000
	if _, err := s.Create(context.Background(), rec); err != nil {
		t.Fatalf("Create: %v", err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "leases", "k.lease.json"))
	if err != nil {
		t.Fatal(err)
	}
	if want := lease.EncodeRecord(rec); string(got) != string(want) {
		t.Fatalf("file = %s, want %s", got, want)
	}
}

func TestOpenCreatesTreeAndRejectsBadPrefixes(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "nested", "data")
	if _, err := file.Open(file.Options{Dir: dir}); err != nil {
		t.Fatalf("Open: %v", err)
	}
	for _, sub := range []string{"leases", ".redlease-locks"} {
		if fi, err := os.Stat(filepath.Join(dir, sub)); err != nil || !fi.IsDir() {
			t.Errorf("Open did not create %s: %v", sub, err)
		}
	}
	for _, prefix := range []string{"leases", "/leases/", "../x/", "a//b/", "./", "a/../b/", ".redlease-locks/", "a\x00/"} {
		if _, err := file.Open(file.Options{Dir: t.TempDir(), Prefix: prefix}); err == nil {
			t.Errorf("Open with prefix %q succeeded, want an error", prefix)
		}
		s := file.New(file.Options{Dir: t.TempDir(), Prefix: prefix})
		if _, err := s.Load(context.Background(), "k"); err == nil || errors.Is(err, lease.ErrNotFound) {
			t.Errorf("Load through New with prefix %q = %v, want the prefix error", prefix, err)
		}
	}
}

func TestMissingDataDirIsUnavailable(t *testing.T) {
	t.Parallel()
	s := file.New(file.Options{Dir: filepath.Join(t.TempDir(), "not-mounted")})
	if _, err := s.Load(context.Background(), "k"); !errors.Is(err, lease.ErrUnavailable) {
		t.Errorf("Load = %v, want ErrUnavailable", err)
	}
	if _, err := s.Create(context.Background(), record("k", "h", 1)); !errors.Is(err, lease.ErrUnavailable) {
		t.Errorf("Create = %v, want ErrUnavailable (it must not create the data dir)", err)
	}
	if _, err := os.Stat(s.Dir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Create made the data dir: %v", err)
	}
}

func TestInvalidKeysNeverTouchTheDisk(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := file.New(file.Options{Dir: dir})
	keys := []string{"", "/etc/passwd", "../escape", "a/../../escape", "a//b", "a/./b", "a/", ".", "..",
		"a\x00b", "a.lease.json/b", "\xff", strings.Repeat("x", 250), strings.Repeat("y", 256) + "/k"}
	for _, key := range keys {
		if _, err := s.Create(context.Background(), record(key, "h", 1)); !errors.Is(err, lease.ErrInvalid) {
			t.Errorf("Create(%q) = %v, want ErrInvalid", key, err)
		}
		if _, err := s.Load(context.Background(), key); !errors.Is(err, lease.ErrInvalid) {
			t.Errorf("Load(%q) = %v, want ErrInvalid", key, err)
		}
		if _, err := s.RecordPath(key); !errors.Is(err, lease.ErrInvalid) {
			t.Errorf("RecordPath(%q) = %v, want ErrInvalid", key, err)
		}
	}
	if files := filesUnder(t, filepath.Dir(dir)); len(files) != 0 {
		t.Errorf("invalid keys left files %q", files)
	}
}

func TestCorruptRecords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data string
	}{
		{"not json", "{"},
		{"empty file", ""},
		{"missing field", `{"database_key":"k","holder_id":"h"}`},
		{"other key", string(lease.EncodeRecord(record("other", "h", 1)))},
		{"huge", `{"x":"` + string(make([]byte, 70<<10)) + `"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			s := file.New(file.Options{Dir: dir})
			writeFile(t, filepath.Join(dir, "leases", "k.lease.json"), tc.data)
			if _, err := s.Load(context.Background(), "k"); !errors.Is(err, lease.ErrCorrupt) {
				t.Errorf("Load = %v, want ErrCorrupt", err)
			}
			// The listing does not read records: the entry is there, and the
			// read the sweep makes of it finds the corruption.
			page, err := s.List(context.Background(), "", 10)
			if err != nil || len(page.Entries) != 1 || page.Entries[0].Key != "k" || len(page.Unreadable) != 0 {
				t.Errorf("List = %+v, %v; want the one entry k", page, err)
			}
			// A corrupt record still exists: Create must not overwrite it.
			_, err = s.Create(context.Background(), record("k", "h", 1))
			var pre *lease.PreconditionError
			if !errors.As(err, &pre) && !errors.Is(err, lease.ErrCorrupt) {
				t.Errorf("Create over a corrupt record = %v, want a refusal", err)
			}
			if pre != nil && pre.Current != nil {
				t.Errorf("precondition error carried %+v for undecodable bytes", *pre.Current)
			}
			if got, _ := os.ReadFile(filepath.Join(dir, "leases", "k.lease.json")); string(got) != tc.data {
				t.Errorf("the corrupt file was changed")
			}
		})
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRecordWrittenByRedDBIsReplaceable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := file.New(file.Options{Dir: dir})
	// RedDB's own writer: key order differs, no term, whitespace.
	raw := `{ "holder_id": "reddb-2", "database_key": "k", "generation": 4, "acquired_at_ms": 5, "expires_at_ms": 6 }`
	writeFile(t, filepath.Join(dir, "leases", "k.lease.json"), raw)
	v, err := s.Load(context.Background(), "k")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if v.Record.Term != lease.DefaultTerm || v.Record.Generation != 4 {
		t.Fatalf("Load = %+v", v.Record)
	}
	next := record("k", "redlease", 5)
	if _, err := s.Replace(context.Background(), next, v.Version); err != nil {
		t.Fatalf("Replace of RedDB's bytes at their version: %v", err)
	}
	if got := mustRead(t, filepath.Join(dir, "leases", "k.lease.json")); got != string(lease.EncodeRecord(next)) {
		t.Fatalf("file = %s", got)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPreconditionCarriesStoredRecord(t *testing.T) {
	t.Parallel()
	s := file.New(file.Options{Dir: t.TempDir()})
	ctx := context.Background()
	first := record("k", "a", 1)
	v1, err := s.Create(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	for name, op := range map[string]func() error{
		"create":        func() error { _, err := s.Create(ctx, record("k", "b", 2)); return err },
		"stale replace": func() error { _, err := s.Replace(ctx, record("k", "b", 2), `"stale"`); return err },
	} {
		var pre *lease.PreconditionError
		if err := op(); !errors.As(err, &pre) {
			t.Fatalf("%s: got %v, want a precondition failure", name, err)
		}
		if pre.Current == nil || pre.Current.Record != first || pre.Current.Version != v1 {
			t.Errorf("%s: Current = %+v, want %+v at %s", name, pre.Current, first, v1)
		}
	}
	if _, err := s.Replace(ctx, record("k", "b", 2), ""); err == nil {
		t.Errorf("Replace with an empty version succeeded")
	}
}

func TestCancelledContext(t *testing.T) {
	t.Parallel()
	s := file.New(file.Options{Dir: t.TempDir()})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Create(ctx, record("k", "a", 1)); !errors.Is(err, lease.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("Create = %v, want ErrUnavailable wrapping context.Canceled", err)
	}
	if _, err := s.Load(ctx, "k"); !errors.Is(err, lease.ErrUnavailable) {
		t.Errorf("Load = %v, want ErrUnavailable", err)
	}
	if _, err := s.List(ctx, "", 1); !errors.Is(err, lease.ErrUnavailable) {
		t.Errorf("List = %v, want ErrUnavailable", err)
	}
}
