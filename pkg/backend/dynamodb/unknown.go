package dynamodb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/redlease/redlease/pkg/lease"
)

// ownAttributes are the attributes encodeItem writes; every other
// attribute of an item is one of the record's unknown members.
var ownAttributes = map[string]bool{
	attrKey: true, attrHolder: true, attrPrincipal: true, attrTerm: true,
	attrGeneration: true, attrAcquiredAt: true, attrExpiresAt: true,
	attrReleasedAt: true, attrExpiryReported: true, attrWrittenAt: true, attrTTL: true,
	attrVersion: true, attrWriteID: true,
}

// unknownOf collects the attributes redlease does not know as
// lease.Record.Unknown, so that a rewrite keeps them (a later redlease may
// add some). Their types map onto JSON one to one: S string, N number,
// BOOL, NULL, L array, M object. The set and binary types have no JSON
// form, so an item carrying one is corrupt rather than silently losing it
// at the next write.
func unknownOf(item map[string]types.AttributeValue) (string, error) {
	members := map[string]json.RawMessage{}
	for name, av := range item {
		if ownAttributes[name] {
			continue
		}
		var b bytes.Buffer
		if err := attrJSON(&b, av); err != nil {
			return "", corrupt("attribute %q: %v", name, err)
		}
		members[name] = b.Bytes()
	}
	if len(members) == 0 {
		return "", nil
	}
	return lease.UnknownMembers(members)
}

func attrJSON(b *bytes.Buffer, av types.AttributeValue) error {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return writeString(b, v.Value)
	case *types.AttributeValueMemberN:
		if !json.Valid([]byte(v.Value)) {
			return fmt.Errorf("number %q", v.Value)
		}
		b.WriteString(v.Value)
	case *types.AttributeValueMemberBOOL:
		b.WriteString(strconv.FormatBool(v.Value))
	case *types.AttributeValueMemberNULL:
		b.WriteString("null")
	case *types.AttributeValueMemberL:
		b.WriteByte('[')
		for i, e := range v.Value {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := attrJSON(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case *types.AttributeValueMemberM:
		names := make([]string, 0, len(v.Value))
		for name := range v.Value {
			names = append(names, name)
		}
		slices.Sort(names)
		b.WriteByte('{')
		for i, name := range names {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeString(b, name); err != nil {
				return err
			}
			b.WriteByte(':')
			if err := attrJSON(b, v.Value[name]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return fmt.Errorf("type %T has no JSON form", av)
	}
	return nil
}

func writeString(b *bytes.Buffer, s string) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode's newline
	return nil
}

// unknownAttributes turns a record's unknown members back into attributes
// (nil when it has none or they are not a JSON object).
func unknownAttributes(unknown string) map[string]types.AttributeValue {
	if unknown == "" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(unknown)))
	dec.UseNumber()
	var members map[string]any
	if err := dec.Decode(&members); err != nil {
		return nil
	}
	out := make(map[string]types.AttributeValue, len(members))
	for name, v := range members {
		if !ownAttributes[name] {
			out[name] = jsonAttr(v)
		}
	}
	return out
}

func jsonAttr(v any) types.AttributeValue {
	switch v := v.(type) {
	case string:
		return &types.AttributeValueMemberS{Value: v}
	case json.Number:
		return &types.AttributeValueMemberN{Value: v.String()}
	case bool:
		return &types.AttributeValueMemberBOOL{Value: v}
	case []any:
		l := make([]types.AttributeValue, len(v))
		for i, e := range v {
			l[i] = jsonAttr(e)
		}
		return &types.AttributeValueMemberL{Value: l}
	case map[string]any:
		m := make(map[string]types.AttributeValue, len(v))
		for k, e := range v {
			m[k] = jsonAttr(e)
		}
		return &types.AttributeValueMemberM{Value: m}
	default:
		return &types.AttributeValueMemberNULL{Value: true}
	}
}
