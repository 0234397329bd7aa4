package objectstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/objects"
)

// binary is every byte value, twice, then some: not valid UTF-8, with NULs
// and CR LF, the bytes a gateway that treats bodies as text would mangle.
func binary() []byte {
	b := make([]byte, 0, 600)
	for i := range 512 {
		b = append(b, byte(i))
	}
	return append(b, "\r\n\x00\xff\xfe tail"...)
}

// pattern is n deterministic bytes that differ from one position to the
// next, so a misplaced part shows.
func pattern(n int64, seed byte) []byte {
	b := make([]byte, n)
	x := uint32(seed) + 1
	for i := range b {
		x = x*1664525 + 1013904223
		b[i] = byte(x >> 24)
	}
	return b
}

func put(t *testing.T, s Store, key string, data []byte, opts objects.PutOptions) objects.Info {
	t.Helper()
	info, err := s.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		t.Fatalf("Put(%q, %d bytes): %v", key, len(data), err)
	}
	if info.Size != int64(len(data)) {
		t.Errorf("Put(%q) size = %d, want %d", key, info.Size, len(data))
	}
	if _, ok := info.ETag.Token(); !ok {
		t.Errorf("Put(%q) ETag %q is not a strong entity-tag", key, info.ETag)
	}
	return info
}

func get(t *testing.T, s Store, key string) ([]byte, objects.Info) {
	t.Helper()
	body, info, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer body.Close()
	data, err := io.ReadAll(body)
	if err != nil {
		t.Fatalf("Get(%q) body: %v", key, err)
	}
	if info.Size != int64(len(data)) {
		t.Errorf("Get(%q) Info.Size = %d, body has %d bytes", key, info.Size, len(data))
	}
	return data, info
}

func head(t *testing.T, s Store, key string) objects.Info {
	t.Helper()
	info, err := s.Head(context.Background(), key)
	if err != nil {
		t.Fatalf("Head(%q): %v", key, err)
	}
	return info
}

// wantStored checks that key holds exactly data (nil: that it is absent).
func wantStored(t *testing.T, s Store, key string, data []byte) {
	t.Helper()
	if data == nil {
		wantMissing(t, s, key)
		return
	}
	got, _ := get(t, s, key)
	if !bytes.Equal(got, data) {
		t.Errorf("%q holds %d bytes %q..., want %d bytes %q...", key, len(got), head16(got), len(data), head16(data))
	}
}

func head16(b []byte) []byte { return b[:min(len(b), 16)] }

func wantMissing(t *testing.T, s Store, key string) {
	t.Helper()
	if _, err := s.Head(context.Background(), key); !errors.Is(err, lease.ErrNotFound) {
		t.Errorf("Head(%q) error = %v, want ErrNotFound", key, err)
	}
	body, _, err := s.Get(context.Background(), key)
	if err == nil {
		body.Close()
	}
	if !errors.Is(err, lease.ErrNotFound) {
		t.Errorf("Get(%q) error = %v, want ErrNotFound", key, err)
	}
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error = %v, want one matching %v", what, err, target)
	}
}

func testMissing(t *testing.T, s Store, _ Options) {
	wantMissing(t, s, "clusters/dev/data.rdb")
	put(t, s, "clusters/dev/data.rdb", []byte("x"), objects.PutOptions{})
	// A directory of other objects is not an object.
	wantMissing(t, s, "clusters/dev")
	wantMissing(t, s, "clusters")
}

func testRoundTrip(t *testing.T, s Store, _ Options) {
	data := binary()
	info := put(t, s, "clusters/dev/data.rdb", data, objects.PutOptions{})
	got, ginfo := get(t, s, "clusters/dev/data.rdb")
	if !bytes.Equal(got, data) {
		t.Fatalf("Get returned %d bytes, want the %d written, byte for byte", len(got), len(data))
	}
	if ginfo.ETag != info.ETag {
		t.Errorf("Get ETag %q, Put returned %q", ginfo.ETag, info.ETag)
	}
	if h := head(t, s, "clusters/dev/data.rdb"); h.ETag != info.ETag || h.Size != int64(len(data)) {
		t.Errorf("Head = %+v, want ETag %q size %d", h, info.ETag, len(data))
	}
}

func testETagStable(t *testing.T, s Store, _ Options) {
	info := put(t, s, "a/b", []byte("stable"), objects.PutOptions{})
	for i := range 3 {
		if h := head(t, s, "a/b"); h.ETag != info.ETag {
			t.Fatalf("Head #%d ETag %q, want %q (unchanged object)", i, h.ETag, info.ETag)
		}
		if _, g := get(t, s, "a/b"); g.ETag != info.ETag {
			t.Fatalf("Get #%d ETag %q, want %q (unchanged object)", i, g.ETag, info.ETag)
		}
	}
	if strings.HasPrefix(string(info.ETag), "W/") {
		t.Errorf("ETag %q is weak", info.ETag)
	}
}

