//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/redlease/redlease/pkg/sweep"
)

// inbox receives the "Lease Expired" events of a deployment's bus through a
// rule and an SQS queue that the test creates next to the stack, as a
// consumer would.
type inbox struct {
	sqs  *sqs.Client
	url  string
	seen map[string][]sweep.ExpiredEvent // by database_key
}

func (d *deployment) subscribe(ctx context.Context, t *testing.T) *inbox {
	t.Helper()
	cfg := d.emu.awsConfig(rootCredentials)
	q := sqs.NewFromConfig(cfg)
	name := d.stack + "-expired"
	created, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatalf("CreateQueue: %v", err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: created.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatalf("GetQueueAttributes: %v", err)
	}
	queueArn := attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]

	eb := eventbridge.NewFromConfig(cfg)
	bus := d.output(t, outEventBus)
	pattern, _ := json.Marshal(map[string][]string{"source": {sweep.Source}, "detail-type": {sweep.DetailType}})
	rule, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{
		Name: aws.String(name), EventBusName: aws.String(bus), EventPattern: aws.String(string(pattern)),
		State: ebtypes.RuleStateEnabled,
	})
	if err != nil {
		t.Fatalf("PutRule on %s: %v", bus, err)
	}
	// What AWS needs for the rule to deliver to the queue.
	policy, _ := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect": "Allow", "Principal": map[string]string{"Service": "events.amazonaws.com"},
			"Action": "sqs:SendMessage", "Resource": queueArn,
			"Condition": map[string]any{"ArnEquals": map[string]string{"aws:SourceArn": aws.ToString(rule.RuleArn)}},
		}},
	})
	if _, err := q.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
		QueueUrl: created.QueueUrl, Attributes: map[string]string{"Policy": string(policy)},
	}); err != nil {
		t.Fatalf("SetQueueAttributes: %v", err)
	}
	targets, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{
		Rule: aws.String(name), EventBusName: aws.String(bus),
		Targets: []ebtypes.Target{{Id: aws.String("queue"), Arn: aws.String(queueArn)}},
	})
	if err != nil || targets.FailedEntryCount != 0 {
		t.Fatalf("PutTargets: %v %+v", err, targets)
	}
	return &inbox{sqs: q, url: aws.ToString(created.QueueUrl), seen: map[string][]sweep.ExpiredEvent{}}
}

// wait long-polls the queue until an event for key arrived or ctx ends.
func (in *inbox) wait(ctx context.Context, t *testing.T, key string) sweep.ExpiredEvent {
	t.Helper()
	for len(in.seen[key]) == 0 {
		if ctx.Err() != nil {
			t.Fatalf("no Lease Expired event for %s: %v (events seen for %d other keys)", key, ctx.Err(), len(in.seen))
		}
		out, err := in.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(in.url), MaxNumberOfMessages: 10, WaitTimeSeconds: 5,
		})
		if err != nil {
			if ctx.Err() != nil {
				continue
			}
			t.Fatalf("ReceiveMessage: %v", err)
		}
		for _, m := range out.Messages {
			var env struct {
				Source     string             `json:"source"`
				DetailType string             `json:"detail-type"`
				Detail     sweep.ExpiredEvent `json:"detail"`
			}
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &env); err != nil {
				t.Fatalf("event %s: %v", aws.ToString(m.Body), err)
			}
			if env.Source != sweep.Source || env.DetailType != sweep.DetailType {
				t.Errorf("event with source %q, detail-type %q reached the queue", env.Source, env.DetailType)
			}
			in.seen[env.Detail.DatabaseKey] = append(in.seen[env.Detail.DatabaseKey], env.Detail)
			if _, err := in.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(in.url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatalf("DeleteMessage: %v", err)
			}
		}
	}
	return in.seen[key][0]
}

// sweepFunctionID matches the sweep function's logical id (construct
// "Sweep" plus CDK's hash), not its role, logs or schedule.
var sweepFunctionID = regexp.MustCompile(`^Sweep[0-9A-F]{8}$`)

// invokeSweep invokes the stack's sweep function with the event the
// schedule sends (an EventBridge "Scheduled Event" from aws.events) and
// returns its summary.
func (d *deployment) invokeSweep(ctx context.Context, t *testing.T) sweep.Result {
	t.Helper()
	fn := d.physicalID(ctx, t, "AWS::Lambda::Function", sweepFunctionID)
	payload, _ := json.Marshal(map[string]any{
		"version": "0", "id": "e2e-" + d.stack, "detail-type": "Scheduled Event", "source": "aws.events",
		"account": "000000000000", "time": time.Now().UTC().Format(time.RFC3339), "region": region,
		"resources": []string{"arn:aws:events:" + region + ":000000000000:rule/" + d.stack + "-sweep"},
		"detail":    map[string]any{},
	})
	out, err := lambda.NewFromConfig(d.emu.awsConfig(rootCredentials)).Invoke(ctx, &lambda.InvokeInput{
		FunctionName: aws.String(fn), Payload: payload, InvocationType: lambdatypes.InvocationTypeRequestResponse,
	})
	if err != nil {
		t.Fatalf("Invoke %s: %v", fn, err)
	}
	if out.FunctionError != nil {
		t.Fatalf("sweep failed: %s: %s", aws.ToString(out.FunctionError), out.Payload)
	}
	var res sweep.Result
	if err := json.Unmarshal(out.Payload, &res); err != nil {
		t.Fatalf("sweep answered %s: %v", out.Payload, err)
	}
	return res
}
