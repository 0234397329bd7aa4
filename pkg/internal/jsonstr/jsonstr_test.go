package jsonstr_test

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/redlease/redlease/pkg/internal/jsonstr"
)

func TestUnpairedSurrogate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw  string
		want bool
	}{
		{`"plain"`, false},
		{`"\u00e9\u4e2d"`, false},
		{`"\ud83d\ude00"`, false}, // a pair: 😀
		{`"\uD83D\uDE00"`, false},
		{`"\ufffd"`, false}, // U+FFFD itself is a real character
		{`"a\ud800"`, true},
		{`"a\ud800b"`, true},
		{`"\ud800\u0041"`, true},
		{`"\udc00"`, true},
		{`"\udfffx"`, true},
		{`"\ud800\ud800"`, true},
		{`"\\ud800"`, false}, // an escaped backslash, then the letters ud800
		{`"\\\ud800"`, true},
		{`"\"\ud83d\ude00\""`, false},
	}
	for _, tc := range tests {
		if got := jsonstr.UnpairedSurrogate([]byte(tc.raw)); got != tc.want {
			t.Errorf("UnpairedSurrogate(%s) = %v, want %v", tc.raw, got, tc.want)
		}
	}
}

// FuzzUnpairedSurrogate: for every string literal encoding/json accepts,
// a flagged literal decodes with a U+FFFD in it (encoding/json's stand-in),
// and an unflagged one decodes with a U+FFFD only where the input spelled
// one, raw or escaped.
func FuzzUnpairedSurrogate(f *testing.F) {
	for _, s := range []string{`"a\ud800"`, `"\ud83d\ude00"`, `"\ufffd"`, `"\\ud800"`, `"x"`, "\"\uFFFD\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var s string
		if !utf8.Valid(raw) || json.Unmarshal(raw, &s) != nil {
			return
		}
		invented := strings.Count(s, "\uFFFD") - spelledReplacements(raw)
		if got := jsonstr.UnpairedSurrogate(raw); got != (invented > 0) {
			t.Fatalf("UnpairedSurrogate(%q) = %v, but decoding invented %d U+FFFD", raw, got, invented)
		}
	})
}

// spelledReplacements counts U+FFFD written in the literal itself, raw or
// as an escape (an escaped backslash before "ufffd" does not count).
func spelledReplacements(raw []byte) int {
	n := strings.Count(string(raw), "\uFFFD")
	for i := 0; i+5 < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		if raw[i+1] == 'u' && strings.EqualFold(string(raw[i+2:i+6]), "fffd") {
			n++
		}
		i++
	}
	return n
}