func testOverwrite(t *testing.T, s Store, _ Options) {
	first := put(t, s, "a/b", []byte("one"), objects.PutOptions{})
	second := put(t, s, "a/b", []byte("two!"), objects.PutOptions{})
	if first.ETag == second.ETag {
		t.Errorf("overwrite with other bytes kept ETag %q", first.ETag)
	}
	wantStored(t, s, "a/b", []byte("two!"))
	if h := head(t, s, "a/b"); h.ETag != second.ETag || h.Size != 4 {
		t.Errorf("Head after overwrite = %+v, want %q size 4", h, second.ETag)
	}
}

func testIfNoneMatch(t *testing.T, s Store, _ Options) {
	create := objects.PutOptions{Condition: objects.Condition{IfNoneMatch: true}}
	put(t, s, "k", []byte("first"), create)
	_, err := s.Put(context.Background(), "k", bytes.NewReader([]byte("second")), 6, create)
	wantErr(t, "If-None-Match on an existing object", err, lease.ErrPrecondition)
	wantStored(t, s, "k", []byte("first"))
}

func testIfMatch(t *testing.T, s Store, _ Options) {
	ctx := context.Background()
	_, err := s.Put(ctx, "k", bytes.NewReader([]byte("x")), 1, objects.PutOptions{Condition: objects.Condition{IfMatch: lease.NewVersion("nope")}})
	wantErr(t, "If-Match on an absent object", err, lease.ErrPrecondition)
	wantMissing(t, s, "k")

	v1 := put(t, s, "k", []byte("v1"), objects.PutOptions{})
	v2 := put(t, s, "k", []byte("v2"), objects.PutOptions{Condition: objects.Condition{IfMatch: v1.ETag}})
	_, err = s.Put(ctx, "k", bytes.NewReader([]byte("v3")), 2, objects.PutOptions{Condition: objects.Condition{IfMatch: v1.ETag}})
	wantErr(t, "If-Match with a stale ETag", err, lease.ErrPrecondition)
	wantStored(t, s, "k", []byte("v2"))
	// The comparison is strong: a weak form of the current tag never matches.
	_, err = s.Put(ctx, "k", bytes.NewReader([]byte("v3")), 2, objects.PutOptions{Condition: objects.Condition{IfMatch: "W/" + v2.ETag}})
	wantErr(t, "If-Match with the weak form of the current ETag", err, lease.ErrPrecondition)
	wantStored(t, s, "k", []byte("v2"))
}

func testDelete(t *testing.T, s Store, _ Options) {
	ctx := context.Background()
	if err := s.Delete(ctx, "gone", objects.Condition{}); err != nil {
		t.Errorf("unconditional Delete of an absent object: %v, want nil (idempotent, as S3)", err)
	}
	put(t, s, "a/b", []byte("x"), objects.PutOptions{})
	put(t, s, "a/c", []byte("y"), objects.PutOptions{})
	if err := s.Delete(ctx, "a/b", objects.Condition{}); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantMissing(t, s, "a/b")
	wantStored(t, s, "a/c", []byte("y"))
	// A deleted key can be created again.
	put(t, s, "a/b", []byte("again"), objects.PutOptions{Condition: objects.Condition{IfNoneMatch: true}})
}

func testConditionalDelete(t *testing.T, s Store, o Options) {
	ctx := context.Background()
	if o.NoConditionalDelete {
		v := put(t, s, "k", []byte("v1"), objects.PutOptions{})
		if err := s.Delete(ctx, "k", objects.Condition{IfMatch: v.ETag}); err == nil {
			t.Fatal("conditional Delete succeeded on a store said not to support it")
		} else {
			t.Logf("conditional Delete refused as unsupported: %v", err)
		}
		wantStored(t, s, "k", []byte("v1"))
		return
	}
	err := s.Delete(ctx, "k", objects.Condition{IfMatch: lease.NewVersion("nope")})
	wantErr(t, "conditional Delete of an absent object", err, lease.ErrPrecondition)
	v1 := put(t, s, "k", []byte("v1"), objects.PutOptions{})
	v2 := put(t, s, "k", []byte("v2"), objects.PutOptions{})
	wantErr(t, "Delete If-Match stale", s.Delete(ctx, "k", objects.Condition{IfMatch: v1.ETag}), lease.ErrPrecondition)
	wantStored(t, s, "k", []byte("v2"))
	if err := s.Delete(ctx, "k", objects.Condition{IfMatch: v2.ETag}); err != nil {
		t.Fatalf("Delete If-Match current: %v", err)
	}
	wantMissing(t, s, "k")
}

