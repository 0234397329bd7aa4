//go:build integration

package eventbus_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/redlease/redlease/internal/awstest"
	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/eventbus"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/sweep"
)

// itEnv reads the harness's variables (localstack/with-emulators.sh) or
// skips the test.
func itEnv(t *testing.T) map[string]string {
	t.Helper()
	return awstest.Emulators(t, "REDLEASE_IT_EVENTS_ENDPOINT", "REDLEASE_IT_SQS_ENDPOINT", "REDLEASE_IT_EVENT_BUS", "REDLEASE_IT_EVENTS_QUEUE_URL")
}

// envelope is what the bus's rule delivers to the queue.
type envelope struct {
	Source     string          `json:"source"`
	DetailType string          `json:"detail-type"`
	Detail     json.RawMessage `json:"detail"`
}

// receive drains the queue until every wanted key arrived or time runs
// out, and returns the envelopes of this test's keys (those with prefix).
func receive(t *testing.T, ctx context.Context, q *sqs.Client, url, prefix string, want int) map[string][]envelope {
	t.Helper()
	got := map[string][]envelope{}
	deadline := time.Now().Add(45 * time.Second)
	for len(got) < want && time.Now().Before(deadline) {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 2})
		if err != nil {
			t.Fatalf("ReceiveMessage: %v", err)
		}
		for _, m := range out.Messages {
			var env envelope
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &env); err != nil {
				t.Errorf("message body %q is not an event: %v", aws.ToString(m.Body), err)
				continue
			}
			var d sweep.ExpiredEvent
			if err := json.Unmarshal(env.Detail, &d); err != nil || !strings.HasPrefix(d.DatabaseKey, prefix) {
				continue // another test's event; its visibility timeout returns it
			}
			got[d.DatabaseKey] = append(got[d.DatabaseKey], env)
			if _, err := q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Errorf("DeleteMessage: %v", err)
			}
		}
	}
	return got
}

func TestSweepPublishesThroughEventBridge(t *testing.T) {
	env := itEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := awstest.Config(t, env["AWS_REGION"])
	eb := eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { o.BaseEndpoint = aws.String(env["REDLEASE_IT_EVENTS_ENDPOINT"]) })
	q := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(env["REDLEASE_IT_SQS_ENDPOINT"]) })

	now := uint64(1767225600000)
	prefix := fmt.Sprintf("it-%d/", time.Now().UnixNano())
	store := memory.New(memory.Options{})
	want := map[string]sweep.ExpiredEvent{}
	for i := range 23 { // three PutEvents calls
		l := lease.Lease{DatabaseKey: fmt.Sprintf("%sdb-%02d.rdb", prefix, i), HolderID: fmt.Sprintf("reddb-%d", i),
			Term: uint64(1 + i%3), Generation: uint64(10 + i), AcquiredAtMs: now - 120_000, ExpiresAtMs: now - uint64(1000*i)}
		if _, err := store.Create(ctx, lease.Record{Lease: l}); err != nil {
			t.Fatal(err)
		}
		want[l.DatabaseKey] = sweep.NewExpiredEvent(l, now)
	}
	for _, l := range []lease.Lease{
		{DatabaseKey: prefix + "held", HolderID: "h", Term: 1, Generation: 1, AcquiredAtMs: now, ExpiresAtMs: now + 60_000},
		{DatabaseKey: prefix + "released", HolderID: "h", Term: 1, Generation: 1, AcquiredAtMs: now - 9000, ExpiresAtMs: now - 5000, ReleasedAtMs: now - 5000},
	} {
		if _, err := store.Create(ctx, lease.Record{Lease: l}); err != nil {
			t.Fatal(err)
		}
	}

	sw, err := sweep.New(sweep.Config{Store: store, Publisher: eventbus.New(eb, env["REDLEASE_IT_EVENT_BUS"]),
		Now: func() time.Time { return time.UnixMilli(int64(now)) }})
	if err != nil {
		t.Fatal(err)
	}
	res, err := sw.Run(ctx)
	if err != nil || res.Reported != len(want) || res.Failed != 0 {
		t.Fatalf("Run = %+v, %v; want %d reported", res, err, len(want))
	}

	got := receive(t, ctx, q, env["REDLEASE_IT_EVENTS_QUEUE_URL"], prefix, len(want))
	for key, w := range want {
		envs := got[key]
		if len(envs) != 1 {
			t.Errorf("%s: %d messages, want 1", key, len(envs))
			continue
		}
		e := envs[0]
		if e.Source != "redlease" || e.DetailType != "Lease Expired" {
			t.Errorf("%s: source %q detail-type %q", key, e.Source, e.DetailType)
		}
		var d sweep.ExpiredEvent
		if err := json.Unmarshal(e.Detail, &d); err != nil || d != w {
			t.Errorf("%s detail\n got %+v (%v)\nwant %+v", key, d, err, w)
		}
	}
	for _, key := range []string{prefix + "held", prefix + "released"} {
		if len(got[key]) != 0 {
			t.Errorf("%s was reported", key)
		}
	}

	res, err = sw.Run(ctx)
	if err != nil || res.Reported != 0 || res.AlreadyReported != len(want) {
		t.Errorf("second Run = %+v, %v; want nothing reported again", res, err)
	}
}

// TestSDKEndpointVariable checks that the SDK's own AWS_ENDPOINT_URL_EVENTBRIDGE
// reaches the client, which is how the deployed function is pointed at an
// emulator.
func TestSDKEndpointVariable(t *testing.T) {
	env := itEnv(t)
	t.Setenv("AWS_ENDPOINT_URL_EVENTBRIDGE", env["REDLEASE_IT_EVENTS_ENDPOINT"])
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ev := sweep.NewExpiredEvent(lease.Lease{DatabaseKey: fmt.Sprintf("it-endpoint-%d", time.Now().UnixNano()), HolderID: "h",
		Term: 1, Generation: 1, ExpiresAtMs: 1000}, 2000)
	errs := eventbus.New(eventbridge.NewFromConfig(cfg), env["REDLEASE_IT_EVENT_BUS"]).Publish(ctx, []sweep.ExpiredEvent{ev})
	if errs[0] != nil {
		t.Fatalf("publish through AWS_ENDPOINT_URL_EVENTBRIDGE: %v", errs[0])
	}
	q := sqs.NewFromConfig(awstest.Config(t, env["AWS_REGION"]), func(o *sqs.Options) { o.BaseEndpoint = aws.String(env["REDLEASE_IT_SQS_ENDPOINT"]) })
	if got := receive(t, ctx, q, env["REDLEASE_IT_EVENTS_QUEUE_URL"], ev.DatabaseKey, 1); len(got[ev.DatabaseKey]) != 1 {
		t.Errorf("event sent through AWS_ENDPOINT_URL_EVENTBRIDGE arrived %d times, want 1", len(got[ev.DatabaseKey]))
	}
}
