package eventbus_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

	"github.com/redlease/redlease/pkg/eventbus"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/sweep"
)

// fakeAPI records every call; answer decides the outcome of each (nil
// means: accept everything).
type fakeAPI struct {
	mu     sync.Mutex
	calls  []*eventbridge.PutEventsInput
	answer func(call int, in *eventbridge.PutEventsInput) (*eventbridge.PutEventsOutput, error)
}

func (f *fakeAPI) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, in)
	if f.answer != nil {
		return f.answer(len(f.calls)-1, in)
	}
	return acceptAll(in), nil
}

func acceptAll(in *eventbridge.PutEventsInput) *eventbridge.PutEventsOutput {
	out := &eventbridge.PutEventsOutput{}
	for i := range in.Entries {
		out.Entries = append(out.Entries, types.PutEventsResultEntry{EventId: aws.String(fmt.Sprintf("id-%d", i))})
	}
	return out
}

func events(n int) []sweep.ExpiredEvent {
	out := make([]sweep.ExpiredEvent, n)
	for i := range out {
		out[i] = sweep.NewExpiredEvent(lease.Lease{
			DatabaseKey: fmt.Sprintf("db/%03d", i), HolderID: "reddb-0-1", Term: 1, Generation: uint64(i + 1),
			AcquiredAtMs: 1767225600000, ExpiresAtMs: 1767225660000,
		}, 1767225661000)
	}
	return out
}

func keyOf(t *testing.T, e types.PutEventsRequestEntry) string {
	t.Helper()
	var d sweep.ExpiredEvent
	if err := json.Unmarshal([]byte(aws.ToString(e.Detail)), &d); err != nil {
		t.Fatalf("detail %q: %v", aws.ToString(e.Detail), err)
	}
	return d.DatabaseKey
}

func TestBatchesOfTen(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 10, 11, 25} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			api := &fakeAPI{}
			evs := events(n)
			errs := eventbus.New(api, "bus").Publish(context.Background(), evs)
			if len(errs) != n {
				t.Fatalf("%d results for %d events", len(errs), n)
			}
			for i, err := range errs {
				if err != nil {
					t.Errorf("event %d: %v", i, err)
				}
			}
			if want := (n + 9) / 10; len(api.calls) != want {
				t.Fatalf("%d PutEvents calls, want %d", len(api.calls), want)
			}
			next := 0
			for c, in := range api.calls {
				if len(in.Entries) > 10 || len(in.Entries) == 0 {
					t.Errorf("call %d has %d entries", c, len(in.Entries))
				}
				for _, e := range in.Entries {
					if got, want := keyOf(t, e), evs[next].DatabaseKey; got != want {
						t.Errorf("entry %d is %s, want %s (order kept)", next, got, want)
					}
					next++
				}
			}
			if next != n {
				t.Errorf("sent %d entries, want %d", next, n)
			}
		})
	}
}

func TestEntryContent(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{}
	ev := sweep.NewExpiredEvent(lease.Lease{DatabaseKey: "clusters/dev/data.rdb", HolderID: "reddb-0-1", Term: 2,
		Generation: 7, AcquiredAtMs: 1767225600000, ExpiresAtMs: 1767225660000}, 1767225661500)
	if errs := eventbus.New(api, "redlease-events").Publish(context.Background(), []sweep.ExpiredEvent{ev}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	e := api.calls[0].Entries[0]
	if got := aws.ToString(e.Source); got != "redlease" {
		t.Errorf("Source = %q", got)
	}
	if got := aws.ToString(e.DetailType); got != "Lease Expired" {
		t.Errorf("DetailType = %q", got)
	}
	if got := aws.ToString(e.EventBusName); got != "redlease-events" {
		t.Errorf("EventBusName = %q", got)
	}
	want := `{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-0-1","term":2,"generation":7,` +
		`"acquired_at_ms":1767225600000,"expires_at_ms":1767225660000,"expired_at":"2026-01-01T00:01:00.000Z",` +
		`"expired_for_ms":1500,"event_id":"` + sweep.EventID("clusters/dev/data.rdb", 7, 1767225660000) + `"}`
	if got := aws.ToString(e.Detail); got != want {
		t.Errorf("Detail\n got %s\nwant %s", got, want)
	}

	// No bus name: the default bus, so the field is left out.
	api2 := &fakeAPI{}
	eventbus.New(api2, "").Publish(context.Background(), []sweep.ExpiredEvent{ev})
	if api2.calls[0].Entries[0].EventBusName != nil {
		t.Errorf("EventBusName = %q with no bus configured, want unset", *api2.calls[0].Entries[0].EventBusName)
	}
}

func TestPartialFailureMapsToEvents(t *testing.T) {
	t.Parallel()
	// Second call: entries 2 and 5 refused (events 12 and 15).
	api := &fakeAPI{answer: func(call int, in *eventbridge.PutEventsInput) (*eventbridge.PutEventsOutput, error) {
		out := acceptAll(in)
		if call == 1 {
			for _, i := range []int{2, 5} {
				out.Entries[i] = types.PutEventsResultEntry{ErrorCode: aws.String("ThrottlingException"), ErrorMessage: aws.String("slow down")}
			}
			out.Entries[5].ErrorCode = aws.String("InternalFailure")
			out.FailedEntryCount = 2
		}
		return out, nil
	}}
	errs := eventbus.New(api, "bus").Publish(context.Background(), events(25))
	for i, err := range errs {
		switch i {
		case 12:
			var ee *eventbus.EntryError
			if !errors.As(err, &ee) || ee.Code != "ThrottlingException" || ee.Message != "slow down" || !errors.Is(err, eventbus.ErrThrottled) {
				t.Errorf("event 12: %v, want the throttling entry error", err)
			}
		case 15:
			if err == nil || errors.Is(err, eventbus.ErrThrottled) || !strings.Contains(err.Error(), "InternalFailure") {
				t.Errorf("event 15: %v, want an InternalFailure entry error", err)
			}
		default:
			if err != nil {
				t.Errorf("event %d: %v, want accepted", i, err)
			}
		}
	}
}

func TestUntrustworthyResults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		out    func(in *eventbridge.PutEventsInput) *eventbridge.PutEventsOutput
		failed []bool
	}{
		{"fewer results than entries", func(in *eventbridge.PutEventsInput) *eventbridge.PutEventsOutput {
			out := acceptAll(in)
			out.Entries = out.Entries[:2]
			return out
		}, []bool{false, false, true}},
		{"failure count without codes fails entries lacking an id", func(in *eventbridge.PutEventsInput) *eventbridge.PutEventsOutput {
			out := acceptAll(in)
			out.Entries[1].EventId = nil
			out.FailedEntryCount = 1
			return out
		}, []bool{false, true, false}},
		{"no id but nothing reported failed is accepted", func(in *eventbridge.PutEventsInput) *eventbridge.PutEventsOutput {
			out := acceptAll(in)
			out.Entries[1].EventId = nil
			return out
		}, []bool{false, false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api := &fakeAPI{answer: func(_ int, in *eventbridge.PutEventsInput) (*eventbridge.PutEventsOutput, error) {
				return tt.out(in), nil
			}}
			errs := eventbus.New(api, "bus").Publish(context.Background(), events(3))
			for i, err := range errs {
				if (err != nil) != tt.failed[i] {
					t.Errorf("event %d: err %v, want failed=%v", i, err, tt.failed[i])
				}
			}
		})
	}
}

