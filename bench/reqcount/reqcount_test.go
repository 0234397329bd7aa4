package reqcount

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestLabel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		method, url, target, want string
	}{
		{http.MethodHead, "http://s3/b/k", "", "HEAD"},
		{http.MethodGet, "http://s3/b/k", "", "GET"},
		{http.MethodGet, "http://s3/b?list-type=2&prefix=x", "", "LIST"},
		{http.MethodPut, "http://s3/b/k", "", "PUT"},
		{http.MethodDelete, "http://s3/b/k", "", "DELETE"},
		{http.MethodPost, "http://ddb/", "DynamoDB_20120810.PutItem", "PutItem"},
		{http.MethodPost, "http://ddb/", "Odd", "Odd"},
	}
	for _, tc := range tests {
		r := httptest.NewRequest(tc.method, tc.url, nil)
		if tc.target != "" {
			r.Header.Set("X-Amz-Target", tc.target)
		}
		if got := Label(r); got != tc.want {
			t.Errorf("Label(%s %s %q) = %q, want %q", tc.method, tc.url, tc.target, got, tc.want)
		}
	}
}

func TestCountsString(t *testing.T) {
	t.Parallel()
	if got := (Counts{"PUT": 1, "GET": 2}).String(); got != "GET 2 + PUT 1" {
		t.Errorf("String = %q", got)
	}
	if got := (Counts{}).String(); got != "none" {
		t.Errorf("empty String = %q", got)
	}
	if got := (Counts{"HEAD": 3, "GET": 1, "PUT": 1}).Total(); got != 5 {
		t.Errorf("Total = %d, want 5", got)
	}
}

// TestSDKRequestsAreCounted runs real SDK clients against a server that
// answers every request with a non-retryable error: each request sent
// every attempt must be counted under its label.
func TestSDKRequestsAreCounted(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") != "" {
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"__type":"com.amazonaws.dynamodb.v20120810#ValidationException","message":"no"}`))
			return
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	t.Cleanup(srv.Close)
	c := New()
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:  c.Wrap(awshttp.NewBuildableClient()),
	}
	s3c := awss3.NewFromConfig(cfg, func(o *awss3.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
		o.UsePathStyle = true
	})
	ddb := awsddb.NewFromConfig(cfg, func(o *awsddb.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	ctx := context.Background()
	_, _ = s3c.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String("b"), Key: aws.String("k")})
	_, _ = s3c.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("k")})
	_, _ = ddb.GetItem(ctx, &awsddb.GetItemInput{TableName: aws.String("t"),
		Key: map[string]types.AttributeValue{"k": &types.AttributeValueMemberS{Value: "v"}}})
	got := c.Take()
	want := Counts{"HEAD": 1, "GET": 1, "GetItem": 1}
	if len(got) != len(want) {
		t.Fatalf("counts %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %d requests, want %d (all: %v)", k, got[k], v, got)
		}
	}
	if again := c.Take(); len(again) != 0 {
		t.Errorf("second Take = %v, want nothing", again)
	}
}
