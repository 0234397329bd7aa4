package lease

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits are the validation bounds of one deployment.
type Limits struct {
	MaxKeyBytes     int
	MaxSegmentBytes int
	MaxHolderBytes  int
	MinTTL          time.Duration
	MaxTTL          time.Duration
}

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
	}
}

func invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// ValidateKey checks a database key. Keys become S3 object keys and file
// paths, so anything that could escape the prefix or alias another key is
// refused: a leading "/", empty, "." or ".." segments, control or other
// non-printable characters, invalid UTF-8, and over-long keys or segments.
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
