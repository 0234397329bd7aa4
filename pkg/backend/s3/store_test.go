package s3

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/redlease/redlease/pkg/backend/backendtest"
	"github.com/redlease/redlease/pkg/lease"
)

const testBucket = "leases-bucket"

func newTestStore(t testing.TB, opts Options) (*Store, *fakeS3) {
	t.Helper()
	fake := newFakeS3(testBucket)
	if opts.ConflictBackoff == 0 {
		opts.ConflictBackoff = time.Microsecond
	}
	opts.Bucket = testBucket
	s, err := New(fake, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s, fake
}

var record = backendtest.Record

func TestConformance(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		conflictRate float64
	}{
		{"NoConflicts", 0},
		// Overlapping writers often get 409 before 412, as on S3.
		{"WithConflicts", 0.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var (
				mu    sync.Mutex
				fakes []*fakeS3
			)
			// Runs once every parallel subtest is done.
			t.Cleanup(func() {
				conflicts := 0
				for _, f := range fakes {
					f.mu.Lock()
					conflicts += f.conflicts
					f.mu.Unlock()
				}
				if tc.conflictRate > 0 && conflicts == 0 {
					t.Errorf("the races produced no 409 at all; the retry path went untested")
				}
				t.Logf("409 answers during the suite: %d", conflicts)
			})
			backendtest.Run(t, func(t *testing.T) lease.ListingStore {
				s, fake := newTestStore(t, Options{})
				fake.conflictRate = tc.conflictRate
				mu.Lock()
				fakes = append(fakes, fake)
				mu.Unlock()
				return s
			}, backendtest.Options{})
		})
	}
}

// TestNewOptions: the zero value of every option but Bucket is its
// default, a negative ConflictRetries turns the resends off, and New
// refuses to build a store without a client or a bucket.
func TestNewOptions(t *testing.T) {
	t.Parallel()
	s, err := New(newFakeS3("b"), Options{Bucket: "b", ConflictRetries: -1})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	want := Options{Bucket: "b", Prefix: DefaultPrefix, StateKey: "redlease-sweep/leases/state",
		ConflictRetries: 0, ConflictBackoff: DefaultConflictBackoff, RetryAfter: DefaultRetryAfter}
	if s.opts != want {
		t.Errorf("options in force %+v, want %+v", s.opts, want)
	}
	if s, _ := New(newFakeS3("b"), Options{Bucket: "b"}); s.opts.ConflictRetries != DefaultConflictRetries {
		t.Errorf("ConflictRetries 0 gave %d resends, want the default %d", s.opts.ConflictRetries, DefaultConflictRetries)
	}
	for name, build := range map[string]func() (*Store, error){
		"nil client": func() (*Store, error) { return New(nil, Options{Bucket: "b"}) },
		"no bucket":  func() (*Store, error) { return New(newFakeS3("b"), Options{}) },
		"state key inside the prefix": func() (*Store, error) {
			return New(newFakeS3("b"), Options{Bucket: "b", StateKey: "leases/state"})
		},
		"prefix that contains the default state key": func() (*Store, error) {
			return New(newFakeS3("b"), Options{Bucket: "b", Prefix: "redlease-"})
		},
	} {
		if _, err := build(); err == nil {
			t.Errorf("New with %s succeeded, want an error", name)
		}
	}
}

func TestObjectLayout(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		prefix, key, want string
	}{
		{"", "clusters/dev/data.rdb", "leases/clusters/dev/data.rdb.lease.json"},
		{"", "main", "leases/main.lease.json"},
		{"tenant-a/", "main", "tenant-a/main.lease.json"},
	} {
		s, _ := newTestStore(t, Options{Prefix: tc.prefix})
		if got := s.ObjectKey(tc.key); got != tc.want {
			t.Errorf("prefix %q: ObjectKey(%q) = %q, want %q", tc.prefix, tc.key, got, tc.want)
		}
		back, ok := s.databaseKey(tc.want)
		if !ok || back != tc.key {
			t.Errorf("databaseKey(%q) = %q, %v; want %q, true", tc.want, back, ok, tc.key)
		}
	}
}

// TestRequestsCarryConditions checks the exact SDK inputs: the conditional
// headers are what makes the store safe.
func TestRequestsCarryConditions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, fake := newTestStore(t, Options{})
	rec := record("clusters/dev/data.rdb", "reddb-0-1", 1)
	v1, err := s.Create(ctx, rec)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	next := rec
	next.ExpiresAtMs += 20000
	v2, err := s.Replace(ctx, next, v1)
	if err != nil {
		t.Fatalf("Replace: %v", err)
	}
	got, err := s.Load(ctx, rec.DatabaseKey)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	const objectKey = "leases/clusters/dev/data.rdb.lease.json"
	if len(fake.puts) != 2 {
		t.Fatalf("%d PutObject calls, want 2", len(fake.puts))
	}
	create, replace := fake.puts[0], fake.puts[1]
	for i, in := range fake.puts {
		if aws.ToString(in.Bucket) != testBucket || aws.ToString(in.Key) != objectKey {
			t.Errorf("put %d went to %s/%s, want %s/%s", i, aws.ToString(in.Bucket), aws.ToString(in.Key), testBucket, objectKey)
		}
		if ct := aws.ToString(in.ContentType); ct != "application/json" {
			t.Errorf("put %d Content-Type = %q, want application/json", i, ct)
		}
		if n := aws.ToInt64(in.ContentLength); n != int64(len(fake.bodies[i])) {
			t.Errorf("put %d Content-Length = %d, body has %d bytes", i, n, len(fake.bodies[i]))
		}
	}
	if aws.ToString(create.IfNoneMatch) != "*" || create.IfMatch != nil {
		t.Errorf("Create sent If-None-Match %v, If-Match %v; want *, none", aws.ToString(create.IfNoneMatch), create.IfMatch)
	}
	if replace.IfMatch == nil || *replace.IfMatch != string(v1) || replace.IfNoneMatch != nil {
		t.Errorf("Replace sent If-Match %v, If-None-Match %v; want %s, none", aws.ToString(replace.IfMatch), replace.IfNoneMatch, v1)
	}
	if !bytes.Equal(fake.bodies[0], lease.EncodeRecord(rec)) || !bytes.Equal(fake.bodies[1], lease.EncodeRecord(next)) {
		t.Errorf("bodies %q, %q are not lease.EncodeRecord's bytes", fake.bodies[0], fake.bodies[1])
	}
	if v1[0] != '"' || v1[len(v1)-1] != '"' {
		t.Errorf("version %s is not the ETag as S3 returns it (quoted)", v1)
	}
	if got.Version != v2 || got.Record != next {
		t.Errorf("Load = %+v, want %+v at %s", got, next, v2)
	}
	if len(fake.gets) != 1 || aws.ToString(fake.gets[0].Key) != objectKey {
		t.Errorf("Load sent %d GetObjects, want 1 for %s", len(fake.gets), objectKey)
	}
}

