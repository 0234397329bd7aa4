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

// listAll walks a listing and returns its entries by key, the pages and
// the read units they consumed.
func listAll(t *testing.T, s *Store, limit int) (map[string]lease.Entry, int, float64) {
	t.Helper()
	seen := map[string]lease.Entry{}
	cursor, pages, units := "", 0, 0.0
	for {
		page, err := s.List(context.Background(), cursor, limit)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		units += page.ReadUnits
		for _, e := range page.Entries {
			if _, dup := seen[e.Key]; dup {
				t.Fatalf("%q listed twice", e.Key)
			}
			seen[e.Key] = e
		}
		if page.Next == "" {
			return seen, pages, units
		}
		if pages > 1000 {
			t.Fatal("List does not finish")
		}
		cursor = page.Next
	}
}

// TestListSegmentsCoverTheTableOnce: the parallel Scan's segments together
// return every record once, each page's calls run one per unfinished
// segment with Limit split between them, and the cursor (a JSON array of
// positions) goes back as each segment's ExclusiveStartKey.
func TestListSegmentsCoverTheTableOnce(t *testing.T) {
	t.Parallel()
	for _, segments := range []int{1, 3, 8} {
		t.Run(fmt.Sprint(segments), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			fake := newFakeDynamoDB(testTable)
			s, err := New(fake, Options{Table: testTable, ScanSegments: segments})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]lease.Version{}
			for i := range 40 {
				key := fmt.Sprintf("clusters/%d/data.rdb", i)
				v, err := s.Create(ctx, record(key, "h", 1))
				if err != nil {
					t.Fatal(err)
				}
				want[key] = v
			}
			if _, err := s.SaveState(ctx, []byte("state"), ""); err != nil {
				t.Fatal(err)
			}
			seen, pages, units := listAll(t, s, 12)
			if len(seen) != len(want) {
				t.Fatalf("listed %d records, want %d (the state item is no record)", len(seen), len(want))
			}
			for k, v := range want {
				if e := seen[k]; e.Version != v || e.Record == nil || e.Record.DatabaseKey != k {
					t.Errorf("%q listed as %+v, want its record at %s", k, e, v)
				}
			}
			if pages < 2 || units <= 0 {
				t.Errorf("%d pages, %v read units; want paging and consumed capacity", pages, units)
			}
			for _, in := range fake.scans {
				if segments > 1 && (aws.ToInt32(in.TotalSegments) != int32(segments) || in.Segment == nil) {
					t.Fatalf("Scan segment %v of %v, want one of %d", in.Segment, in.TotalSegments, segments)
				}
				if segments == 1 && in.TotalSegments != nil {
					t.Fatalf("a one-segment Scan sent TotalSegments %d", *in.TotalSegments)
				}
				if l := aws.ToInt32(in.Limit); l > 12 || l < 12/int32(segments) {
					t.Errorf("Scan Limit %d, want the page's 12 split between the segments", l)
				}
				if !aws.ToBool(in.ConsistentRead) {
					t.Error("Scan without ConsistentRead")
				}
			}
		})
	}
}

// TestListShortPages: DynamoDB may end a page before Limit (1 MB); the
// walk still sees every record once.
func TestListShortPages(t *testing.T) {
	t.Parallel()
	s, fake := newTestStore(t)
	fake.pageCap = 2
	for i := range 10 {
		if _, err := s.Create(context.Background(), record(fmt.Sprintf("k%d", i), "h", 1)); err != nil {
			t.Fatal(err)
		}
	}
	seen, _, _ := listAll(t, s, 50)
	if len(seen) != 10 {
		t.Fatalf("listed %d records, want 10", len(seen))
	}
}

func TestListRefusesCursorOfAnotherSegmentCount(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t) // DefaultScanSegments
	for _, cursor := range []string{"k", `["a"]`, `[`, `{"a":1}`} {
		if _, err := s.List(context.Background(), cursor, 5); !isInvalid(err) {
			t.Errorf("List(%q) = %v, want ErrInvalid", cursor, err)
		}
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