func testEmptyObject(t *testing.T, s Store, _ Options) {
	info := put(t, s, "empty", nil, objects.PutOptions{})
	got, g := get(t, s, "empty")
	if len(got) != 0 || g.ETag != info.ETag || g.Size != 0 {
		t.Errorf("empty object read back as %d bytes, %+v; want 0 bytes at %q", len(got), g, info.ETag)
	}
}

func testShortBody(t *testing.T, s Store, _ Options) {
	put(t, s, "k", []byte("old"), objects.PutOptions{})
	_, err := s.Put(context.Background(), "k", bytes.NewReader([]byte("trunc")), 10, objects.PutOptions{})
	wantErr(t, "body shorter than its declared size", err, lease.ErrInvalid)
	wantStored(t, s, "k", []byte("old"))
	_, err = s.Put(context.Background(), "new", bytes.NewReader([]byte("trunc")), 10, objects.PutOptions{})
	wantErr(t, "body shorter than its declared size", err, lease.ErrInvalid)
	wantMissing(t, s, "new")
}

func testLongBody(t *testing.T, s Store, _ Options) {
	put(t, s, "k", []byte("old"), objects.PutOptions{})
	_, err := s.Put(context.Background(), "k", bytes.NewReader([]byte("longer than said")), 4, objects.PutOptions{})
	wantErr(t, "body longer than its declared size", err, lease.ErrInvalid)
	wantStored(t, s, "k", []byte("old"))
}

// onlyReader hides every interface but io.Reader, so that a store cannot
// learn the length from a *bytes.Reader.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func testUnknownSize(t *testing.T, s Store, _ Options) {
	data := pattern(200_000, 7)
	info, err := s.Put(context.Background(), "u", onlyReader{bytes.NewReader(data)}, objects.UnknownSize, objects.PutOptions{})
	if err != nil {
		t.Fatalf("Put of unknown size: %v", err)
	}
	if info.Size != int64(len(data)) {
		t.Errorf("Put of unknown size: Info.Size %d, want %d", info.Size, len(data))
	}
	wantStored(t, s, "u", data)
}

func testLarge(t *testing.T, s Store, o Options) {
	data := pattern(o.LargeSize, 3)
	info, err := s.Put(context.Background(), "big/data.rdb", onlyReader{bytes.NewReader(data)}, int64(len(data)), objects.PutOptions{})
	if err != nil {
		t.Fatalf("Put of %d bytes: %v", len(data), err)
	}
	got, g := get(t, s, "big/data.rdb")
	if !bytes.Equal(got, data) || g.ETag != info.ETag {
		t.Fatalf("large object read back as %d bytes (equal %v) at %q, want %d at %q",
			len(got), bytes.Equal(got, data), g.ETag, len(data), info.ETag)
	}
	// Large objects are conditional like small ones.
	_, err = s.Put(context.Background(), "big/data.rdb", onlyReader{bytes.NewReader(data)}, int64(len(data)),
		objects.PutOptions{Condition: objects.Condition{IfNoneMatch: true}})
	wantErr(t, "large If-None-Match over an existing object", err, lease.ErrPrecondition)
}

// countingReader counts the bytes read so far.
type countingReader struct {
	mu sync.Mutex
	r  io.Reader
	n  int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.mu.Lock()
	c.n += int64(n)
	c.mu.Unlock()
	return n, err
}

func (c *countingReader) count() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func testBeforeCommit(t *testing.T, s Store, o Options) {
	for _, size := range []int64{5, o.LargeSize} {
		data := pattern(size, 9)
		body := &countingReader{r: bytes.NewReader(data)}
		calls := 0
		key := fmt.Sprintf("commit/%d", size)
		_, err := s.Put(context.Background(), key, onlyReader{body}, size, objects.PutOptions{
			BeforeCommit: func(ctx context.Context) (time.Time, error) {
				calls++
				if n := body.count(); n != size {
					t.Errorf("%d bytes: BeforeCommit called after %d bytes were read, want all of them", size, n)
				}
				if _, err := s.Head(ctx, key); !errors.Is(err, lease.ErrNotFound) {
					t.Errorf("%d bytes: the object is visible before its commit (Head: %v)", size, err)
				}
				return time.Now().Add(time.Minute), nil
			},
		})
		if err != nil {
			t.Fatalf("%d bytes: Put: %v", size, err)
		}
		if calls != 1 {
			t.Errorf("%d bytes: BeforeCommit called %d times, want once", size, calls)
		}
		wantStored(t, s, key, data)
	}
}

