package sweep_test

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/sweep"
)

func TestDetailJSON(t *testing.T) {
	t.Parallel()
	l := lease.Lease{DatabaseKey: "clusters/dev/data.rdb", HolderID: "reddb-0-1", Term: 2, Generation: 7,
		AcquiredAtMs: 1767225600000, ExpiresAtMs: 1767225660000}
	detail, err := sweep.NewExpiredEvent(l, 1767225661500).Detail()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-0-1","term":2,"generation":7,` +
		`"acquired_at_ms":1767225600000,"expires_at_ms":1767225660000,"expired_at":"2026-01-01T00:01:00.000Z",` +
		`"expired_for_ms":1500,"event_id":"` + sweep.EventID("clusters/dev/data.rdb", 7, 1767225660000) + `"}`
	if detail != want {
		t.Errorf("detail\n got %s\nwant %s", detail, want)
	}
}

func TestEventIDNamesOneExpiry(t *testing.T) {
	t.Parallel()
	base := sweep.EventID("a/b", 3, 1000)
	if len(base) != 32 {
		t.Errorf("EventID length %d, want 32 hex digits", len(base))
	}
	if again := sweep.EventID("a/b", 3, 1000); again != base {
		t.Errorf("EventID not deterministic: %s then %s", base, again)
	}
	others := [][3]any{{"a/c", uint64(3), uint64(1000)}, {"a/b", uint64(4), uint64(1000)}, {"a/b", uint64(3), uint64(1001)},
		{"a/b3", uint64(0), uint64(1000)}, {"a/b|3", uint64(3), uint64(1000)}}
	for _, o := range others {
		if id := sweep.EventID(o[0].(string), o[1].(uint64), o[2].(uint64)); id == base {
			t.Errorf("EventID%v equals EventID(a/b, 3, 1000)", o)
		}
	}
}

func TestFormatMs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ms   uint64
		want string
	}{
		{0, "1970-01-01T00:00:00.000Z"},
		{1767225600001, "2026-01-01T00:00:00.001Z"},
		{1767225660999, "2026-01-01T00:01:00.999Z"},
	}
	for _, tt := range tests {
		if got := sweep.FormatMs(tt.ms); got != tt.want {
			t.Errorf("FormatMs(%d) = %s, want %s", tt.ms, got, tt.want)
		}
	}
}

// FuzzDetail checks that any record the codec accepts yields a detail that
// is one JSON object which decodes back to the same event.
func FuzzDetail(f *testing.F) {
	f.Add("clusters/dev/data.rdb", "reddb-0-1", uint64(1), uint64(1), uint64(1767225600000), uint64(1767225660000), uint64(1767225661000))
	f.Add("ключ/\"quoted\"\\<&>", "holder\u2028\t", uint64(1<<53-1), uint64(0), uint64(0), uint64(1<<63), uint64(5))
	f.Fuzz(func(t *testing.T, key, holder string, term, gen, acquired, expires, now uint64) {
		if !utf8.ValidString(key) || !utf8.ValidString(holder) {
			t.Skip("the codec refuses invalid UTF-8")
		}
		e := sweep.NewExpiredEvent(lease.Lease{DatabaseKey: key, HolderID: holder, Term: term, Generation: gen,
			AcquiredAtMs: acquired, ExpiresAtMs: expires}, now)
		detail, err := e.Detail()
		if err != nil {
			t.Fatalf("Detail: %v", err)
		}
		var back sweep.ExpiredEvent
		if err := json.Unmarshal([]byte(detail), &back); err != nil {
			t.Fatalf("detail %s is not JSON: %v", detail, err)
		}
		if back != e {
			t.Errorf("round trip\n got %+v\nwant %+v", back, e)
		}
		if e.ExpiredForMs > 0 && e.ExpiredForMs != now-expires {
			t.Errorf("ExpiredForMs %d, want %d", e.ExpiredForMs, now-expires)
		}
	})
}
