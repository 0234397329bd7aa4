package lease_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/redlease/redlease/pkg/lease"
)

// The four byte strings RedDB writes (REDDB-INTEROP.md): a first acquire,
// its refresh, a takeover after expiry, an acquire at term 6.
var goldenRecords = []struct {
	name  string
	bytes string
	lease lease.Lease
}{
	{
		"first acquire",
		`{"acquired_at_ms":1767225600000,"database_key":"clusters/dev/data.rdb","expires_at_ms":1767225660000,"generation":1,"holder_id":"reddb-0-1","term":1}`,
		lease.Lease{DatabaseKey: "clusters/dev/data.rdb", HolderID: "reddb-0-1", Term: 1, Generation: 1, AcquiredAtMs: 1767225600000, ExpiresAtMs: 1767225660000},
	},
	{
		"refresh",
		`{"acquired_at_ms":1767225600000,"database_key":"clusters/dev/data.rdb","expires_at_ms":1767225680012,"generation":1,"holder_id":"reddb-0-1","term":1}`,
		lease.Lease{DatabaseKey: "clusters/dev/data.rdb", HolderID: "reddb-0-1", Term: 1, Generation: 1, AcquiredAtMs: 1767225600000, ExpiresAtMs: 1767225680012},
	},
	{
		"takeover after expiry",
		`{"acquired_at_ms":1767225745031,"database_key":"clusters/dev/data.rdb","expires_at_ms":1767225805031,"generation":2,"holder_id":"reddb-1-1","term":1}`,
		lease.Lease{DatabaseKey: "clusters/dev/data.rdb", HolderID: "reddb-1-1", Term: 1, Generation: 2, AcquiredAtMs: 1767225745031, ExpiresAtMs: 1767225805031},
	},
	{
		"acquire at term 6",
		`{"acquired_at_ms":1767226000000,"database_key":"main","expires_at_ms":1767226060000,"generation":3,"holder_id":"promoter-1","term":6}`,
		lease.Lease{DatabaseKey: "main", HolderID: "promoter-1", Term: 6, Generation: 3, AcquiredAtMs: 1767226000000, ExpiresAtMs: 1767226060000},
	},
}

func TestGoldenRecordsRoundTripExactly(t *testing.T) {
	t.Parallel()
	for _, tc := range goldenRecords {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := string(lease.EncodeLease(tc.lease)); got != tc.bytes {
				t.Errorf("EncodeLease:\n got %s\nwant %s", got, tc.bytes)
			}
			rec, err := lease.DecodeRecord([]byte(tc.bytes))
			if err != nil {
				t.Fatalf("DecodeRecord: %v", err)
			}
			if rec.Lease != tc.lease || rec.ExpiryReportedMs != 0 {
				t.Errorf("DecodeRecord = %+v, want %+v", rec, tc.lease)
			}
			if again := string(lease.EncodeRecord(rec)); again != tc.bytes {
				t.Errorf("re-encode:\n got %s\nwant %s", again, tc.bytes)
			}
		})
	}
}

