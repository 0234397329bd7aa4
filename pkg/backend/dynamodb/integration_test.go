//go:build integration

package dynamodb

// Integration tests against a real DynamoDB API (moto or LocalStack in CI):
//
//	bash localstack/with-emulators.sh env GOWORK=off \
//	    go test -tags integration -race -count=1 ./pkg/backend/dynamodb/
//
// They need REDLEASE_IT=1, REDLEASE_IT_DYNAMODB_ENDPOINT, REDLEASE_IT_TABLE
// (an existing table with the package's schema) and AWS_REGION; credentials
// are test/test. The conformance suite's keys are fixed, so every store it
// asks for gets a table of its own (CreateTableInput, deleted afterwards);
// the other tests use unique keys in REDLEASE_IT_TABLE, which also checks
// that the harness created the table this package documents.

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/redlease/redlease/internal/awstest"
	"github.com/redlease/redlease/pkg/backend/backendtest"
	"github.com/redlease/redlease/pkg/lease"
)

// itClient is a client for the harness's DynamoDB endpoint, built as the
// entry points build theirs, and the table; calls, when not nil, counts its
// requests.
func itClient(tb testing.TB, calls *awstest.Calls) (*awsddb.Client, string) {
	em := awstest.Emulated(tb, "REDLEASE_IT_DYNAMODB_ENDPOINT", "REDLEASE_IT_TABLE", calls)
	return awsddb.NewFromConfig(em.Config, func(o *awsddb.Options) { o.BaseEndpoint = aws.String(em.Endpoint) }), em.Resource
}

// itStore is a store on table through client.
func itStore(tb testing.TB, client API, table string) *Store {
	tb.Helper()
	s, err := New(client, Options{Table: table})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// itTable creates a fresh table with the documented schema, deleted when
// tb ends.
func itTable(tb testing.TB, client *awsddb.Client, base string) string {
	tb.Helper()
	ctx := context.Background()
	name := base + "-" + awstest.Unique()
	if _, err := client.CreateTable(ctx, CreateTableInput(name)); err != nil {
		tb.Fatalf("CreateTable %s: %v", name, err)
	}
	tb.Cleanup(func() {
		if _, err := client.DeleteTable(context.Background(), &awsddb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
			tb.Logf("DeleteTable %s: %v", name, err)
		}
	})
	waiter := awsddb.NewTableExistsWaiter(client, func(o *awsddb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second
	})
	if err := waiter.Wait(ctx, &awsddb.DescribeTableInput{TableName: aws.String(name)}, time.Minute); err != nil {
		tb.Fatalf("table %s never became active: %v", name, err)
	}
	return name
}

// itKey makes a key unique to this run.
func itKey(name string) string { return "redlease-it/" + awstest.Unique() + "/" + name }

func TestIntegrationConformance(t *testing.T) {
	client, base := itClient(t, nil)
	backendtest.Run(t, func(t *testing.T) lease.ListingStore {
		return itStore(t, client, itTable(t, client, base))
	}, backendtest.Options{})
}

// TestIntegrationHarnessTable: the table the harness (and so infra/)
// creates has the schema this package documents, and the store works on it.
func TestIntegrationHarnessTable(t *testing.T) {
	ctx := context.Background()
	client, table := itClient(t, nil)
	desc, err := client.DescribeTable(ctx, &awsddb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	want := CreateTableInput(table)
	got := desc.Table
	if len(got.KeySchema) != 1 || aws.ToString(got.KeySchema[0].AttributeName) != attrKey || got.KeySchema[0].KeyType != types.KeyTypeHash {
		t.Errorf("key schema %+v, want %+v", got.KeySchema, want.KeySchema)
	}
	for _, def := range got.AttributeDefinitions {
		if aws.ToString(def.AttributeName) == attrKey && def.AttributeType != types.ScalarAttributeTypeS {
			t.Errorf("%s is of type %s, want S", attrKey, def.AttributeType)
		}
	}
	s := itStore(t, client, table)
	rec := record(itKey("clusters/dev/data.rdb"), "reddb-0-1", 1)
	v, err := s.Create(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	got2, err := s.Load(ctx, rec.DatabaseKey)
	if err != nil || got2.Record != rec || got2.Version != v {
		t.Fatalf("Load = %+v, %v; want %+v at %q", got2, err, rec, v)
	}
}

// TestIntegrationItemAttributes reads the item back without the store: the
// console sees plain typed attributes.
func TestIntegrationItemAttributes(t *testing.T) {
	ctx := context.Background()
	client, table := itClient(t, nil)
	s := itStore(t, client, table)
	rec := record(itKey("main"), "promoter-1", 3)
	rec.ReleasedAtMs = 1767225650000
	if _, err := s.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	out, err := client.GetItem(ctx, &awsddb.GetItemInput{TableName: aws.String(table), Key: keyOf(rec.DatabaseKey), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		attrHolder: "S:promoter-1", attrTerm: "N:2", attrGeneration: "N:3", attrAcquiredAt: "N:1767225600000",
		attrExpiresAt: "N:1767225660000", attrReleasedAt: "N:1767225650000", attrVersion: "N:1",
	} {
		var got string
		switch v := out.Item[name].(type) {
		case *types.AttributeValueMemberS:
			got = "S:" + v.Value
		case *types.AttributeValueMemberN:
			got = "N:" + v.Value
		}
		if got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if _, ok := out.Item[attrExpiryReported]; ok {
		t.Errorf("%s stored although zero", attrExpiryReported)
	}
}

// TestIntegrationFailedWriteCarriesCurrent: the emulator returns the ALL_OLD
// item inside ConditionalCheckFailedException.
func TestIntegrationFailedWriteCarriesCurrent(t *testing.T) {
	ctx := context.Background()
	client, table := itClient(t, nil)
	s := itStore(t, client, table)
	rec := record(itKey("k"), "a", 1)
	v, err := s.Create(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Create(ctx, record(rec.DatabaseKey, "b", 2))
	var pre *lease.PreconditionError
	if !errors.As(err, &pre) || pre.Current == nil || pre.Current.Record != rec || pre.Current.Version != v {
		t.Fatalf("got %v (current %+v), want a precondition failure carrying %+v at %q", err, pre, rec, v)
	}
}

func TestIntegrationServiceCallCounts(t *testing.T) {
	var calls awstest.Calls
	client, table := itClient(t, &calls)
	backendtest.CheckServiceCallCounts(t, itStore(t, client, table), calls.Counter(t, "GetItem", "PutItem"), itKey("clusters/dev/data.rdb"), staleRefresh)
}

// BenchmarkStoreOps measures acquire, refresh and release through
// lease.Service against the emulator, for the latency table.
func BenchmarkStoreOps(b *testing.B) {
	admin, base := itClient(b, nil)
	table := itTable(b, admin, base)
	var calls awstest.Calls
	client, _ := itClient(b, &calls)
	backendtest.BenchmarkService(b, itStore(b, client, table), calls.Counter(b, "GetItem", "PutItem"))
}
