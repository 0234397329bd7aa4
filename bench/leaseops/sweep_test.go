package leaseops

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	ddbstore "github.com/redlease/redlease/pkg/backend/dynamodb"
)

func TestSweepRowsCountRequestsPerRecord(t *testing.T) {
	t.Parallel()
	env := fakeEnv(t)
	figs, err := SweepRows(context.Background(), env, 7, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(figs) != 2 {
		t.Fatalf("%d figures, want S3 and DynamoDB", len(figs))
	}
	s3, ddb := figs[0], figs[1]
	// S3: one listing page, one GetObject per (refreshed) record and the
	// sweep's state read and written; DynamoDB: one Scan call per segment,
	// and the state item read and written.
	if s3.Requests["LIST"] != 1 || s3.Requests["GET"] != 7+1 || s3.Requests["PUT"] != 1 || len(s3.Requests) != 3 {
		t.Errorf("S3 sweep requests %v, want LIST 1 + GET 8 + PUT 1", s3.Requests)
	}
	if ddb.Requests["Scan"] != ddbstore.DefaultScanSegments || ddb.Requests["GetItem"] != 1 || ddb.Requests["PutItem"] != 1 || len(ddb.Requests) != 3 {
		t.Errorf("DynamoDB sweep requests %v, want Scan %d + GetItem 1 + PutItem 1", ddb.Requests, ddbstore.DefaultScanSegments)
	}
	if ddb.ItemBytes < 100 || ddb.ItemBytes > 300 {
		t.Errorf("item size %d bytes, want a lease item's (100-300)", ddb.ItemBytes)
	}
	if s3.Published != 0 || s3.RunMs.N != 2 {
		t.Errorf("S3 sweep published %d, %d timed runs; want 0 and 2", s3.Published, s3.RunMs.N)
	}
}

func TestItemBytes(t *testing.T) {
	t.Parallel()
	item := map[string]types.AttributeValue{
		"database_key": &types.AttributeValueMemberS{Value: "a/b"},     // 12 + 3
		"generation":   &types.AttributeValueMemberN{Value: "12"},      // 10 + 2
		"ver":          &types.AttributeValueMemberN{Value: "1000"},    // 3 + 1 digit -> 2
		"big":          &types.AttributeValueMemberN{Value: "12345"},   // 3 + 4
		"ok":           &types.AttributeValueMemberBOOL{Value: true},   // 2 + 1
		"raw":          &types.AttributeValueMemberB{Value: []byte{1}}, // 3 + 1
	}
	if got, want := ItemBytes(item), 15+12+5+7+3+4; got != want {
		t.Errorf("ItemBytes = %d, want %d", got, want)
	}
}
