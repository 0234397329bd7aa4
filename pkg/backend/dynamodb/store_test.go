package dynamodb

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/redlease/redlease/pkg/backend/backendtest"
	"github.com/redlease/redlease/pkg/lease"
)

const testTable = "leases"

func newTestStore(t testing.TB) (*Store, *fakeDynamoDB) {
	t.Helper()
	fake := newFakeDynamoDB(testTable)
	s, err := New(fake, Options{Table: testTable})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s, fake
}

var record = backendtest.Record

func TestConformance(t *testing.T) {
	t.Parallel()
	backendtest.Run(t, func(t *testing.T) lease.ListingStore {
		s, _ := newTestStore(t)
		return s
	}, backendtest.Options{})
}

// TestConformanceShortPages: DynamoDB may end a page before Limit (1 MB);
// the listing must still return every record once.
func TestConformanceShortPages(t *testing.T) {
	t.Parallel()
	backendtest.Run(t, func(t *testing.T) lease.ListingStore {
		s, fake := newTestStore(t)
		fake.pageCap = 2
		return s
	}, backendtest.Options{})
}

func TestNewRefusesMissingParts(t *testing.T) {
	t.Parallel()
	if _, err := New(nil, Options{Table: "t"}); err == nil {
		t.Error("New(nil client) succeeded, want an error")
	}
	if _, err := New(newFakeDynamoDB("t"), Options{}); err == nil {
		t.Error("New with an empty table succeeded, want an error")
	}
}

// TestRequestsCarryConditions checks the exact SDK inputs: the conditions
// make the store safe, ConsistentRead makes reads current, ALL_OLD saves a
// read after every lost race.
func TestRequestsCarryConditions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, fake := newTestStore(t)
	rec := record("clusters/dev/data.rdb", "reddb-0-1", 1)
	v1, err := s.Create(ctx, rec)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	next := rec
	next.ReleasedAtMs = 1767225650000
	v2, err := s.Replace(ctx, next, v1)
	if err != nil {
		t.Fatalf("Replace: %v", err)
	}
	if v1 != `"1"` || v2 != `"2"` {
		t.Errorf("versions %s, %s; want \"1\", \"2\"", v1, v2)
	}
	if _, err := s.Load(ctx, rec.DatabaseKey); err != nil {
		t.Fatalf("Load: %v", err)
	}
	if _, err := s.List(ctx, "", 10); err != nil {
		t.Fatalf("List: %v", err)
	}

	create, replace := fake.puts[0], fake.puts[1]
	if got := aws.ToString(create.ConditionExpression); got != "attribute_not_exists(database_key)" {
		t.Errorf("Create condition %q", got)
	}
	if len(create.ExpressionAttributeValues) != 0 {
		t.Errorf("Create sent values %v", create.ExpressionAttributeValues)
	}
	if got := aws.ToString(replace.ConditionExpression); got != "ver = :expected" {
		t.Errorf("Replace condition %q", got)
	}
	if n, ok := replace.ExpressionAttributeValues[":expected"].(*types.AttributeValueMemberN); !ok || n.Value != "1" {
		t.Errorf("Replace :expected = %#v, want N 1", replace.ExpressionAttributeValues[":expected"])
	}
	for i, in := range fake.puts {
		if aws.ToString(in.TableName) != testTable {
			t.Errorf("put %d table %q", i, aws.ToString(in.TableName))
		}
		if in.ReturnValuesOnConditionCheckFailure != types.ReturnValuesOnConditionCheckFailureAllOld {
			t.Errorf("put %d ReturnValuesOnConditionCheckFailure = %q, want ALL_OLD", i, in.ReturnValuesOnConditionCheckFailure)
		}
	}
	if got := replace.Item[attrVersion].(*types.AttributeValueMemberN).Value; got != "2" {
		t.Errorf("Replace wrote ver %s, want 2", got)
	}
	if len(fake.gets) != 1 || !aws.ToBool(fake.gets[0].ConsistentRead) {
		t.Errorf("Load: %d GetItems, want 1 with ConsistentRead", len(fake.gets))
	}
	if len(fake.scans) != DefaultScanSegments {
		t.Errorf("List: %d Scans, want one per segment (%d)", len(fake.scans), DefaultScanSegments)
	}
	limits := 0
	for _, in := range fake.scans {
		limits += int(aws.ToInt32(in.Limit))
		if !aws.ToBool(in.ConsistentRead) {
			t.Errorf("Scan of segment %d without ConsistentRead", aws.ToInt32(in.Segment))
		}
	}
	if limits != 10 {
		t.Errorf("the segments' Limits add up to %d, want the page's 10", limits)
	}
}

