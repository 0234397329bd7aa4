//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/redlease/redlease/pkg/api/apigw"
	"github.com/redlease/redlease/pkg/lease"
)

// The stack's lease prefix (infra default) and RedDB's object name rule:
// {prefix}{database_key}.lease.json.
const leasePrefix = "leases/"

// reddbBytes is the object RedDB itself writes for l: compact JSON, keys
// sorted, integers only, no trailing newline (REDDB-INTEROP.md, "The lease
// record"), plus the members "principal" and, after a refresh,
// "written_at_ms" in their sorted places, which RedDB's reader ignores
// (docs/api.md). Written out here rather than taken from
// pkg/lease, so the check does not compare the codec with itself. Test
// keys, holders and ARNs are plain ASCII, which needs no escaping.
func reddbBytes(l lease.Lease, principal string, writtenAtMs uint64) string {
	owner, written := "", ""
	if principal != "" {
		owner = `,"principal":"` + principal + `"`
	}
	if writtenAtMs != 0 {
		written = fmt.Sprintf(`,"written_at_ms":%d`, writtenAtMs)
	}
	return fmt.Sprintf(`{"acquired_at_ms":%d,"database_key":"%s","expires_at_ms":%d,"generation":%d,"holder_id":"%s"%s,"term":%d%s}`,
		l.AcquiredAtMs, l.DatabaseKey, l.ExpiresAtMs, l.Generation, l.HolderID, owner, l.Term, written)
}

