package awstest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/redlease/redlease/internal/awstest"
)

func TestCallsScriptFailuresAndCount(t *testing.T) {
	t.Parallel()
	var c awstest.Calls
	boom := errors.New("boom")
	c.FailNext("PutItem", boom)
	if err := c.Begin("PutItem"); !errors.Is(err, boom) {
		t.Fatalf("first Begin = %v, want the scripted failure", err)
	}
	if err := c.Begin("PutItem"); err != nil {
		t.Fatalf("second Begin = %v, want none", err)
	}
	if err := c.Begin("GetItem"); err != nil {
		t.Fatalf("Begin of another operation = %v, want none", err)
	}
	if got := c.Count("PutItem"); got != 2 {
		t.Errorf("Count(PutItem) = %d, want 2 (failed calls count too)", got)
	}
	reads, writes := c.Counter(t, "GetItem", "PutItem").Take()
	if reads != 1 || writes != 2 {
		t.Errorf("Take = %d reads, %d writes; want 1, 2", reads, writes)
	}
	if got := c.Count("PutItem"); got != 0 {
		t.Errorf("after Take Count = %d, want 0", got)
	}
}

// TestRecordCountsCallsNotAttempts: a call the SDK retries is one call.
func TestRecordCountsCallsNotAttempts(t *testing.T) {
	t.Parallel()
	script, url := awstest.Serve(t,
		awstest.Reply{Status: http.StatusInternalServerError},
		awstest.Reply{Status: http.StatusNotFound},
	)
	cfg := awstest.Config(t, "us-east-1", config.WithRetryer(func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	}))
	var calls awstest.Calls
	calls.Record(&cfg)
	client := awss3.NewFromConfig(cfg, func(o *awss3.Options) {
		o.UsePathStyle, o.BaseEndpoint = true, aws.String(url)
	})
	_, err := client.GetObject(context.Background(), &awss3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("k")})
	var respErr *smithyhttp.ResponseError
	if !errors.As(err, &respErr) || respErr.HTTPStatusCode() != http.StatusNotFound {
		t.Fatalf("GetObject = %v, want the scripted 404 after one retry", err)
	}
	if n := len(script.Requests()); n != 2 {
		t.Fatalf("%d requests on the wire, want 2 (one retry)", n)
	}
	if got := calls.Count("GetObject"); got != 1 {
		t.Errorf("Count(GetObject) = %d, want 1", got)
	}
	if r := script.Requests()[0]; r.Method != http.MethodGet || r.Path != "/b/k" {
		t.Errorf("request %s %s, want GET /b/k", r.Method, r.Path)
	}
}

func TestErrorsHaveTheSDKShape(t *testing.T) {
	t.Parallel()
	err := awstest.CodeError("S3", "PutObject", http.StatusPreconditionFailed, "PreconditionFailed")
	var (
		op      *smithy.OperationError
		apiErr  smithy.APIError
		respErr *smithyhttp.ResponseError
	)
	if !errors.As(err, &op) || op.Service() != "S3" || op.Operation() != "PutObject" {
		t.Errorf("%v is not an OperationError of S3 PutObject", err)
	}
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "PreconditionFailed" {
		t.Errorf("%v carries no API error with code PreconditionFailed", err)
	}
	if !errors.As(err, &respErr) || respErr.HTTPStatusCode() != http.StatusPreconditionFailed {
		t.Errorf("%v carries no 412 response", err)
	}
	var sendErr *smithyhttp.RequestSendError
	if err := awstest.TransportError("DynamoDB", "GetItem"); !errors.As(err, &sendErr) || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("TransportError = %v, want a RequestSendError", err)
	}
}

func TestUniqueNeverRepeats(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		n := awstest.Unique()
		if seen[n] {
			t.Fatalf("Unique returned %q twice", n)
		}
		seen[n] = true
	}
}
