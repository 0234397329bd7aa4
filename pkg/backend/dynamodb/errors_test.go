package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/redlease/redlease/pkg/backend/backendtest"
	"github.com/redlease/redlease/pkg/lease"
)

func TestErrorMapping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want backendtest.Want
	}{
		{"ConditionalCheckFailed", ddbError("PutItem", 400, &types.ConditionalCheckFailedException{}), backendtest.WantPrecondition},
		{"ProvisionedThroughputExceeded", ddbError("PutItem", 400, &types.ProvisionedThroughputExceededException{}), backendtest.WantUnavailable},
		{"ThrottlingException", codeError("PutItem", 400, "ThrottlingException"), backendtest.WantUnavailable},
		{"RequestLimitExceeded", ddbError("PutItem", 400, &types.RequestLimitExceeded{}), backendtest.WantUnavailable},
		{"TransactionConflict", ddbError("PutItem", 400, &types.TransactionConflictException{}), backendtest.WantUnavailable},
		{"InternalServerError", ddbError("PutItem", 500, &types.InternalServerError{}), backendtest.WantUnavailable},
		{"503NoCode", codeError("PutItem", 503, ""), backendtest.WantUnavailable},
		{"ConnectionRefused", transportError("PutItem"), backendtest.WantUnavailable},
		{"Timeout", fmt.Errorf("operation error DynamoDB: PutItem: %w", context.DeadlineExceeded), backendtest.WantUnavailable},
		{"TableMissing", ddbError("PutItem", 400, &types.ResourceNotFoundException{}), backendtest.WantOther},
		{"Validation", codeError("PutItem", 400, "ValidationException"), backendtest.WantOther},
		{"AccessDenied", codeError("PutItem", 400, "AccessDeniedException"), backendtest.WantOther},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, fake := newTestStore(t)
			fake.FailNext("PutItem", tc.err, tc.err)
			fake.FailNext("GetItem", tc.err)
			fake.FailNext("Scan", tc.err)
			_, err := s.Create(ctx, record("k", "a", 1))
			tc.want.Check(t, err)
			_, err = s.Replace(ctx, record("k", "a", 2), `"1"`)
			tc.want.Check(t, err)
			if tc.want == backendtest.WantPrecondition {
				return // reads have no conditions
			}
			_, err = s.Load(ctx, "k")
			tc.want.Check(t, err)
			_, err = s.List(ctx, "", 10)
			tc.want.Check(t, err)
			if n := fake.Count("PutItem"); n != 2 {
				t.Errorf("%d PutItems for two writes; the store must not retry on its own", n)
			}
		})
	}
}

func TestRetryAfterHint(t *testing.T) {
	t.Parallel()
	fake := newFakeDynamoDB(testTable)
	s, err := New(fake, Options{Table: testTable, RetryAfter: 7 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	fake.FailNext("PutItem", ddbError("PutItem", 400, &types.ProvisionedThroughputExceededException{}))
	_, err = s.Create(context.Background(), record("k", "a", 1))
	var un *lease.UnavailableError
	if !errors.As(err, &un) || un.RetryAfter != 7*time.Second {
		t.Fatalf("got %v, want Unavailable with RetryAfter 7s", err)
	}
}

// TestAmbiguousWriteResolvesSafely: a PutItem that DynamoDB applied but
// whose answer was lost is Unavailable; when the same write is sent again,
// its condition fails and the current item (our own write) comes back.
func TestAmbiguousWriteResolvesSafely(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, fake := newTestStore(t)
	fake.failAfterApplying(transportError("PutItem"))
	rec := record("k", "a", 1)
	_, err := s.Create(ctx, rec)
	backendtest.WantUnavailable.Check(t, err)
	_, err = s.Create(ctx, rec)
	var pre *lease.PreconditionError
	if !errors.As(err, &pre) || pre.Current == nil || pre.Current.Record != rec {
		t.Fatalf("resend: %v, want a precondition failure carrying our own record", err)
	}
}

func TestLoadMissingAndCorrupt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, fake := newTestStore(t)
	_, err := s.Load(ctx, "nothing")
	backendtest.WantNotFound.Check(t, err)
	bad := encodeItem(record("bad", "h", 1), 1)
	bad[attrGeneration] = &types.AttributeValueMemberS{Value: "1"}
	fake.putRaw(bad)
	_, err = s.Load(ctx, "bad")
	backendtest.WantCorrupt.Check(t, err)
	page, err := s.List(ctx, "", 10)
	if err != nil || len(page.Entries) != 0 || len(page.Unreadable) != 1 || page.Unreadable[0].Key != "bad" ||
		!errors.Is(page.Unreadable[0].Err, lease.ErrCorrupt) {
		t.Errorf("List = %+v, %v; want no records and bad unreadable", page, err)
	}

	// A refused write whose ALL_OLD item is malformed carries no Current;
	// the Service's re-read then reports the corruption.
	_, err = s.Create(ctx, record("bad", "h", 2))
	var pre *lease.PreconditionError
	if !errors.As(err, &pre) || pre.Current != nil {
		t.Fatalf("Create over a corrupt item: %v, want a precondition failure without Current", err)
	}
}

func isInvalid(err error) bool { return errors.Is(err, lease.ErrInvalid) }
