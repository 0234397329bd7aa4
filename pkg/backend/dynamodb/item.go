package dynamodb

import (
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/redlease/redlease/pkg/lease"
)

// Attribute names of an item; see the package doc.
const (
	attrKey            = "database_key"
	attrHolder         = "holder_id"
	attrPrincipal      = "principal"
	attrTerm           = "term"
	attrGeneration     = "generation"
	attrAcquiredAt     = "acquired_at_ms"
	attrExpiresAt      = "expires_at_ms"
	attrReleasedAt     = "released_at_ms"
	attrExpiryReported = "expiry_reported_ms"
	attrTTL            = "ttl_ms"
	attrVersion        = "ver"
	attrWriteID        = "write_id"
)

func num(v uint64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatUint(v, 10)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

// keyOf is the primary key of a database key's item.
func keyOf(key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrKey: str(key)}
}

// encodeItem renders a record at version ver.
func encodeItem(rec lease.Record, ver uint64) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{
		attrKey:        str(rec.DatabaseKey),
		attrHolder:     str(rec.HolderID),
		attrTerm:       num(rec.Term),
		attrGeneration: num(rec.Generation),
		attrAcquiredAt: num(rec.AcquiredAtMs),
		attrExpiresAt:  num(rec.ExpiresAtMs),
		attrVersion:    num(ver),
	}
	if rec.Principal != "" {
		item[attrPrincipal] = str(rec.Principal)
	}
	if rec.ReleasedAtMs != 0 {
		item[attrReleasedAt] = num(rec.ReleasedAtMs)
	}
	if rec.ExpiryReportedMs != 0 {
		item[attrExpiryReported] = num(rec.ExpiryReportedMs)
	}
	if rec.TTLMs != 0 {
		item[attrTTL] = num(rec.TTLMs)
	}
	return item
}

// decodeItem reads an item back; anything but the shape encodeItem writes
// (unknown attributes aside) is lease.ErrCorrupt.
func decodeItem(item map[string]types.AttributeValue) (lease.Versioned, error) {
	var (
		rec lease.Record
		ver uint64
		err error
	)
	if rec.DatabaseKey, err = getString(item, attrKey); err != nil {
		return lease.Versioned{}, err
	}
	if rec.HolderID, err = getString(item, attrHolder); err != nil {
		return lease.Versioned{}, err
	}
	if _, ok := item[attrPrincipal]; ok {
		if rec.Principal, err = getString(item, attrPrincipal); err != nil {
			return lease.Versioned{}, err
		}
		if rec.Principal == "" {
			// Never written empty; it would read back as "no principal".
			return lease.Versioned{}, corrupt("%s is empty", attrPrincipal)
		}
	}
	for _, f := range []struct {
		name string
		dst  *uint64
	}{
		{attrTerm, &rec.Term},
		{attrGeneration, &rec.Generation},
		{attrAcquiredAt, &rec.AcquiredAtMs},
		{attrExpiresAt, &rec.ExpiresAtMs},
		{attrVersion, &ver},
	} {
		if *f.dst, err = getNumber(item, f.name); err != nil {
			return lease.Versioned{}, err
		}
	}
	for _, f := range []struct {
		name string
		dst  *uint64
	}{
		{attrReleasedAt, &rec.ReleasedAtMs},
		{attrExpiryReported, &rec.ExpiryReportedMs},
		{attrTTL, &rec.TTLMs},
	} {
		if _, ok := item[f.name]; !ok {
			continue
		}
		if *f.dst, err = getNumber(item, f.name); err != nil {
			return lease.Versioned{}, err
		}
		if *f.dst == 0 {
			// Never written as 0; a 0 would read back as "absent" and
			// change the record's meaning on the next write.
			return lease.Versioned{}, corrupt("%s is 0", f.name)
		}
	}
	if ver == 0 {
		return lease.Versioned{}, corrupt("%s is 0", attrVersion)
	}
	return lease.Versioned{Record: rec, Version: formatVersion(ver)}, nil
}

func getString(item map[string]types.AttributeValue, name string) (string, error) {
	switch v := item[name].(type) {
	case nil:
		return "", corrupt("missing %s", name)
	case *types.AttributeValueMemberS:
		return v.Value, nil
	default:
		return "", corrupt("%s is not a string", name)
	}
}

// getNumber accepts only what encodeItem writes: a decimal u64 without sign,
// fraction or exponent (DynamoDB returns numbers in that canonical form).
func getNumber(item map[string]types.AttributeValue, name string) (uint64, error) {
	switch v := item[name].(type) {
	case nil:
		return 0, corrupt("missing %s", name)
	case *types.AttributeValueMemberN:
		n, ok := parseUint(v.Value)
		if !ok {
			return 0, corrupt("%s = %q is not a non-negative integer", name, v.Value)
		}
		return n, nil
	default:
		return 0, corrupt("%s is not a number", name)
	}
}

// parseUint is strconv.ParseUint restricted to canonical digits, so that
// "+1" or "01" never read as a version that would then be compared as text.
func parseUint(s string) (uint64, bool) {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

// formatVersion is the version of an item at ver: ver in decimal, quoted.
func formatVersion(ver uint64) lease.Version { return lease.NewVersion(strconv.FormatUint(ver, 10)) }

// parseVersion inverts formatVersion; ok is false for anything it could
// not have returned.
func parseVersion(v lease.Version) (uint64, bool) {
	token, ok := v.Token()
	if !ok {
		return 0, false
	}
	ver, ok := parseUint(token)
	return ver, ok && ver != 0
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: item "+format, append([]any{lease.ErrCorrupt}, args...)...)
}