// TestItemIsReadableInTheConsole pins the attribute layout: plain typed
// attributes with the real holder, optional ones only when set.
func TestItemIsReadableInTheConsole(t *testing.T) {
	t.Parallel()
	s, fake := newTestStore(t)
	rec := record("main", "promoter-1", 3)
	rec.ReleasedAtMs = 1767225650000
	if _, err := s.Create(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	got := fake.items["main"]
	if id, ok := got["write_id"].(*types.AttributeValueMemberS); !ok || len(id.Value) != 32 {
		t.Errorf("write_id = %v, want 32 hex digits", got["write_id"])
	}
	delete(got, "write_id")
	want := map[string]string{
		"database_key": "S:main", "holder_id": "S:promoter-1", "term": "N:2", "generation": "N:3",
		"acquired_at_ms": "N:1767225600000", "expires_at_ms": "N:1767225660000",
		"released_at_ms": "N:1767225650000", "ver": "N:1",
	}
	if len(got) != len(want) {
		t.Errorf("item has %d attributes, want %d: %v", len(got), len(want), got)
	}
	for name, w := range want {
		var g string
		switch v := got[name].(type) {
		case *types.AttributeValueMemberS:
			g = "S:" + v.Value
		case *types.AttributeValueMemberN:
			g = "N:" + v.Value
		default:
			g = "missing"
		}
		if g != w {
			t.Errorf("attribute %s = %s, want %s", name, g, w)
		}
	}
}

// TestFailedWriteReturnsCurrentInOneCall: a lost race costs one request and
// hands the Service the item that won.
func TestFailedWriteReturnsCurrentInOneCall(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, fake := newTestStore(t)
	first := record("k", "a", 1)
	v1, err := s.Create(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	second := record("k", "b", 2)
	v2, err := s.Replace(ctx, second, v1)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		do   func() error
	}{
		{"CreateExisting", func() error { _, err := s.Create(ctx, record("k", "c", 9)); return err }},
		{"ReplaceStale", func() error { _, err := s.Replace(ctx, record("k", "c", 9), v1); return err }},
	} {
		fake.Reset()
		err := tc.do()
		var pre *lease.PreconditionError
		if !errors.As(err, &pre) {
			t.Fatalf("%s: %v, want a *lease.PreconditionError", tc.name, err)
		}
		if pre.Current == nil || pre.Current.Record != second || pre.Current.Version != v2 {
			t.Errorf("%s: Current = %+v, want %+v at %q", tc.name, pre.Current, second, v2)
		}
		if n := fake.Count("PutItem") + fake.Count("GetItem"); n != 1 || fake.Count("PutItem") != 1 {
			t.Errorf("%s: %d requests, want exactly 1 PutItem", tc.name, n)
		}
	}

	fake.Reset()
	_, err = s.Replace(ctx, record("missing", "a", 2), v1)
	var pre *lease.PreconditionError
	if !errors.As(err, &pre) || pre.Current != nil {
		t.Errorf("Replace of a missing item: %v (current %+v), want a precondition failure without Current", err, pre)
	}
}

func TestForeignVersionNeverMatches(t *testing.T) {
	t.Parallel()
	s, fake := newTestStore(t)
	if _, err := s.Create(context.Background(), record("k", "a", 1)); err != nil {
		t.Fatal(err)
	}
	for _, v := range []lease.Version{`"0cc175b9c0f1b6a831c399e269772661"`, "01", "+1", "0", "-1", "18446744073709551615", "1.0",
		"1", `W/"1"`, `"01"`, `"+1"`, `"0"`, `"-1"`, `"18446744073709551615"`, `"1.0"`, `" 1"`} {
		fake.Reset()
		_, err := s.Replace(context.Background(), record("k", "b", 2), v)
		if !errors.Is(err, lease.ErrPrecondition) {
			t.Errorf("Replace at %q: %v, want a precondition failure", v, err)
		}
		if n := fake.Count("PutItem"); n != 0 {
			t.Errorf("Replace at %q sent %d PutItems, want none", v, n)
		}
	}
}

// staleRefresh is what a refresh through a stale cache costs on DynamoDB:
// ALL_OLD hands the winner back with the refusal, so no read follows.
var staleRefresh = backendtest.Costs{Reads: 0, Writes: 2}

// TestServiceCallCounts walks lease.Service through backendtest's steps and
// pins the requests each costs.
func TestServiceCallCounts(t *testing.T) {
	t.Parallel()
	s, fake := newTestStore(t)
	backendtest.CheckServiceCallCounts(t, s, fake.Counter(t, "GetItem", "PutItem"), "clusters/dev/data.rdb", staleRefresh)
}

// TestCallCounts pins the DynamoDB requests per store operation.
func TestCallCounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, fake := newTestStore(t)
	steps := []struct {
		name       string
		do         func() error
		gets, puts int
	}{
		{"LoadMissing", func() error { _, err := s.Load(ctx, "k"); return ignore(err, lease.ErrNotFound) }, 1, 0},
		{"Create", func() error { _, err := s.Create(ctx, record("k", "a", 1)); return err }, 0, 1},
		{"CreateExisting", func() error { _, err := s.Create(ctx, record("k", "a", 1)); return ignore(err, lease.ErrPrecondition) }, 0, 1},
		{"Load", func() error { _, err := s.Load(ctx, "k"); return err }, 1, 0},
		{"Replace", func() error { _, err := s.Replace(ctx, record("k", "a", 2), `"1"`); return err }, 0, 1},
		{"ReplaceStale", func() error {
			_, err := s.Replace(ctx, record("k", "a", 3), `"1"`)
			return ignore(err, lease.ErrPrecondition)
		}, 0, 1},
	}
	for _, st := range steps {
		fake.Reset()
		if err := st.do(); err != nil {
			t.Errorf("%s: %v", st.name, err)
		}
		if g, p := fake.Count("GetItem"), fake.Count("PutItem"); g != st.gets || p != st.puts {
			t.Errorf("%s: %d GetItem, %d PutItem; want %d, %d", st.name, g, p, st.gets, st.puts)
		}
	}
}