func TestDecodeAcceptsWhatRedDBAccepts(t *testing.T) {
	t.Parallel()
	base := lease.Lease{DatabaseKey: "main", HolderID: "h", Term: 1, Generation: 3, AcquiredAtMs: 10, ExpiresAtMs: 20}
	tests := []struct {
		name string
		in   string
		want lease.Lease
	}{
		{"keys in any order", `{"term":1,"holder_id":"h","generation":3,"expires_at_ms":20,"database_key":"main","acquired_at_ms":10}`, base},
		{"unknown fields read past", `{"acquired_at_ms":10,"database_key":"main","expires_at_ms":20,"generation":3,"holder_id":"h","term":1,"note":{"x":[1.5,"y"]}}`, base},
		{"missing term reads as 1", `{"acquired_at_ms":10,"database_key":"main","expires_at_ms":20,"generation":3,"holder_id":"h"}`, base},
		{"whitespace", " {\n \"acquired_at_ms\" : 10 , \"database_key\":\"main\",\"expires_at_ms\":20,\"generation\":3,\"holder_id\":\"h\",\"term\":1}\n", base},
		{"largest safe generation and term", `{"acquired_at_ms":10,"database_key":"main","expires_at_ms":20,"generation":9007199254740991,"holder_id":"h","term":9007199254740991}`,
			lease.Lease{DatabaseKey: "main", HolderID: "h", Term: lease.MaxSafeInteger, Generation: lease.MaxSafeInteger, AcquiredAtMs: 10, ExpiresAtMs: 20}},
		{"max u64", `{"acquired_at_ms":18446744073709551615,"database_key":"main","expires_at_ms":20,"generation":3,"holder_id":"h","term":1}`,
			lease.Lease{DatabaseKey: "main", HolderID: "h", Term: 1, Generation: 3, AcquiredAtMs: 18446744073709551615, ExpiresAtMs: 20}},
		{"escaped strings", `{"acquired_at_ms":10,"database_key":"m\u0061in","expires_at_ms":20,"generation":3,"holder_id":"\"h\"","term":1}`,
			lease.Lease{DatabaseKey: "main", HolderID: `"h"`, Term: 1, Generation: 3, AcquiredAtMs: 10, ExpiresAtMs: 20}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec, err := lease.DecodeRecord([]byte(tc.in))
			if err != nil {
				t.Fatalf("DecodeRecord(%s): %v", tc.in, err)
			}
			if rec.Lease != tc.want {
				t.Errorf("DecodeRecord = %+v, want %+v", rec.Lease, tc.want)
			}
		})
	}
}

