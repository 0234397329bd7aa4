package lease_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/redlease/redlease/pkg/lease"
)

func TestVersionToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		version lease.Version
		token   string
		ok      bool
	}{
		{`"7"`, "7", true},
		{`"m12"`, "m12", true},
		{`"d41d8cd98f00b204e9800998ecf8427e"`, "d41d8cd98f00b204e9800998ecf8427e", true},
		{`"9b2cf535f27731c974343645a3985328-2"`, "9b2cf535f27731c974343645a3985328-2", true}, // multipart S3 ETag
		{`"!#~` + "\x80\xff" + `"`, "!#~\x80\xff", true},
		{"", "", false},
		{`""`, "", false},
		{`"`, "", false},
		{"7", "", false},
		{`"7`, "", false},
		{`7"`, "", false},
		{`W/"7"`, "", false},
		{`"a"b"`, "", false},
		{`"a b"`, "", false},
		{"\"a\tb\"", "", false},
		{"\"a\x7fb\"", "", false},
	}
	for _, tc := range tests {
		token, ok := tc.version.Token()
		if token != tc.token || ok != tc.ok {
			t.Errorf("Version(%q).Token() = %q, %v; want %q, %v", tc.version, token, ok, tc.token, tc.ok)
		}
	}
}

// FuzzVersionToken: Token never panics, accepts only what NewVersion builds
// from the token it returns, and NewVersion's output of a valid token reads
// back as that token.
func FuzzVersionToken(f *testing.F) {
	for _, s := range []string{`"7"`, `"m1"`, `W/"x"`, `""`, `"a"b"`, "\"\x80\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		token, ok := lease.Version(s).Token()
		if ok && lease.NewVersion(token) != lease.Version(s) {
			t.Fatalf("Token(%q) = %q, which NewVersion quotes as %q", s, token, lease.NewVersion(token))
		}
		if !ok && token != "" {
			t.Fatalf("Token(%q) refused but returned %q", s, token)
		}
		valid := s != "" && !strings.ContainsFunc(s, func(r rune) bool { return r == '"' || r <= ' ' || r == 0x7f })
		if back, ok := lease.NewVersion(s).Token(); valid && (!ok || back != s) {
			t.Fatalf("NewVersion(%q).Token() = %q, %v; want the token back", s, back, ok)
		}
	})
}

// A version is a strong ETag, so an HTTP face can send it as is and read
// If-Match back as is; a backend finds its own token inside.
func ExampleNewVersion() {
	v := lease.NewVersion("42")
	token, ok := v.Token()
	fmt.Println(v, token, ok)
	_, ok = lease.Version(`W/"42"`).Token()
	fmt.Println(ok)
	// Output:
	// "42" 42 true
	// false
}