func TestWholeCallFailureStopsTheRest(t *testing.T) {
	t.Parallel()
	throttle := &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
	api := &fakeAPI{answer: func(call int, in *eventbridge.PutEventsInput) (*eventbridge.PutEventsOutput, error) {
		if call == 1 {
			return nil, throttle
		}
		return acceptAll(in), nil
	}}
	errs := eventbus.New(api, "bus").Publish(context.Background(), events(35))
	if len(api.calls) != 2 {
		t.Errorf("%d calls, want 2 (no call after the failed one)", len(api.calls))
	}
	for i, err := range errs {
		switch {
		case i < 10:
			if err != nil {
				t.Errorf("event %d of the accepted first call: %v", i, err)
			}
		case i < 20:
			if !errors.Is(err, eventbus.ErrThrottled) || !errors.As(err, new(*smithy.GenericAPIError)) || errors.Is(err, eventbus.ErrNotAttempted) {
				t.Errorf("event %d of the throttled call: %v", i, err)
			}
		default:
			if !errors.Is(err, eventbus.ErrNotAttempted) || !errors.Is(err, eventbus.ErrThrottled) {
				t.Errorf("event %d after the throttled call: %v, want not attempted", i, err)
			}
		}
	}

	// A failure that is not throttling does not claim to be.
	api2 := &fakeAPI{answer: func(int, *eventbridge.PutEventsInput) (*eventbridge.PutEventsOutput, error) {
		return nil, &smithy.GenericAPIError{Code: "AccessDeniedException"}
	}}
	if err := eventbus.New(api2, "bus").Publish(context.Background(), events(1))[0]; err == nil || errors.Is(err, eventbus.ErrThrottled) {
		t.Errorf("access denied: %v", err)
	}
}

func TestOversizedEventIsRefusedAloneAndBatchesRespectTheByteLimit(t *testing.T) {
	t.Parallel()
	evs := events(4)
	evs[1].HolderID = strings.Repeat("h", eventbus.MaxRequestBytes)
	for i := 2; i < 4; i++ {
		evs[i].HolderID = strings.Repeat("x", eventbus.MaxRequestBytes/2-200)
	}
	api := &fakeAPI{}
	errs := eventbus.New(api, "bus").Publish(context.Background(), evs)
	if !errors.Is(errs[1], eventbus.ErrTooLarge) {
		t.Errorf("oversized event: %v, want ErrTooLarge", errs[1])
	}
	for _, i := range []int{0, 2, 3} {
		if errs[i] != nil {
			t.Errorf("event %d: %v", i, errs[i])
		}
	}
	for c, in := range api.calls {
		size := 0
		for _, e := range in.Entries {
			size += len(aws.ToString(e.Source)) + len(aws.ToString(e.DetailType)) + len(aws.ToString(e.Detail))
		}
		if size > eventbus.MaxRequestBytes {
			t.Errorf("call %d carries %d bytes", c, size)
		}
	}
	if len(api.calls) != 2 {
		t.Errorf("%d calls, want 2 (events 2 and 3 do not fit together)", len(api.calls))
	}
}
