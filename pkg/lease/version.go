package lease

// Every backend hands out versions in one form, a strong HTTP entity-tag
// (RFC 9110, section 8.8.3): a non-empty opaque token in double quotes. A
// face that speaks HTTP can then send a version as its ETag header and take
// If-Match back verbatim, whatever the backend. S3 already answers with such
// ETags and compares them itself; the other backends build theirs with
// NewVersion. The conformance suite (pkg/backend/backendtest) holds every
// backend to the form.

// NewVersion quotes a backend's opaque token. The token must be non-empty
// and made of entity-tag characters (visible ASCII but '"', or bytes from
// 0x80 up); digits, hex and letters always are.
func NewVersion(token string) Version { return Version(`"` + token + `"`) }

// Token returns the opaque token inside a version, and false when v is not
// a strong entity-tag with a non-empty token (a weak W/"..." tag, no
// quotes, a quote or control character inside).
func (v Version) Token() (string, bool) {
	s := string(v)
	if len(s) < 3 || s[0] != '"' || s[len(s)-1] != '"' {
		return "", false
	}
	token := s[1 : len(s)-1]
	for i := 0; i < len(token); i++ {
		if c := token[i]; c != 0x21 && (c < 0x23 || c == 0x7f) {
			return "", false
		}
	}
	return token, true
}
