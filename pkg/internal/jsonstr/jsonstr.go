// Package jsonstr holds the one check on raw JSON strings that
// encoding/json does not make: it turns an unpaired UTF-16 surrogate
// escape ("\ud800") into U+FFFD without an error, so two different keys
// would silently become one. RedDB's reader (serde_json) refuses them; so
// do redlease's decoders.
//
// It imports nothing, so pkg/lease (the stored-object codec) and pkg/api
// (the request decoders) share it while pkg/lease stays at the bottom of
// the layering; being internal to pkg, it is no API of redlease.
package jsonstr

// UnpairedSurrogate reports whether raw, a JSON string literal with its
// quotes, contains a \uD800-\uDBFF escape not followed by a \uDC00-\uDFFF
// escape, or a \uDC00-\uDFFF escape on its own.
func UnpairedSurrogate(raw []byte) bool {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' || i+1 >= len(raw) {
			continue
		}
		if raw[i+1] != 'u' {
			i++ // skip the escaped character, which may be a backslash
			continue
		}
		code, ok := hex4(raw, i+2)
		if !ok {
			return false // not valid JSON; the decoder reports that
		}
		switch {
		case code >= 0xDC00 && code <= 0xDFFF:
			return true
		case code >= 0xD800 && code <= 0xDBFF:
			next := i + 6
			if next+1 >= len(raw) || raw[next] != '\\' || raw[next+1] != 'u' {
				return true
			}
			low, ok := hex4(raw, next+2)
			if !ok || low < 0xDC00 || low > 0xDFFF {
				return true
			}
			i = next + 5
		default:
			i += 5
		}
	}
	return false
}

func hex4(raw []byte, at int) (rune, bool) {
	if at+4 > len(raw) {
		return 0, false
	}
	var v rune
	for _, c := range raw[at : at+4] {
		v <<= 4
		switch {
		case c >= '0' && c <= '9':
			v |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			v |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			v |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return v, true
}