var errRefused = errors.New("refused by the fence")

func testBeforeCommitRefusal(t *testing.T, s Store, o Options) {
	for _, size := range []int64{5, o.LargeSize} {
		key := fmt.Sprintf("refused/%d", size)
		old := []byte("old bytes")
		put(t, s, key, old, objects.PutOptions{})
		_, err := s.Put(context.Background(), key, bytes.NewReader(pattern(size, 1)), size, objects.PutOptions{
			BeforeCommit: func(context.Context) (time.Time, error) { return time.Time{}, errRefused },
		})
		wantErr(t, fmt.Sprintf("%d bytes refused before the commit", size), err, errRefused)
		wantStored(t, s, key, old)
		_, err = s.Put(context.Background(), key+"-new", bytes.NewReader(pattern(size, 1)), size, objects.PutOptions{
			BeforeCommit: func(context.Context) (time.Time, error) { return time.Time{}, errRefused },
		})
		wantErr(t, fmt.Sprintf("%d bytes refused before the commit", size), err, errRefused)
		wantMissing(t, s, key+"-new")
	}
}

func testCommitDeadline(t *testing.T, s Store, _ Options) {
	old := []byte("old")
	put(t, s, "k", old, objects.PutOptions{})
	_, err := s.Put(context.Background(), "k", bytes.NewReader([]byte("new")), 3, objects.PutOptions{
		BeforeCommit: func(context.Context) (time.Time, error) { return time.Now().Add(-time.Second), nil },
	})
	wantErr(t, "commit deadline already passed", err, lease.ErrUnavailable)
	wantStored(t, s, "k", old)
}

type failingReader struct{ n int }

var errBody = errors.New("connection reset")

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errBody
	}
	n := min(len(p), f.n)
	for i := range n {
		p[i] = 'x'
	}
	f.n -= n
	return n, nil
}

func testFailingBody(t *testing.T, s Store, o Options) {
	old := []byte("old")
	put(t, s, "k", old, objects.PutOptions{})
	for _, n := range []int{10, int(o.LargeSize) - 10} {
		_, err := s.Put(context.Background(), "k", &failingReader{n: n}, o.LargeSize, objects.PutOptions{})
		if err == nil {
			t.Fatalf("Put with a body failing after %d bytes succeeded", n)
		}
		wantStored(t, s, "k", old)
	}
}

func testCancelled(t *testing.T, s Store, _ Options) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Put(ctx, "k", bytes.NewReader([]byte("x")), 1, objects.PutOptions{})
	wantErr(t, "Put with a cancelled context", err, lease.ErrUnavailable)
	wantMissing(t, s, "k")
	_, err = s.Head(ctx, "k")
	wantErr(t, "Head with a cancelled context", err, lease.ErrUnavailable)
}

func testInvalidKeys(t *testing.T, s Store, _ Options) {
	ctx := context.Background()
	for _, key := range []string{"", "/abs", "a//b", "a/../b", "./a", "a/", "a\x00b", "\xff",
		".redlease-locks/x", "a/.redlease-tmp", strings.Repeat("s", objects.MaxSegmentBytes+1)} {
		_, err := s.Put(ctx, key, bytes.NewReader([]byte("x")), 1, objects.PutOptions{})
		wantErr(t, fmt.Sprintf("Put(%q)", key), err, lease.ErrInvalid)
		_, err = s.Head(ctx, key)
		wantErr(t, fmt.Sprintf("Head(%q)", key), err, lease.ErrInvalid)
		wantErr(t, fmt.Sprintf("Delete(%q)", key), s.Delete(ctx, key, objects.Condition{}), lease.ErrInvalid)
	}
}

func testReserved(t *testing.T, s Store, o Options) {
	if o.Reserved == "" {
		t.Skip("the store reserves no prefix")
	}
	ctx := context.Background()
	key := o.Reserved + "clusters/dev/data.rdb.lease.json"
	_, err := s.Put(ctx, key, bytes.NewReader([]byte("{}")), 2, objects.PutOptions{})
	wantErr(t, "Put under the reserved prefix", err, lease.ErrInvalid)
	wantErr(t, "Delete under the reserved prefix", s.Delete(ctx, key, objects.Condition{}), lease.ErrInvalid)
	_, err = s.Head(ctx, key)
	wantErr(t, "Head under the reserved prefix", err, lease.ErrInvalid)
	put(t, s, "x/data.rdb", []byte("x"), objects.PutOptions{})
	if got := list(t, s, ""); slices.ContainsFunc(got, func(k string) bool { return strings.HasPrefix(k, o.Reserved) }) {
		t.Errorf("List(\"\") = %q names keys under the reserved prefix %q", got, o.Reserved)
	}
}