// ignore returns nil for an error matching target, the error otherwise, and
// an error when there was none.
func ignore(err, target error) error {
	if err == nil {
		return errors.New("succeeded, want " + target.Error())
	}
	if errors.Is(err, target) {
		return nil
	}
	return err
}

// resendingAPI applies every PutItem and then answers as the SDK's resend
// of it would: refused by its own condition, with the item it wrote.
type resendingAPI struct{ API }

func (r resendingAPI) PutItem(ctx context.Context, in *awsddb.PutItemInput, o ...func(*awsddb.Options)) (*awsddb.PutItemOutput, error) {
	if _, err := r.API.PutItem(ctx, in, o...); err != nil {
		return nil, err
	}
	return r.API.PutItem(ctx, in, o...)
}

func TestResentWriteThatLandedIsASuccess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake := newFakeDynamoDB(testTable)
	s, err := New(resendingAPI{fake}, Options{Table: testTable})
	if err != nil {
		t.Fatal(err)
	}
	v1, err := s.Create(ctx, record("k", "a", 1))
	if err != nil {
		t.Fatalf("Create whose resend was refused: %v, want success", err)
	}
	next := record("k", "b", 2)
	v2, err := s.Replace(ctx, next, v1)
	if err != nil {
		t.Fatalf("Replace whose resend was refused: %v, want success", err)
	}
	got, err := s.Load(ctx, "k")
	if err != nil || got.Record != next || got.Version != v2 {
		t.Fatalf("store holds %+v at %q (%v), want %+v at %q", got.Record, got.Version, err, next, v2)
	}
	// Another writer's refusal is still a conflict, even with identical bytes.
	if _, err := s.Replace(ctx, next, v1); !errors.Is(err, lease.ErrPrecondition) {
		t.Fatalf("Replace at a stale version: %v, want a precondition failure", err)
	}
}
