package lease

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/redlease/redlease/pkg/internal/jsonstr"
)

// Field names of the stored object. RedDB reads the first six; the rest are
// redlease's extensions, which RedDB's reader ignores.
const (
	fieldAcquiredAt       = "acquired_at_ms"
	fieldDatabaseKey      = "database_key"
	fieldExpiresAt        = "expires_at_ms"
	fieldExpiryReported   = "expiry_reported_ms"
	fieldGeneration       = "generation"
	fieldHolderID         = "holder_id"
	fieldPrincipal        = "principal"
	fieldReleasedAt       = "released_at_ms"
	fieldReleasedHolderID = "released_holder_id"
	fieldTerm             = "term"
	fieldTTL              = "ttl_ms"
)

// EncodeRecord renders a record exactly as RedDB writes a lease object:
// compact, keys in alphabetical order, integers only, no trailing newline.
//
// A released record is written with an empty holder_id and its real holder
// in released_holder_id. RedDB then sees an expired lease that nobody holds:
// its acquire treats the key as free (and takes generation+1), and its
// refresh of the released generation fails as stale because no holder_id
// matches "" (holder ids are never empty).
func EncodeRecord(r Record) []byte {
	var b bytes.Buffer
	b.Grow(208 + len(r.DatabaseKey) + 2*len(r.HolderID) + len(r.Principal))
	holder := r.HolderID
	if r.Released() {
		holder = ""
	}
	b.WriteString(`{"` + fieldAcquiredAt + `":`)
	b.WriteString(strconv.FormatUint(r.AcquiredAtMs, 10))
	b.WriteString(`,"` + fieldDatabaseKey + `":`)
	writeJSONString(&b, r.DatabaseKey)
	b.WriteString(`,"` + fieldExpiresAt + `":`)
	b.WriteString(strconv.FormatUint(r.ExpiresAtMs, 10))
	if r.ExpiryReportedMs != 0 {
		b.WriteString(`,"` + fieldExpiryReported + `":`)
		b.WriteString(strconv.FormatUint(r.ExpiryReportedMs, 10))
	}
	b.WriteString(`,"` + fieldGeneration + `":`)
	b.WriteString(strconv.FormatUint(r.Generation, 10))
	b.WriteString(`,"` + fieldHolderID + `":`)
	writeJSONString(&b, holder)
	if r.Principal != "" {
		b.WriteString(`,"` + fieldPrincipal + `":`)
		writeJSONString(&b, r.Principal)
	}
	if r.Released() {
		b.WriteString(`,"` + fieldReleasedAt + `":`)
		b.WriteString(strconv.FormatUint(r.ReleasedAtMs, 10))
		b.WriteString(`,"` + fieldReleasedHolderID + `":`)
		writeJSONString(&b, r.HolderID)
	}
	b.WriteString(`,"` + fieldTerm + `":`)
	b.WriteString(strconv.FormatUint(r.Term, 10))
	if r.TTLMs != 0 {
		b.WriteString(`,"` + fieldTTL + `":`)
		b.WriteString(strconv.FormatUint(r.TTLMs, 10))
	}
	b.WriteByte('}')
	return b.Bytes()
}

// EncodeLease renders a plain lease (no redlease extensions, no principal)
// in RedDB's bytes.
func EncodeLease(l Lease) []byte {
	l.ReleasedAtMs = 0
	return EncodeRecord(Record{Lease: l})
}

// writeJSONString escapes the way RedDB's serializer does: quote, backslash
// and control characters only; everything else, non-ASCII included, raw.
func writeJSONString(b *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if c < 0x20 {
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xf])
				continue
			}
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// DecodeRecord reads a stored lease object. It accepts what RedDB's reader
// accepts (any key order, unknown fields, a missing term reading as 1) and
// rejects what it rejects: a non-object, missing fields, and u64 fields that
// are floats, strings or negative. One deliberate difference: a term that
// is present but not a non-negative integer is rejected instead of read as 1,
// because silently lowering a term would disarm the fence.
func DecodeRecord(data []byte) (Record, error) {
	if !utf8.Valid(data) {
		return Record{}, formatError("lease json is not valid UTF-8")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return Record{}, formatError("lease json parse: %v", err)
	}
	if fields == nil {
		return Record{}, formatError("lease json is not an object")
	}
	var (
		r   Record
		err error
	)
	if r.DatabaseKey, err = requiredString(fields, fieldDatabaseKey); err != nil {
		return Record{}, err
	}
	if r.HolderID, err = requiredString(fields, fieldHolderID); err != nil {
		return Record{}, err
	}
	if r.Generation, err = requiredUint(fields, fieldGeneration); err != nil {
		return Record{}, err
	}
	if r.AcquiredAtMs, err = requiredUint(fields, fieldAcquiredAt); err != nil {
		return Record{}, err
	}
	if r.ExpiresAtMs, err = requiredUint(fields, fieldExpiresAt); err != nil {
		return Record{}, err
	}
	r.Term = DefaultTerm
	if _, ok := fields[fieldTerm]; ok {
		if r.Term, err = requiredUint(fields, fieldTerm); err != nil {
			return Record{}, err
		}
	}
	if _, ok := fields[fieldTTL]; ok {
		if r.TTLMs, err = requiredUint(fields, fieldTTL); err != nil {
			return Record{}, err
		}
	}
	if _, ok := fields[fieldExpiryReported]; ok {
		if r.ExpiryReportedMs, err = requiredUint(fields, fieldExpiryReported); err != nil {
			return Record{}, err
		}
	}
	if _, ok := fields[fieldPrincipal]; ok {
		if r.Principal, err = requiredString(fields, fieldPrincipal); err != nil {
			return Record{}, err
		}
	}
	_, hasReleasedAt := fields[fieldReleasedAt]
	_, hasReleasedHolder := fields[fieldReleasedHolderID]
	if hasReleasedAt || hasReleasedHolder {
		// Both extension fields, and an empty holder_id, or it is not a
		// release we wrote; a RedDB write drops both fields entirely.
		if r.ReleasedAtMs, err = requiredUint(fields, fieldReleasedAt); err != nil {
			return Record{}, err
		}
		released, err := requiredString(fields, fieldReleasedHolderID)
		if err != nil {
			return Record{}, err
		}
		if r.ReleasedAtMs == 0 || released == "" || r.HolderID != "" {
			return Record{}, formatError("inconsistent release marker")
		}
		r.HolderID = released
	}
	return r, nil
}

func requiredString(fields map[string]json.RawMessage, name string) (string, error) {
	raw, ok := fields[name]
	if !ok {
		return "", formatError("missing %s", name)
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '"' {
		return "", formatError("%s is not a string", name)
	}
	if jsonstr.UnpairedSurrogate(raw) {
		return "", formatError("%s has an unpaired UTF-16 surrogate escape", name)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", formatError("%s: %v", name, err)
	}
	return s, nil
}

// requiredUint accepts only a JSON integer without sign, fraction or
// exponent that fits in a u64, as RedDB's as_u64 does.
func requiredUint(fields map[string]json.RawMessage, name string) (uint64, error) {
	raw, ok := fields[name]
	if !ok {
		return 0, formatError("missing %s", name)
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0, formatError("%s is empty", name)
	}
	for _, c := range raw {
		if c < '0' || c > '9' {
			return 0, formatError("%s is not a non-negative integer", name)
		}
	}
	v, err := strconv.ParseUint(string(raw), 10, 64)
	if err != nil {
		return 0, formatError("%s is out of range", name)
	}
	return v, nil
}

func formatError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}
