package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/redlease/redlease/pkg/lease"
)

type want int

const (
	wantOK want = iota
	wantPrecondition
	wantUnavailable
	wantNotFound
	wantCorrupt
	wantOther // none of the lease sentinels: surfaces as an internal error
)

func (w want) String() string {
	return [...]string{"ok", "precondition", "unavailable", "not found", "corrupt", "other"}[w]
}

func (w want) check(t *testing.T, err error) {
	t.Helper()
	is := map[want]bool{
		wantPrecondition: errors.Is(err, lease.ErrPrecondition),
		wantUnavailable:  errors.Is(err, lease.ErrUnavailable),
		wantNotFound:     errors.Is(err, lease.ErrNotFound),
		wantCorrupt:      errors.Is(err, lease.ErrCorrupt),
	}
	switch w {
	case wantOK:
		if err != nil {
			t.Fatalf("got %v, want success", err)
		}
	case wantOther:
		for k, v := range is {
			if v || err == nil {
				t.Fatalf("got %v (matches %v: %v), want a plain error matching no lease sentinel", err, k, v)
			}
		}
	default:
		for k, v := range is {
			if v != (k == w) {
				t.Fatalf("got %v; matches %v: %v, want only %v", err, k, v, w)
			}
		}
	}
}

func TestErrorMapping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want want
	}{
		{"ConditionalCheckFailed", ddbError("PutItem", 400, &types.ConditionalCheckFailedException{}), wantPrecondition},
		{"ProvisionedThroughputExceeded", ddbError("PutItem", 400, &types.ProvisionedThroughputExceededException{}), wantUnavailable},
		{"ThrottlingException", codeError("PutItem", 400, "ThrottlingException"), wantUnavailable},
		{"RequestLimitExceeded", ddbError("PutItem", 400, &types.RequestLimitExceeded{}), wantUnavailable},
		{"TransactionConflict", ddbError("PutItem", 400, &types.TransactionConflictException{}), wantUnavailable},
		{"InternalServerError", ddbError("PutItem", 500, &types.InternalServerError{}), wantUnavailable},
		{"503NoCode", codeError("PutItem", 503, ""), wantUnavailable},
		{"ConnectionRefused", transportError("PutItem"), wantUnavailable},
		{"Timeout", fmt.Errorf("operation error DynamoDB: PutItem: %w", context.DeadlineExceeded), wantUnavailable},
		{"TableMissing", ddbError("PutItem", 400, &types.ResourceNotFoundException{}), wantOther},
		{"Validation", codeError("PutItem", 400, "ValidationException"), wantOther},
		{"AccessDenied", codeError("PutItem", 400, "AccessDeniedException"), wantOther},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, fake := newTestStore(t)
			fake.failNext("PutItem", tc.err, tc.err)
			fake.failNext("GetItem", tc.err)
			fake.failNext("Scan", tc.err)
			_, err := s.Create(ctx, record("k", "a", 1))
			tc.want.check(t, err)
			_, err = s.Replace(ctx, record("k", "a", 2), "1")
			tc.want.check(t, err)
			if tc.want == wantPrecondition {
				return // reads have no conditions
			}
			_, err = s.Load(ctx, "k")
			tc.want.check(t, err)
			_, err = s.List(ctx, "", 10)
			tc.want.check(t, err)
			if n := fake.count("PutItem"); n != 2 {
				t.Errorf("%d PutItems for two writes; the store must not retry on its own", n)
			}
		})
	}
}

func TestRetryAfterHint(t *testing.T) {
	t.Parallel()
	fake := newFakeDynamoDB(testTable)
	s, err := New(fake, testTable, Options{RetryAfter: 7 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	fake.failNext("PutItem", ddbError("PutItem", 400, &types.ProvisionedThroughputExceededException{}))
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
	wantUnavailable.check(t, err)
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
	wantNotFound.check(t, err)
	bad := encodeItem(record("bad", "h", 1), 1)
	bad[attrGeneration] = &types.AttributeValueMemberS{Value: "1"}
	fake.putRaw(bad)
	_, err = s.Load(ctx, "bad")
	wantCorrupt.check(t, err)
	page, err := s.List(ctx, "", 10)
	if err != nil || len(page.Records) != 0 || len(page.Unreadable) != 1 || page.Unreadable[0] != "bad" {
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
