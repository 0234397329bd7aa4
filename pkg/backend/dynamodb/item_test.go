package dynamodb

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/redlease/redlease/pkg/lease"
)

func TestItemRoundTrip(t *testing.T) {
	t.Parallel()
	released := record("released", "reddb-9", 4)
	released.ReleasedAtMs = 1767225650000
	reported := record("reported", "reddb-8", 5)
	reported.ExpiryReportedMs = 1767225700000
	owned := record("tenants/a/db", "reddb-7", 6)
	owned.Principal = "tenant-a-reddb"
	refreshed := record("refreshed", "reddb-6", 7)
	refreshed.WrittenAtMs = 1767225630000
	extended := record("extended", "reddb-5", 8)
	extended.Unknown = `{"a":[1,true,null,"x"],"later":{"k":"v","n":2},"zz":"<é>"}`
	for _, rec := range []lease.Record{
		refreshed, extended,
		record("clusters/dev/data.rdb", "reddb-0-1", 1),
		record("max", "h", lease.MaxSafeInteger),
		record("empty-holder", "", 1),
		released, reported, owned,
	} {
		got, err := decodeItem(encodeItem(rec, 42))
		if err != nil {
			t.Fatalf("decode(encode(%+v)): %v", rec, err)
		}
		if got.Record != rec || got.Version != `"42"` {
			t.Errorf("round trip of %+v gave %+v", rec, got)
		}
	}
}

func TestDecodeItemRejectsMalformed(t *testing.T) {
	t.Parallel()
	base := func() map[string]types.AttributeValue { return encodeItem(record("k", "h", 1), 3) }
	tests := []struct {
		name   string
		mutate func(map[string]types.AttributeValue)
	}{
		{"MissingHolder", func(m map[string]types.AttributeValue) { delete(m, attrHolder) }},
		{"MissingTerm", func(m map[string]types.AttributeValue) { delete(m, attrTerm) }},
		{"MissingVersion", func(m map[string]types.AttributeValue) { delete(m, attrVersion) }},
		{"ZeroVersion", func(m map[string]types.AttributeValue) { m[attrVersion] = num(0) }},
		{"GenerationAsString", func(m map[string]types.AttributeValue) { m[attrGeneration] = str("1") }},
		{"HolderAsNumber", func(m map[string]types.AttributeValue) { m[attrHolder] = num(1) }},
		{"NegativeExpiry", func(m map[string]types.AttributeValue) { m[attrExpiresAt] = &types.AttributeValueMemberN{Value: "-1"} }},
		{"FractionalTerm", func(m map[string]types.AttributeValue) { m[attrTerm] = &types.AttributeValueMemberN{Value: "1.5"} }},
		{"ExponentTerm", func(m map[string]types.AttributeValue) { m[attrTerm] = &types.AttributeValueMemberN{Value: "1E+2"} }},
		{"HugeGeneration", func(m map[string]types.AttributeValue) {
			m[attrGeneration] = &types.AttributeValueMemberN{Value: "18446744073709551616"}
		}},
		{"ZeroReleasedAt", func(m map[string]types.AttributeValue) { m[attrReleasedAt] = num(0) }},
		{"EmptyPrincipal", func(m map[string]types.AttributeValue) { m[attrPrincipal] = str("") }},
		{"PrincipalAsNumber", func(m map[string]types.AttributeValue) { m[attrPrincipal] = num(1) }},
		{"ZeroGeneration", func(m map[string]types.AttributeValue) { m[attrGeneration] = num(0) }},
		{"GenerationAboveSafeInteger", func(m map[string]types.AttributeValue) { m[attrGeneration] = num(lease.MaxSafeInteger + 1) }},
		{"ZeroTerm", func(m map[string]types.AttributeValue) { m[attrTerm] = num(0) }},
		{"TermAboveSafeInteger", func(m map[string]types.AttributeValue) { m[attrTerm] = num(lease.MaxSafeInteger + 1) }},
		{"ZeroWrittenAt", func(m map[string]types.AttributeValue) { m[attrWrittenAt] = num(0) }},
		{"UnknownStringSet", func(m map[string]types.AttributeValue) {
			m["tags"] = &types.AttributeValueMemberSS{Value: []string{"a"}}
		}},
		{"UnknownBinary", func(m map[string]types.AttributeValue) { m["blob"] = &types.AttributeValueMemberB{Value: []byte{1}} }},
		{"ReleasedAtAsBool", func(m map[string]types.AttributeValue) {
			m[attrReleasedAt] = &types.AttributeValueMemberBOOL{Value: true}
		}},
	}
	for _, tc := range tests {
		item := base()
		tc.mutate(item)
		if _, err := decodeItem(item); !errors.Is(err, lease.ErrCorrupt) {
			t.Errorf("%s: decodeItem = %v, want ErrCorrupt", tc.name, err)
		}
	}
	item := base()
	item["note"] = str("added by an operator")
	item["count"] = num(3)
	got, err := decodeItem(item)
	if err != nil {
		t.Fatalf("an unknown attribute made the item unreadable: %v", err)
	}
	if want := `{"count":3,"note":"added by an operator"}`; got.Record.Unknown != want {
		t.Errorf("unknown attributes read as %q, want %q", got.Record.Unknown, want)
	}
	again := encodeItem(got.Record, 4)
	if n, ok := again["count"].(*types.AttributeValueMemberN); !ok || n.Value != "3" {
		t.Errorf("a rewrite lost the unknown attribute count: %#v", again["count"])
	}
	if s, ok := again["note"].(*types.AttributeValueMemberS); !ok || s.Value != "added by an operator" {
		t.Errorf("a rewrite lost the unknown attribute note: %#v", again["note"])
	}
}

