package dynamodb

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/redlease/redlease/pkg/lease"
)

// TestListCursorIsTheLastEvaluatedKey: the cursor is the plain database_key
// of LastEvaluatedKey and goes back as ExclusiveStartKey; pages may come
// back short (the 1 MB cap) and the walk still sees every record once.
func TestListCursorIsTheLastEvaluatedKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, fake := newTestStore(t)
	fake.pageCap = 3
	want := map[string]lease.Version{}
	for i := range 10 {
		key := fmt.Sprintf("clusters/%d/data.rdb", i)
		v, err := s.Create(ctx, record(key, "h", 1))
		if err != nil {
			t.Fatal(err)
		}
		want[key] = v
	}
	seen := map[string]bool{}
	cursor, pages, short := "", 0, 0
	for {
		page, err := s.List(ctx, cursor, 5)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if page.Next != "" && len(page.Records) < 5 {
			short++
		}
		for _, v := range page.Records {
			if seen[v.Record.DatabaseKey] {
				t.Fatalf("%q listed twice", v.Record.DatabaseKey)
			}
			seen[v.Record.DatabaseKey] = true
			if want[v.Record.DatabaseKey] != v.Version {
				t.Errorf("%q at %q, want %q", v.Record.DatabaseKey, v.Version, want[v.Record.DatabaseKey])
			}
		}
		if page.Next == "" {
			break
		}
		if page.Next != page.Records[len(page.Records)-1].Record.DatabaseKey {
			t.Errorf("cursor %q is not the last key evaluated", page.Next)
		}
		scan := fake.scans[len(fake.scans)-1]
		if aws.ToInt32(scan.Limit) != 5 {
			t.Errorf("Scan Limit %d, want 5", aws.ToInt32(scan.Limit))
		}
		cursor = page.Next
	}
	if len(seen) != len(want) {
		t.Fatalf("listed %d records, want %d", len(seen), len(want))
	}
	if short == 0 {
		t.Errorf("no short page with a cursor; the 1 MB case went untested")
	}
	last := fake.scans[len(fake.scans)-1]
	if got := last.ExclusiveStartKey[attrKey].(*types.AttributeValueMemberS).Value; got != cursor {
		t.Errorf("ExclusiveStartKey %q, want the cursor %q", got, cursor)
	}
}

func TestListRefusesForeignKeySchema(t *testing.T) {
	t.Parallel()
	s, err := New(lekAPI{fakeDynamoDB: newFakeDynamoDB(testTable)}, Options{Table: testTable})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.List(context.Background(), "", 5); err == nil {
		t.Fatal("List accepted a LastEvaluatedKey with a sort key")
	}
}

// lekAPI answers Scan as a table with a sort key would.
type lekAPI struct{ *fakeDynamoDB }

func (l lekAPI) Scan(context.Context, *awsddb.ScanInput, ...func(*awsddb.Options)) (*awsddb.ScanOutput, error) {
	return &awsddb.ScanOutput{LastEvaluatedKey: map[string]types.AttributeValue{
		attrKey: str("k"), "sk": str("x"),
	}}, nil
}
