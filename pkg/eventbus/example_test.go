package eventbus_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/redlease/redlease/pkg/eventbus"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/sweep"
)

// refuseSecond stands in for *eventbridge.Client and refuses the second
// entry of every call.
type refuseSecond struct{}

func (refuseSecond) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	out := &eventbridge.PutEventsOutput{}
	for i := range in.Entries {
		r := types.PutEventsResultEntry{EventId: aws.String("e")}
		if i == 1 {
			r = types.PutEventsResultEntry{ErrorCode: aws.String("InternalFailure"), ErrorMessage: aws.String("try again")}
			out.FailedEntryCount++
		}
		out.Entries = append(out.Entries, r)
	}
	return out, nil
}

func ExamplePublisher_Publish() {
	pub := eventbus.New(refuseSecond{}, "redlease-events") // eventbridge.NewFromConfig(awsCfg) in production
	var evs []sweep.ExpiredEvent
	for _, key := range []string{"a", "b", "c"} {
		evs = append(evs, sweep.NewExpiredEvent(lease.Lease{DatabaseKey: key, HolderID: "h", Term: 1, Generation: 1, ExpiresAtMs: 1000}, 2000))
	}
	for i, err := range pub.Publish(context.Background(), evs) {
		fmt.Println(evs[i].DatabaseKey, err)
	}
	// Output:
	// a <nil>
	// b eventbridge entry refused: InternalFailure: try again
	// c <nil>
}