// FuzzDecodeItem feeds the item decoder arbitrary attribute maps, given as
// a JSON object whose string values become S and whose numbers become N.
// It must never panic, and whatever it accepts must encode back to an item
// that decodes to the same record and version.
func FuzzDecodeItem(f *testing.F) {
	for _, seed := range []string{
		`{"database_key":"k","holder_id":"h","term":1,"generation":1,"acquired_at_ms":5,"expires_at_ms":6,"ver":1}`,
		`{"database_key":"k","holder_id":"h","term":1,"generation":1,"acquired_at_ms":5,"expires_at_ms":6,"ver":1,"released_at_ms":6}`,
		`{"database_key":"k","holder_id":"h","principal":"tenant-a","term":1,"generation":1,"acquired_at_ms":5,"expires_at_ms":6,"ver":1}`,
		`{"database_key":"k","holder_id":"h","principal":"","term":1,"generation":1,"acquired_at_ms":5,"expires_at_ms":6,"ver":1}`,
		`{"database_key":"k","holder_id":"h","term":"1","generation":1,"acquired_at_ms":5,"expires_at_ms":6,"ver":1}`,
		`{"database_key":"k","holder_id":"h","term":1.5,"generation":1,"acquired_at_ms":5,"expires_at_ms":6,"ver":01}`,
		`{}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		dec := json.NewDecoder(strings.NewReader(doc))
		dec.UseNumber()
		var fields map[string]any
		if dec.Decode(&fields) != nil {
			return
		}
		item := map[string]types.AttributeValue{}
		for k, v := range fields {
			switch v := v.(type) {
			case string:
				item[k] = str(v)
			case json.Number:
				item[k] = &types.AttributeValueMemberN{Value: v.String()}
			case bool:
				item[k] = &types.AttributeValueMemberBOOL{Value: v}
			}
		}
		got, err := decodeItem(item)
		if err != nil {
			if !errors.Is(err, lease.ErrCorrupt) {
				t.Fatalf("decodeItem failed with %v, not ErrCorrupt", err)
			}
			return
		}
		ver, ok := parseVersion(got.Version)
		if !ok {
			t.Fatalf("accepted version %q is not canonical", got.Version)
		}
		again, err := decodeItem(encodeItem(got.Record, ver))
		if err != nil || again != got {
			t.Fatalf("re-encoding %+v gave %+v, %v", got, again, err)
		}
	})
}