// principalOf is the principal the service binds to a caller with creds:
// its IAM identity (GetCallerIdentity on the emulator), the session name
// dropped as apigw.IAMPrincipalName drops it.
func (d *deployment) principalOf(ctx context.Context, t *testing.T, creds aws.CredentialsProvider) string {
	t.Helper()
	id, err := sts.NewFromConfig(d.emu.awsConfig(creds)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	name, ok := apigw.IAMPrincipalName(aws.ToString(id.Arn))
	if !ok {
		t.Fatalf("the caller %s has no principal", aws.ToString(id.Arn))
	}
	return name
}

// object reads key's S3 object from the stack's bucket; ok is false when
// there is none.
func (d *deployment) object(ctx context.Context, t *testing.T, key string) (body []byte, ok bool) {
	t.Helper()
	out, err := s3.NewFromConfig(d.emu.awsConfig(rootCredentials), func(o *s3.Options) { o.UsePathStyle = true }).GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(d.output(t, outBucket)),
		Key:    aws.String(leasePrefix + key + ".lease.json"),
	})
	if err != nil {
		if strings.Contains(err.Error(), "NoSuchKey") {
			return nil, false
		}
		t.Fatalf("GetObject %s: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b, true
}

// item reads key's item from the stack's table (strongly consistent); ok is
// false when there is none.
func (d *deployment) item(ctx context.Context, t *testing.T, key string) (map[string]ddbtypes.AttributeValue, bool) {
	t.Helper()
	out, err := dynamodb.NewFromConfig(d.emu.awsConfig(rootCredentials)).GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(d.output(t, outTable)),
		Key:            map[string]ddbtypes.AttributeValue{"database_key": &ddbtypes.AttributeValueMemberS{Value: key}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("GetItem %s: %v", key, err)
	}
	return out.Item, out.Item != nil
}

// storedFields names the fields (S3) or attributes (DynamoDB) of key's
// stored record.
func (d *deployment) storedFields(ctx context.Context, t *testing.T, key string) []string {
	t.Helper()
	var names []string
	switch d.storage {
	case "s3":
		b, ok := d.object(ctx, t, key)
		var m map[string]json.RawMessage
		if !ok || json.Unmarshal(b, &m) != nil {
			t.Fatalf("stored %s: %q (found %v)", key, b, ok)
		}
		for k := range m {
			names = append(names, k)
		}
	case "dynamodb":
		it, ok := d.item(ctx, t, key)
		if !ok {
			t.Fatalf("no item for %s", key)
		}
		for k := range it {
			names = append(names, k)
		}
	}
	return names
}

// storedForm reads the stored record of key straight from the stack's
// storage and renders it as RedDB's bytes: the S3 object as it is, the
// DynamoDB item's six lease attributes and its principal in that layout.
// ok is false when nothing is stored.
func (d *deployment) storedForm(ctx context.Context, t *testing.T, key string) (string, bool) {
	t.Helper()
	switch d.storage {
	case "s3":
		b, ok := d.object(ctx, t, key)
		return string(b), ok
	case "dynamodb":
		it, ok := d.item(ctx, t, key)
		if !ok {
			return "", false
		}
		s := func(name string) string {
			v, ok := it[name].(*ddbtypes.AttributeValueMemberS)
			if !ok {
				t.Fatalf("item %s: attribute %s is %T, want S", key, name, it[name])
			}
			return v.Value
		}
		n := func(name string) string {
			v, ok := it[name].(*ddbtypes.AttributeValueMemberN)
			if !ok {
				t.Fatalf("item %s: attribute %s is %T, want N", key, name, it[name])
			}
			return v.Value
		}
		owner, written := "", ""
		if _, ok := it["principal"]; ok {
			owner = `,"principal":"` + s("principal") + `"`
		}
		if _, ok := it["written_at_ms"]; ok {
			written = `,"written_at_ms":` + n("written_at_ms")
		}
		return fmt.Sprintf(`{"acquired_at_ms":%s,"database_key":"%s","expires_at_ms":%s,"generation":%s,"holder_id":"%s"%s,"term":%s%s}`,
			n("acquired_at_ms"), s("database_key"), n("expires_at_ms"), n("generation"), s("holder_id"), owner, n("term"), written), true
	}
	t.Fatalf("unknown storage %q", d.storage)
	return "", false
}

// checkStored asserts that key's stored record is byte for byte what RedDB
// would have written for want, with principal as its owner.
// writtenAtMs is the refresh's stamp (written_at_ms), 0 after an acquire.
func (d *deployment) checkStored(ctx context.Context, t *testing.T, key string, want lease.Lease, principal string, writtenAtMs uint64) {
	t.Helper()
	got, ok := d.storedForm(ctx, t, key)
	if !ok {
		t.Fatalf("%s: nothing stored for %s", d.storage, key)
	}
	if w := reddbBytes(want, principal, writtenAtMs); got != w {
		t.Errorf("%s: stored %s\n got  %s\n want %s", d.storage, key, got, w)
	}
}

// checkStorageRetained runs after cdk destroy: the bucket or table is
// retained (RemovalPolicy RETAIN), so no lease is lost with the stack.
func (d *deployment) checkStorageRetained(ctx context.Context, t *testing.T) {
	t.Helper()
	cfg := d.emu.awsConfig(rootCredentials)
	var err error
	switch d.storage {
	case "s3":
		_, err = s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(d.outputs[outBucket])})
	case "dynamodb":
		_, err = dynamodb.NewFromConfig(cfg).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(d.outputs[outTable])})
	default:
		err = errors.New("unknown storage")
	}
	if err != nil {
		t.Errorf("%s storage of %s gone after destroy (it is retained): %v", d.storage, d.stack, err)
	}
}

// itemJSON renders key's DynamoDB item as the lease record's JSON object:
// its record attributes (strings as strings, numbers as numbers), without
// the backend's own bookkeeping (ver, write_id).
func (d *deployment) itemJSON(ctx context.Context, t *testing.T, key string) []byte {
	t.Helper()
	it, ok := d.item(ctx, t, key)
	if !ok {
		t.Fatalf("no item for %s", key)
	}
	fields := map[string]json.RawMessage{}
	for name, v := range it {
		if name == "ver" || name == "write_id" {
			continue
		}
		switch v := v.(type) {
		case *ddbtypes.AttributeValueMemberS:
			b, err := json.Marshal(v.Value)
			if err != nil {
				t.Fatal(err)
			}
			fields[name] = b
		case *ddbtypes.AttributeValueMemberN:
			fields[name] = json.RawMessage(v.Value)
		default:
			t.Fatalf("item %s: attribute %s is %T, want S or N", key, name, v)
		}
	}
	if _, ok := fields["released_at_ms"]; ok {
		// The object form of a released marker (pkg/lease's EncodeRecord):
		// the holder moves to released_holder_id, holder_id is empty.
		fields["released_holder_id"], fields["holder_id"] = fields["holder_id"], json.RawMessage(`""`)
	}
	b, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