func TestDecodeRejectsWhatRedDBRejects(t *testing.T) {
	t.Parallel()
	const ok = `"database_key":"main","holder_id":"h","term":1`
	tests := []struct{ name, in string }{
		{"not json", `{"generation":`},
		{"array", `[1,2]`},
		{"null", `null`},
		{"string", `"lease"`},
		{"missing generation", `{` + ok + `,"acquired_at_ms":1,"expires_at_ms":2}`},
		{"missing acquired_at_ms", `{` + ok + `,"generation":1,"expires_at_ms":2}`},
		{"missing expires_at_ms", `{` + ok + `,"generation":1,"acquired_at_ms":1}`},
		{"missing database_key", `{"holder_id":"h","generation":1,"acquired_at_ms":1,"expires_at_ms":2}`},
		{"missing holder_id", `{"database_key":"k","generation":1,"acquired_at_ms":1,"expires_at_ms":2}`},
		{"float generation", `{` + ok + `,"generation":3.0,"acquired_at_ms":1,"expires_at_ms":2}`},
		{"exponent generation", `{` + ok + `,"generation":3e0,"acquired_at_ms":1,"expires_at_ms":2}`},
		{"string generation", `{` + ok + `,"generation":"3","acquired_at_ms":1,"expires_at_ms":2}`},
		{"negative generation", `{` + ok + `,"generation":-1,"acquired_at_ms":1,"expires_at_ms":2}`},
		{"negative acquired", `{` + ok + `,"generation":1,"acquired_at_ms":-1,"expires_at_ms":2}`},
		{"float expires", `{` + ok + `,"generation":1,"acquired_at_ms":1,"expires_at_ms":2.5}`},
		{"overflow u64", `{` + ok + `,"generation":18446744073709551616,"acquired_at_ms":1,"expires_at_ms":2}`},
		{"null generation", `{` + ok + `,"generation":null,"acquired_at_ms":1,"expires_at_ms":2}`},
		{"number holder", `{"database_key":"k","holder_id":7,"generation":1,"acquired_at_ms":1,"expires_at_ms":2}`},
		{"unpaired surrogate escape", `{"database_key":"a\ud800","holder_id":"h","generation":1,"acquired_at_ms":1,"expires_at_ms":2}`},
		{"invalid utf-8", "{\"database_key\":\"\xff\",\"holder_id\":\"h\",\"generation\":1,\"acquired_at_ms\":1,\"expires_at_ms\":2}"},
		// Stricter than RedDB on purpose: a present but unreadable term
		// must not silently become term 1 and disarm the fence.
		{"string term", `{"database_key":"k","holder_id":"h","term":"7","generation":1,"acquired_at_ms":1,"expires_at_ms":2}`},
		{"negative term", `{"database_key":"k","holder_id":"h","term":-7,"generation":1,"acquired_at_ms":1,"expires_at_ms":2}`},
		{"half a release marker", `{"database_key":"k","holder_id":"","generation":1,"acquired_at_ms":1,"expires_at_ms":2,"released_at_ms":5}`},
		{"number principal", `{"database_key":"k","holder_id":"h","principal":7,"generation":1,"acquired_at_ms":1,"expires_at_ms":2}`},
		{"empty principal", `{"database_key":"k","holder_id":"h","principal":"","generation":1,"acquired_at_ms":1,"expires_at_ms":2}`},
		{"null principal", `{"database_key":"k","holder_id":"h","principal":null,"generation":1,"acquired_at_ms":1,"expires_at_ms":2}`},
		{"release marker with a holder", `{"database_key":"k","holder_id":"h","generation":1,"acquired_at_ms":1,"expires_at_ms":2,"released_at_ms":5,"released_holder_id":"h"}`},
		// Stricter than RedDB on purpose (issue 13): no correct writer
		// stores these, and which value of a duplicate RedDB keeps is its
		// JSON module's business.
		{"duplicated generation", `{` + ok + `,"generation":9,"generation":1,"acquired_at_ms":1,"expires_at_ms":2}`},
		{"duplicated holder, one escaped", `{` + ok + `,"generation":1,"acquired_at_ms":1,"expires_at_ms":2,"holder_\u0069d":"x"}`},
		{"duplicated unknown member", `{` + ok + `,"generation":1,"acquired_at_ms":1,"expires_at_ms":2,"note":1,"note":2}`},
		{"generation 0", `{` + ok + `,"generation":0,"acquired_at_ms":1,"expires_at_ms":2}`},
		{"generation 2^53", `{` + ok + `,"generation":9007199254740992,"acquired_at_ms":1,"expires_at_ms":2}`},
		{"term 0", `{"database_key":"k","holder_id":"h","term":0,"generation":1,"acquired_at_ms":1,"expires_at_ms":2}`},
		{"term 2^53", `{"database_key":"k","holder_id":"h","term":9007199254740992,"generation":1,"acquired_at_ms":1,"expires_at_ms":2}`},
		{"written_at_ms 0", `{` + ok + `,"generation":1,"acquired_at_ms":1,"expires_at_ms":2,"written_at_ms":0}`},
		{"written_at_ms a string", `{` + ok + `,"generation":1,"acquired_at_ms":1,"expires_at_ms":2,"written_at_ms":"5"}`},
		{"data after the object", `{` + ok + `,"generation":1,"acquired_at_ms":1,"expires_at_ms":2} {}`},
		{"unpaired surrogate in an unknown member", `{` + ok + `,"generation":1,"acquired_at_ms":1,"expires_at_ms":2,"note":"\udc00"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec, err := lease.DecodeRecord([]byte(tc.in))
			if !errors.Is(err, lease.ErrCorrupt) {
				t.Fatalf("DecodeRecord(%s) = %+v, %v; want ErrCorrupt", tc.in, rec, err)
			}
		})
	}
}

func TestEncodeEscapesLikeRedDB(t *testing.T) {
	t.Parallel()
	l := lease.Lease{DatabaseKey: "a<b>&\u00e9/\u2028", HolderID: "q\"\\\n\t\x01", Term: 1, Generation: 1, AcquiredAtMs: 1, ExpiresAtMs: 2}
	want := `{"acquired_at_ms":1,"database_key":"a<b>&é/` + "\u2028" + `","expires_at_ms":2,"generation":1,"holder_id":"q\"\\\n\t\u0001","term":1}`
	if got := string(lease.EncodeLease(l)); got != want {
		t.Fatalf("EncodeLease:\n got %s\nwant %s", got, want)
	}
}

// A released record must read, to RedDB, as an expired lease that nobody
// holds: no holder_id can match "" (so RedDB's refresh of the released
// generation is stale) and expires_at_ms is not in the future.
func TestReleasedRecordAsRedDBSeesIt(t *testing.T) {
	t.Parallel()
	rec := lease.Record{Lease: lease.Lease{
		DatabaseKey: "main", HolderID: "reddb-0-1", Term: 2, Generation: 4,
		AcquiredAtMs: 1000, ExpiresAtMs: 1500, ReleasedAtMs: 1500,
	}}
	got := string(lease.EncodeRecord(rec))
	want := `{"acquired_at_ms":1000,"database_key":"main","expires_at_ms":1500,"generation":4,"holder_id":"","released_at_ms":1500,"released_holder_id":"reddb-0-1","term":2}`
	if got != want {
		t.Fatalf("EncodeRecord(released):\n got %s\nwant %s", got, want)
	}
	back, err := lease.DecodeRecord([]byte(got))
	if err != nil || back != rec {
		t.Fatalf("DecodeRecord = %+v, %v; want %+v", back, err, rec)
	}
}

func TestSweepMarkerRoundTrips(t *testing.T) {
	t.Parallel()
	rec := lease.Record{
		Lease:            lease.Lease{DatabaseKey: "main", HolderID: "h", Term: 1, Generation: 2, AcquiredAtMs: 1, ExpiresAtMs: 2},
		ExpiryReportedMs: 3,
	}
	got := string(lease.EncodeRecord(rec))
	want := `{"acquired_at_ms":1,"database_key":"main","expires_at_ms":2,"expiry_reported_ms":3,"generation":2,"holder_id":"h","term":1}`
	if got != want {
		t.Fatalf("EncodeRecord:\n got %s\nwant %s", got, want)
	}
	back, err := lease.DecodeRecord([]byte(got))
	if err != nil || back != rec {
		t.Fatalf("DecodeRecord = %+v, %v; want %+v", back, err, rec)
	}
}

// The principal is stored in sorted position, omitted when empty, kept
// through a release, and RedDB's reader (which ignores unknown members)
// still reads the six fields it knows.
func TestPrincipalRoundTrips(t *testing.T) {
	t.Parallel()
	live := lease.Record{
		Lease:     lease.Lease{DatabaseKey: "tenants/a/db", HolderID: "reddb-0-1", Term: 2, Generation: 4, AcquiredAtMs: 1000, ExpiresAtMs: 61000},
		Principal: "tenant-a-reddb",
	}
	released := live
	released.ReleasedAtMs, released.ExpiresAtMs = 1500, 1500
	tests := []struct {
		name string
		rec  lease.Record
		want string
	}{
		{"live", live, `{"acquired_at_ms":1000,"database_key":"tenants/a/db","expires_at_ms":61000,"generation":4,"holder_id":"reddb-0-1","principal":"tenant-a-reddb","term":2}`},
		{"released", released, `{"acquired_at_ms":1000,"database_key":"tenants/a/db","expires_at_ms":1500,"generation":4,"holder_id":"","principal":"tenant-a-reddb","released_at_ms":1500,"released_holder_id":"reddb-0-1","term":2}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := string(lease.EncodeRecord(tc.rec))
			if got != tc.want {
				t.Fatalf("EncodeRecord:\n got %s\nwant %s", got, tc.want)
			}
			back, err := lease.DecodeRecord([]byte(got))
			if err != nil || back != tc.rec {
				t.Fatalf("DecodeRecord = %+v, %v; want %+v", back, err, tc.rec)
			}
			var reddb struct {
				HolderID   string `json:"holder_id"`
				Generation uint64 `json:"generation"`
			}
			if err := jsonUnmarshal([]byte(got), &reddb); err != nil || reddb.Generation != tc.rec.Generation {
				t.Fatalf("RedDB's reader: %+v, %v", reddb, err)
			}
		})
	}
}

