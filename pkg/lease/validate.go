package lease

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Limits are the validation bounds of one deployment.
type Limits struct {
	MaxKeyBytes     int
	MaxSegmentBytes int
	MaxHolderBytes  int
	MinTTL          time.Duration
	MaxTTL          time.Duration
	// MaxTermJump is how far above the stored term (DefaultTerm for a
	// first acquire) an acquire may set the term, so that no single
	// request can fence a key beyond any term a RedDB will reach. 0 takes
	// DefaultMaxTermJump.
	MaxTermJump uint64
}

// DefaultMaxTermJump bounds a term's growth per acquire. RedDB moves its
// term up by one per promotion, so a thousand leaves room for any real
// history while keeping 2^53 - 1 some 9 * 10^12 acquires away.
const DefaultMaxTermJump uint64 = 1000

// Where a record is stored: {prefix}{database_key}.lease.json, as RedDB's
// own lease store names its objects, so both can share a bucket.
const (
	// DefaultPrefix is the prefix of every stored object unless a
	// deployment names another (RedDB's default too).
	DefaultPrefix = "leases/"
	// ObjectSuffix ends every stored object's name.
	ObjectSuffix = ".lease.json"
)

// DefaultLimits are the contract's defaults. MaxSegmentBytes keeps every
// segment, plus ".lease.json" and a temporary suffix, under the 255-byte
// file name limit of common file systems, so the file backend can store
// every key the service accepts.
func DefaultLimits() Limits {
	return Limits{
		MaxKeyBytes:     512,
		MaxSegmentBytes: 200,
		MaxHolderBytes:  256,
		MinTTL:          time.Second,
		MaxTTL:          24 * time.Hour,
		MaxTermJump:     DefaultMaxTermJump,
	}
}

// lookAlikeSlashes are characters that render as "/" without being one
// (Unicode's confusables of U+002F that are symbols or punctuation, not
// letters of a script): a key holding one would show a path it is not.
var lookAlikeSlashes = []rune{
	'\u1735',     // PHILIPPINE SINGLE PUNCTUATION
	'\u2044',     // FRACTION SLASH
	'\u2215',     // DIVISION SLASH
	'\u2571',     // BOX DRAWINGS LIGHT DIAGONAL UPPER RIGHT TO LOWER LEFT
	'\u27CB',     // MATHEMATICAL RISING DIAGONAL
	'\u29F8',     // BIG SOLIDUS
	'\u2F03',     // KANGXI RADICAL SLASH
	'\u3033',     // VERTICAL KANA REPEAT MARK UPPER HALF
	'\u31D3',     // CJK STROKE SP
	'\uFF0F',     // FULLWIDTH SOLIDUS
	'\U0001D23A', // GREEK INSTRUMENTAL NOTATION SYMBOL-47
}

// LookAlikeSlashes returns the characters ValidateKey refuses because
// they render as a path separator.
func LookAlikeSlashes() []rune { return append([]rune(nil), lookAlikeSlashes...) }

func invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// ValidateKey checks a database key. Keys become S3 object keys and file
// paths, and principals are scoped by key prefix, so anything that could
// escape the prefix or alias another key is refused: a leading "/", empty,
// "." or ".." segments, control or other non-printable characters, invalid
// UTF-8, over-long keys or segments, a key not in Unicode NFC (its NFC
// twin would be a second key for the same name) and characters that
// render as "/" (LookAlikeSlashes). Keys are refused, never normalised, so
// the key the service uses is the one the caller's prefix was checked on.
func (l Limits) ValidateKey(key string) error {
	const field = "database_key"
	switch {
	case key == "":
		return invalid(field, "must not be empty")
	case len(key) > l.MaxKeyBytes:
		return invalid(field, "must be at most %d bytes, got %d", l.MaxKeyBytes, len(key))
	case !utf8.ValidString(key):
		return invalid(field, "must be valid UTF-8")
	case strings.HasPrefix(key, "/"):
		return invalid(field, "must not start with '/'")
	}
	if err := printable(field, key); err != nil {
		return err
	}
	if !norm.NFC.IsNormalString(key) {
		return invalid(field, "must be in Unicode normalization form NFC: compose it first (for example U+0065 U+0301 as U+00E9)")
	}
	if i := strings.IndexFunc(key, isLookAlikeSlash); i >= 0 {
		r, _ := utf8.DecodeRuneInString(key[i:])
		return invalid(field, "must not contain %U, which renders as '/' without being a separator", r)
	}
	segments := strings.Split(key, "/")
	for i, seg := range segments {
		switch {
		case seg == "":
			return invalid(field, "must not contain empty segments ('//' or a trailing '/')")
		case seg == "." || seg == "..":
			return invalid(field, "must not contain '.' or '..' segments")
		case len(seg) > l.MaxSegmentBytes:
			return invalid(field, "segments must be at most %d bytes", l.MaxSegmentBytes)
		case i < len(segments)-1 && strings.HasSuffix(seg, ObjectSuffix):
			// "a.lease.json/b" would need a directory where key "a" keeps
			// its file.
			return invalid(field, "only the last segment may end in %q", ObjectSuffix)
		}
	}
	return nil
}

// ValidateHolder checks a holder id.
func (l Limits) ValidateHolder(holder string) error {
	const field = "holder_id"
	switch {
	case holder == "":
		return invalid(field, "must not be empty")
	case len(holder) > l.MaxHolderBytes:
		return invalid(field, "must be at most %d bytes, got %d", l.MaxHolderBytes, len(holder))
	case !utf8.ValidString(holder):
		return invalid(field, "must be valid UTF-8")
	}
	return printable(field, holder)
}

// ValidateTTL checks a TTL in milliseconds.
func (l Limits) ValidateTTL(ttlMs uint64) error {
	lo, hi := uint64(max(l.MinTTL.Milliseconds(), 0)), uint64(max(l.MaxTTL.Milliseconds(), 0)) //nolint:gosec // clamped to >= 0
	if ttlMs < lo || ttlMs > hi {
		return invalid("ttl_ms", "must be between %d and %d, got %d", lo, hi, ttlMs)
	}
	return nil
}

// ValidatePositive checks a term or generation: at least 1 and small enough
// to survive RedDB's f64 round trip.
func ValidatePositive(field string, v uint64) error {
	if v < 1 || v > MaxSafeInteger {
		return invalid(field, "must be between 1 and %d, got %d", MaxSafeInteger, v)
	}
	return nil
}

func printable(field, s string) error {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return invalid(field, "must contain only printable characters, found %U", r)
		}
	}
	return nil
}

func isLookAlikeSlash(r rune) bool {
	for _, l := range lookAlikeSlashes {
		if r == l {
			return true
		}
	}
	return false
}
