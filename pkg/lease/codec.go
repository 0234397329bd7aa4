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
	fieldWrittenAt        = "written_at_ms"
)

// EncodeRecord renders a record exactly as RedDB writes a lease object:
// compact, keys in alphabetical order, integers only, no trailing newline.
// The record's Unknown members go in their alphabetical places among the
// others, so the bytes stay canonical whatever a stored object carried.
//
// A released record is written with an empty holder_id and its real holder
// in released_holder_id. RedDB then sees an expired lease that nobody holds:
// its acquire treats the key as free (and takes generation+1), and its
// refresh of the released generation fails as stale because no holder_id
// matches "" (holder ids are never empty).
func EncodeRecord(r Record) []byte {
	var b bytes.Buffer
	b.Grow(224 + len(r.DatabaseKey) + 2*len(r.HolderID) + len(r.Principal) + len(r.Unknown))
	holder := r.HolderID
	if r.Released() {
		holder = ""
	}
	w := newObjectWriter(&b, r.Unknown)
	w.key(fieldAcquiredAt)
	b.WriteString(strconv.FormatUint(r.AcquiredAtMs, 10))
	w.key(fieldDatabaseKey)
	writeJSONString(&b, r.DatabaseKey)
	w.key(fieldExpiresAt)
	b.WriteString(strconv.FormatUint(r.ExpiresAtMs, 10))
	if r.ExpiryReportedMs != 0 {
		w.key(fieldExpiryReported)
		b.WriteString(strconv.FormatUint(r.ExpiryReportedMs, 10))
	}
	w.key(fieldGeneration)
	b.WriteString(strconv.FormatUint(r.Generation, 10))
	w.key(fieldHolderID)
	writeJSONString(&b, holder)
	if r.Principal != "" {
		w.key(fieldPrincipal)
		writeJSONString(&b, r.Principal)
	}
	if r.Released() {
		w.key(fieldReleasedAt)
		b.WriteString(strconv.FormatUint(r.ReleasedAtMs, 10))
		w.key(fieldReleasedHolderID)
		writeJSONString(&b, r.HolderID)
	}
	w.key(fieldTerm)
	b.WriteString(strconv.FormatUint(r.Term, 10))
	if r.TTLMs != 0 {
		w.key(fieldTTL)
		b.WriteString(strconv.FormatUint(r.TTLMs, 10))
	}
	if r.WrittenAtMs != 0 {
		w.key(fieldWrittenAt)
		b.WriteString(strconv.FormatUint(r.WrittenAtMs, 10))
	}
	w.close()
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
// are floats, strings or negative. Where RedDB's reader would read a value
// that no correct writer stores, it refuses the object as corrupt instead:
//   - a term present but not a non-negative integer (RedDB reads 1: silently
//     lowering a term would disarm the fence);
//   - a member named twice (which value RedDB's JSON module keeps is not
//     documented, and a lease must not depend on it);
//   - a term or generation of 0 or above MaxSafeInteger (no acquire hands
//     those out, and RedDB's f64 numbers cannot carry the larger ones);
//   - an unpaired UTF-16 surrogate escape anywhere (RedDB refuses those).
//
// Members it does not know are kept in Record.Unknown.
func DecodeRecord(data []byte) (Record, error) {
	if !utf8.Valid(data) {
		return Record{}, formatError("lease json is not valid UTF-8")
	}
	if jsonstr.UnpairedSurrogate(data) {
		return Record{}, formatError("lease json has an unpaired UTF-16 surrogate escape")
	}
	list, err := objectMembers(data)
	if err != nil {
		return Record{}, err
	}
	fields := make(map[string]json.RawMessage, len(list))
	var unknown []member
	for _, m := range list {
		if knownMembers[m.name] {
			fields[m.name] = m.value
		} else {
			unknown = append(unknown, m)
		}
	}
	var r Record
	if r.Unknown, err = encodeUnknown(unknown); err != nil {
		return Record{}, err
	}
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
	if err := CheckStoredToken(r.Term, r.Generation); err != nil {
		return Record{}, err
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
	if _, ok := fields[fieldWrittenAt]; ok {
		if r.WrittenAtMs, err = requiredUint(fields, fieldWrittenAt); err != nil {
			return Record{}, err
		}
		if r.WrittenAtMs == 0 { // never written as 0: 0 means "absent"
			return Record{}, formatError("%s is 0", fieldWrittenAt)
		}
	}
	if _, ok := fields[fieldPrincipal]; ok {
		if r.Principal, err = requiredString(fields, fieldPrincipal); err != nil {
			return Record{}, err
		}
		if r.Principal == "" { // never written empty: it would read back as none
			return Record{}, formatError("%s is empty", fieldPrincipal)
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

// fencingBounds refuses a stored term or generation that no acquire hands
// out: 0, or above MaxSafeInteger.
func fencingBounds(name string, v uint64) error {
	if v == 0 || v > MaxSafeInteger {
		return formatError("%s %d is outside 1..%d", name, v, MaxSafeInteger)
	}
	return nil
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