// Records written before principals existed (and RedDB's own) carry no
// principal member: they decode with an empty Principal and encode back
// byte for byte.
func TestLegacyRecordHasNoPrincipal(t *testing.T) {
	t.Parallel()
	for _, g := range goldenRecords {
		rec, err := lease.DecodeRecord([]byte(g.bytes))
		if err != nil || rec.Principal != "" {
			t.Fatalf("DecodeRecord(%s) = %+v, %v; want no principal", g.bytes, rec, err)
		}
		if again := string(lease.EncodeRecord(rec)); again != g.bytes {
			t.Fatalf("re-encode of a legacy record:\n got %s\nwant %s", again, g.bytes)
		}
	}
}

// FuzzDecodeRecord: the decoder never panics; whatever it accepts
// re-encodes to canonical bytes (members strictly in byte order, so none
// twice) that decode to the same record and encode to themselves; no
// member of the input is lost except an expiry_reported_ms of 0 (which
// means "none"); and no accepted record has a term or generation outside
// 1..MaxSafeInteger.
func FuzzDecodeRecord(f *testing.F) {
	for _, g := range goldenRecords {
		f.Add([]byte(g.bytes))
	}
	f.Add([]byte(`{"acquired_at_ms":1000,"database_key":"main","expires_at_ms":1500,"generation":4,"holder_id":"","released_at_ms":1500,"released_holder_id":"r","term":2}`))
	f.Add([]byte(`{"generation":3.0}`))
	f.Add([]byte(`{"acquired_at_ms":1,"database_key":"k","expires_at_ms":2,"generation":1,"holder_id":"h","principal":"p","term":1}`))
	f.Add([]byte(`{"acquired_at_ms":1,"database_key":"k","expires_at_ms":2,"generation":1,"generation":2,"holder_id":"h"}`))
	f.Add([]byte(`{"zz":[1, {"a":2}],"acquired_at_ms":1,"database_key":"k","expires_at_ms":2,"generation":1,"holder_id":"h","A":"\u00e9","written_at_ms":3}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := lease.DecodeRecord(data)
		if err != nil {
			if !errors.Is(err, lease.ErrCorrupt) {
				t.Fatalf("DecodeRecord error %v does not match ErrCorrupt", err)
			}
			return
		}
		if rec.Generation == 0 || rec.Generation > lease.MaxSafeInteger || rec.Term == 0 || rec.Term > lease.MaxSafeInteger {
			t.Fatalf("accepted term %d, generation %d", rec.Term, rec.Generation)
		}
		canonical := lease.EncodeRecord(rec)
		again, err := lease.DecodeRecord(canonical)
		if err != nil {
			t.Fatalf("re-decoding an accepted record: %v", err)
		}
		if again != rec {
			t.Fatalf("round trip changed the record: %+v -> %+v", rec, again)
		}
		if twice := lease.EncodeRecord(again); !bytes.Equal(twice, canonical) {
			t.Fatalf("encoding is not stable:\n%s\n%s", canonical, twice)
		}
		in, out := memberNames(t, data), memberNames(t, canonical)
		for i := 1; i < len(out); i++ {
			if out[i-1] >= out[i] {
				t.Fatalf("%s: members %q and %q out of canonical order", canonical, out[i-1], out[i])
			}
		}
		kept := make(map[string]bool, len(out))
		for _, name := range out {
			kept[name] = true
		}
		for _, name := range in {
			if !kept[name] && (name != "expiry_reported_ms" || rec.ExpiryReportedMs != 0) {
				t.Fatalf("member %q of %s is missing from %s", name, data, canonical)
			}
		}
	})
}

// memberNames lists an object's top-level member names in order.
func memberNames(t *testing.T, data []byte) []string {
	t.Helper()
	var names []string
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		names = append(names, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatalf("%s: %v", data, err)
		}
	}
	return names
}