func list(t *testing.T, s Store, prefix string) []string {
	t.Helper()
	var keys []string
	if err := s.List(context.Background(), prefix, func(k string) error {
		keys = append(keys, k)
		return nil
	}); err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	return keys
}

func testList(t *testing.T, s Store, _ Options) {
	keys := []string{
		"clusters/dev/data.rdb",
		"clusters/dev/snapshots/000000000001-1767225600000.snapshot",
		"clusters/dev/snapshots/000000000001-1767225600000.snapshot.manifest.json",
		"clusters/dev/snapshots/blob_cache/l2.pager",
		"clusters/dev/wal/000000000001-000000000002.wal",
		"clusters/dev-b/data.rdb", // '-' sorts before '/': S3's byte order
		"clusters/devx/data.rdb",
		"other/x",
	}
	for _, k := range keys {
		put(t, s, k, []byte(k), objects.PutOptions{})
	}
	sorted := slices.Sorted(slices.Values(keys))
	if got := list(t, s, ""); !slices.Equal(got, sorted) {
		t.Errorf("List(\"\") = %q, want every key in byte order %q", got, sorted)
	}
	want := []string{keys[1], keys[2], keys[3]}
	if got := list(t, s, "clusters/dev/snapshots/"); !slices.Equal(got, want) {
		t.Errorf("List(snapshots/) = %q, want %q", got, want)
	}
	if got := list(t, s, "clusters/dev/"); !slices.Equal(got, []string{keys[0], keys[1], keys[2], keys[3], keys[4]}) {
		t.Errorf("List(clusters/dev/) = %q: not the five objects of the directory in order", got)
	}
	if got := list(t, s, "nothing/"); len(got) != 0 {
		t.Errorf("List(nothing/) = %q, want none", got)
	}
	stop := errors.New("stop")
	var seen []string
	err := s.List(context.Background(), "", func(k string) error {
		seen = append(seen, k)
		if len(seen) == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || len(seen) != 2 {
		t.Errorf("List stopped by its callback: error %v after %d keys, want the callback's error after 2", err, len(seen))
	}
}

func testListPartial(t *testing.T, s Store, _ Options) {
	for _, k := range []string{"db/snap-a", "db/snapshots/1", "db/sn", "db/wal/1", "dbx"} {
		put(t, s, k, []byte("x"), objects.PutOptions{})
	}
	want := []string{"db/snap-a", "db/snapshots/1"}
	if got := list(t, s, "db/snap"); !slices.Equal(got, want) {
		t.Errorf("List(db/snap) = %q, want %q", got, want)
	}
	if got := list(t, s, "db"); !slices.Equal(got, []string{"db/sn", "db/snap-a", "db/snapshots/1", "db/wal/1", "dbx"}) {
		t.Errorf("List(db) = %q, want the five keys starting with db", got)
	}
}

func testConcurrentCreate(t *testing.T, s Store, o Options) {
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []int
	)
	for i := range o.Racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			data := []byte(fmt.Sprintf("racer %d", i))
			_, err := s.Put(context.Background(), "race", bytes.NewReader(data), int64(len(data)),
				objects.PutOptions{Condition: objects.Condition{IfNoneMatch: true}})
			switch {
			case err == nil:
				mu.Lock()
				winners = append(winners, i)
				mu.Unlock()
			case !errors.Is(err, lease.ErrPrecondition):
				t.Errorf("racer %d: %v, want success or ErrPrecondition", i, err)
			}
		}()
	}
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("%d racers created the object (%v), want exactly one", len(winners), winners)
	}
	wantStored(t, s, "race", []byte(fmt.Sprintf("racer %d", winners[0])))
}

func testReaderSeesOneVersion(t *testing.T, s Store, _ Options) {
	first := pattern(300_000, 1)
	put(t, s, "k", first, objects.PutOptions{})
	body, info, err := s.Get(context.Background(), "k")
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	if _, err := io.ReadFull(body, make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	put(t, s, "k", pattern(300_000, 2), objects.PutOptions{})
	rest, err := io.ReadAll(body)
	if err != nil {
		t.Fatalf("reading on after an overwrite: %v", err)
	}
	if !bytes.Equal(rest, first[10:]) {
		t.Errorf("a body opened at %q mixed in the overwrite's bytes", info.ETag)
	}
}