// staleRefresh is what a refresh through a stale cache costs on S3: the
// 412 says nothing of the winner, so the Service reads it.
var staleRefresh = backendtest.Costs{Reads: 1, Writes: 2}

// TestServiceCallCounts walks lease.Service through backendtest's steps and
// pins the requests each costs.
func TestServiceCallCounts(t *testing.T) {
	t.Parallel()
	s, fake := newTestStore(t, Options{})
	backendtest.CheckServiceCallCounts(t, s, fake.Counter(t, "GetObject", "PutObject"), "clusters/dev/data.rdb", staleRefresh)
}

// TestCallCounts pins the number of S3 requests per store operation; each
// is a Lambda's latency and a line on the bill.
func TestCallCounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, fake := newTestStore(t, Options{})
	rec := record("k", "a", 1)
	steps := []struct {
		name     string
		do       func() error
		gets     int
		puts     int
		wantPre  bool
		wantMiss bool
	}{
		{"LoadMissing", func() error { _, err := s.Load(ctx, "k"); return err }, 1, 0, false, true},
		{"Create", func() error { _, err := s.Create(ctx, rec); return err }, 0, 1, false, false},
		{"CreateExisting", func() error { _, err := s.Create(ctx, rec); return err }, 0, 1, true, false},
		{"Load", func() error { _, err := s.Load(ctx, "k"); return err }, 1, 0, false, false},
		{"Replace", func() error {
			v, err := s.Load(ctx, "k")
			if err != nil {
				return err
			}
			fake.Reset()
			_, err = s.Replace(ctx, record("k", "a", 2), v.Version)
			return err
		}, 0, 1, false, false},
		{"ReplaceStale", func() error { _, err := s.Replace(ctx, rec, `"0123"`); return err }, 0, 1, true, false},
	}
	for _, st := range steps {
		fake.Reset()
		err := st.do()
		if got := errors.Is(err, lease.ErrPrecondition); got != st.wantPre {
			t.Errorf("%s: error %v, precondition failure %v, want %v", st.name, err, got, st.wantPre)
		}
		if got := errors.Is(err, lease.ErrNotFound); got != st.wantMiss {
			t.Errorf("%s: error %v, not found %v, want %v", st.name, err, got, st.wantMiss)
		}
		if err != nil && !st.wantPre && !st.wantMiss {
			t.Errorf("%s: %v", st.name, err)
		}
		if g, p := fake.Count("GetObject"), fake.Count("PutObject"); g != st.gets || p != st.puts {
			t.Errorf("%s: %d GetObject, %d PutObject; want %d, %d", st.name, g, p, st.gets, st.puts)
		}
	}
}

func TestLoadRejectsForeignObjects(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, fake := newTestStore(t, Options{})
	fake.putRaw("leases/bad.lease.json", []byte(`{"database_key":"bad","holder_id":"h","generation":1.5}`))
	fake.putRaw("leases/elsewhere.lease.json", lease.EncodeRecord(record("other", "h", 1)))
	fake.putRaw("leases/huge.lease.json", bytes.Repeat([]byte(" "), maxObjectBytes+1))
	for _, key := range []string{"bad", "elsewhere", "huge"} {
		if _, err := s.Load(ctx, key); !errors.Is(err, lease.ErrCorrupt) {
			t.Errorf("Load(%q) = %v, want ErrCorrupt", key, err)
		}
	}
}

// TestReadsRedDBObjects loads an object exactly as RedDB writes it.
func TestReadsRedDBObjects(t *testing.T) {
	t.Parallel()
	s, fake := newTestStore(t, Options{})
	raw := `{"acquired_at_ms":1767225600000,"database_key":"clusters/dev/data.rdb","expires_at_ms":1767225660000,"generation":1,"holder_id":"reddb-0-1","term":1}`
	etag := fake.putRaw("leases/clusters/dev/data.rdb.lease.json", []byte(raw))
	got, err := s.Load(context.Background(), "clusters/dev/data.rdb")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if string(got.Version) != etag || got.Record.HolderID != "reddb-0-1" || got.Record.Generation != 1 {
		t.Fatalf("Load = %+v, want reddb-0-1 generation 1 at %s", got, etag)
	}
	if !bytes.Equal(lease.EncodeRecord(got.Record), []byte(raw)) {
		t.Fatalf("re-encoding changed RedDB's bytes")
	}
}
