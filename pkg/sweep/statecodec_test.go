package sweep

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/redlease/redlease/pkg/lease"
)

func sampleState() *state {
	s := newState()
	s.cycle, s.cursor, s.cycleStartedMs = 7, "leases/tenant-b/db.lease.json", 1767225600000
	s.known["tenant-a/db-1"] = &known{tag: `"0a1b"`, kind: kindReleased, seen: 7}
	s.known["tenant-a/db-2"] = &known{tag: `"0a1c"`, kind: kindReported, seen: 6, rec: reportedAt(1767225000000)}
	s.known["tenant-a/db-20"] = &known{tag: "5ysgy.3j.dn9.dn9", version: `"ffee"`, kind: kindOpen, seen: 7,
		rec: lease.Record{Lease: lease.Lease{DatabaseKey: "tenant-a/db-20", HolderID: "reddb-0-1", Term: 3, Generation: 9, AcquiredAtMs: 1767225500000, ExpiresAtMs: 1767225660000},
			Principal: "arn:aws:sts::123456789012:assumed-role/reddb-a/tenant-a"}}
	s.known["tenant-a/db-21"] = &known{tag: `"ffef"`, kind: kindOpen, seen: 7,
		rec: lease.Record{Lease: lease.Lease{DatabaseKey: "tenant-a/db-21", HolderID: "reddb-1-1", Term: 1, Generation: 1, AcquiredAtMs: 1767225500000, ExpiresAtMs: 1767225530000}}}
	s.known["ü/ключ"] = &known{tag: `"9"`, kind: kindCorrupt, seen: 5}
	return s
}

func TestStateRoundTrips(t *testing.T) {
	t.Parallel()
	want := sampleState()
	got, err := decodeState(encodeState(want))
	if err != nil {
		t.Fatal(err)
	}
	if got.cycle != want.cycle || got.cursor != want.cursor || got.cycleStartedMs != want.cycleStartedMs {
		t.Errorf("header %d %q %d, want %d %q %d", got.cycle, got.cursor, got.cycleStartedMs, want.cycle, want.cursor, want.cycleStartedMs)
	}
	if !reflect.DeepEqual(got.known, want.known) {
		for k, v := range want.known {
			t.Errorf("%q: got %+v, want %+v", k, got.known[k], v)
		}
	}
}

// TestStateIsCompact: front-coded keys and gzip keep a realistic fleet's
// state to tens of bytes a key, for a state rewritten every run.
func TestStateIsCompact(t *testing.T) {
	t.Parallel()
	s := newState()
	for i := range 10_000 {
		key := fmt.Sprintf("tenant-%03d/db-%06d/data.rdb", i%97, i)
		k := &known{tag: fmt.Sprintf(`"%032x"`, i*7919), kind: kindReleased, seen: 1}
		if i%10 == 0 {
			k.kind, k.rec = kindOpen, lease.Record{Lease: lease.Lease{DatabaseKey: key, HolderID: "reddb-0-1", Term: 1, Generation: uint64(i), AcquiredAtMs: 1767225600000, ExpiresAtMs: 1767225630000},
				Principal: fmt.Sprintf("arn:aws:sts::123456789012:assumed-role/reddb/tenant-%03d", i%97)}
		}
		s.known[key] = k
	}
	if n := len(encodeState(s)); n > 40*10_000 {
		t.Errorf("state of 10,000 keys is %d bytes, want under 40 a key", n)
	}
}

// gz wraps a raw state stream in the stored form's header and gzip.
func gz(raw []byte) []byte {
	var b bytes.Buffer
	b.WriteString(stateMagic)
	b.WriteByte(stateFormat)
	w := gzip.NewWriter(&b)
	_, _ = w.Write(raw)
	_ = w.Close()
	return b.Bytes()
}

// otherKey is the stored record of a key other than "k".
var otherKey = string(lease.EncodeRecord(lease.Record{Lease: lease.Lease{DatabaseKey: "j", HolderID: "h", Term: 1, Generation: 1, AcquiredAtMs: 1, ExpiresAtMs: 2}}))

func TestDecodeStateRefusesWhatItDidNotWrite(t *testing.T) {
	t.Parallel()
	good := encodeState(sampleState())
	for name, data := range map[string][]byte{
		"empty":          nil,
		"other magic":    append([]byte("XXXX"), good[4:]...),
		"older format":   append([]byte{'R', 'L', 'S', 'W', stateFormat - 1}, good[5:]...),
		"newer format":   append([]byte{'R', 'L', 'S', 'W', stateFormat + 1}, good[5:]...),
		"not gzip":       append([]byte{'R', 'L', 'S', 'W', stateFormat}, "garbage"...),
		"truncated":      good[:len(good)-6],
		"cycle zero":     gz([]byte{0, 0, 0, 0}),
		"trailing bytes": gz([]byte{1, 0, 0, 0, 0xff}),
		"bad kind":       gz([]byte{1, 0, 0, 1, 0, 1, 'k', 1, 't', 0, 9, 0}),
		"shared too far": gz([]byte{1, 0, 0, 1, 5, 1, 'k', 1, 't', 0, 3, 0}),
		"seen in future": gz([]byte{1, 0, 0, 1, 0, 1, 'k', 1, 't', 0, 3, 4}),
		"empty tag":      gz([]byte{1, 0, 0, 1, 0, 1, 'k', 0, 0, 3, 0}),
		"open not JSON":  gz(append([]byte{1, 0, 0, 1, 0, 1, 'k', 1, 't', 0, 1, 0, 3}, "{x}"...)),
		"open elsewhere": gz(append([]byte{1, 0, 0, 1, 0, 1, 'k', 1, 't', 0, 1, 0, byte(len(otherKey))}, otherKey...)),
		"keys unsorted":  gz([]byte{1, 0, 0, 2, 0, 1, 'k', 1, 't', 0, 3, 0, 0, 1, 'a', 1, 't', 0, 3, 0}),
	} {
		if _, err := decodeState(data); !errors.Is(err, errBadState) {
			t.Errorf("%s: decodeState = %v, want errBadState", name, err)
		}
	}
}

// FuzzDecodeState decodes each input both as stored bytes and as the
// stream inside the gzip (which a fuzzer's mutations of compressed bytes
// would rarely reach).
func FuzzDecodeState(f *testing.F) {
	f.Add(encodeState(sampleState()))
	f.Add(encodeState(newState()))
	f.Add(append([]byte{1, 0, 0, 1, 0, 1, 'k', 1, 't', 0, 1, 0, byte(len(otherKey))}, otherKey...))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, in := range [][]byte{data, gz(data)} {
			checkDecode(t, in)
		}
	})
}

func checkDecode(t *testing.T, data []byte) {
	t.Helper()
	s, err := decodeState(data)
	if err != nil {
		if !errors.Is(err, errBadState) {
			t.Fatalf("error %v is not errBadState", err)
		}
		return
	}
	again, err := decodeState(encodeState(s))
	if err != nil {
		t.Fatalf("re-encoded state does not decode: %v", err)
	}
	if !reflect.DeepEqual(again.known, s.known) || again.cycle != s.cycle || again.cursor != s.cursor {
		t.Fatal("state changed through an encode and decode")
	}
}
