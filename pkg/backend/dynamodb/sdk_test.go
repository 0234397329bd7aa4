package dynamodb

import (
	"context"
	"encoding/json"
	"errors"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/redlease/redlease/pkg/lease"
)

// These tests put the real SDK client between the store and a scripted
// DynamoDB endpoint on 127.0.0.1: they check the JSON on the wire and that
// the SDK really delivers what the store relies on (the ALL_OLD item inside
// ConditionalCheckFailedException, the throttling codes).

type reply struct {
	status int
	body   string
}

type seenCall struct {
	target string
	body   map[string]any
}

type scriptedDDB struct {
	t       *testing.T
	mu      sync.Mutex
	replies []reply
	seen    []seenCall
}

func (s *scriptedDDB) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		s.t.Errorf("request body is not JSON: %q", raw)
	}
	s.mu.Lock()
	s.seen = append(s.seen, seenCall{target: r.Header.Get("X-Amz-Target"), body: body})
	if len(s.replies) == 0 {
		s.mu.Unlock()
		s.t.Errorf("unexpected request %s", r.Header.Get("X-Amz-Target"))
		w.WriteHeader(http.StatusTeapot)
		return
	}
	rep := s.replies[0]
	s.replies = s.replies[1:]
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("x-amzn-RequestId", "req-1")
	// DynamoDB signs every body with a CRC32 the SDK checks.
	w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(rep.body))), 10))
	w.WriteHeader(rep.status)
	io.WriteString(w, rep.body)
}

func (s *scriptedDDB) calls() []seenCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seenCall(nil), s.seen...)
}

func sdkClient(t *testing.T, endpoint string) *awsddb.Client {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
		config.WithRetryMaxAttempts(1),
	)
	if err != nil {
		t.Fatal(err)
	}
	return awsddb.NewFromConfig(cfg, func(o *awsddb.Options) { o.BaseEndpoint = aws.String(endpoint) })
}

func newScripted(t *testing.T, replies ...reply) (*Store, *scriptedDDB) {
	t.Helper()
	script := &scriptedDDB{t: t, replies: replies}
	srv := httptest.NewServer(script)
	t.Cleanup(srv.Close)
	s, err := New(sdkClient(t, srv.URL), "leases", Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s, script
}

const itemJSON = `{"database_key":{"S":"k"},"holder_id":{"S":"winner"},"term":{"N":"2"},"generation":{"N":"7"},` +
	`"acquired_at_ms":{"N":"1767225600000"},"expires_at_ms":{"N":"1767225660000"},"ver":{"N":"12"}}`

func errorBody(code, extra string) string {
	return `{"__type":"com.amazonaws.dynamodb.v20120810#` + code + `","message":"scripted"` + extra + `}`
}

func TestSDKWireFormat(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, script := newScripted(t,
		reply{200, `{}`},
		reply{200, `{}`},
		reply{200, `{"Item":` + itemJSON + `}`},
		reply{200, `{"Items":[` + itemJSON + `],"Count":1,"ScannedCount":1,"LastEvaluatedKey":{"database_key":{"S":"k"}}}`},
	)
	rec := record("k", "a", 1)
	if v, err := s.Create(ctx, rec); err != nil || v != "1" {
		t.Fatalf("Create = %q, %v", v, err)
	}
	if v, err := s.Replace(ctx, rec, "11"); err != nil || v != "12" {
		t.Fatalf("Replace = %q, %v", v, err)
	}
	got, err := s.Load(ctx, "k")
	if err != nil || got.Version != "12" || got.Record.HolderID != "winner" || got.Record.Generation != 7 {
		t.Fatalf("Load = %+v, %v", got, err)
	}
	page, err := s.List(ctx, "j", 50)
	if err != nil || len(page.Records) != 1 || page.Next != "k" {
		t.Fatalf("List = %+v, %v; want one record and cursor \"k\"", page, err)
	}

	calls := script.calls()
	wantTargets := []string{"PutItem", "PutItem", "GetItem", "Scan"}
	for i, c := range calls {
		if c.target != "DynamoDB_20120810."+wantTargets[i] {
			t.Errorf("call %d: target %q, want %s", i, c.target, wantTargets[i])
		}
		if c.body["TableName"] != "leases" {
			t.Errorf("call %d: TableName %v", i, c.body["TableName"])
		}
	}
	create, replace, get, scan := calls[0].body, calls[1].body, calls[2].body, calls[3].body
	for _, tc := range []struct {
		name string
		got  any
		want any
	}{
		{"create condition", create["ConditionExpression"], "attribute_not_exists(database_key)"},
		{"create ALL_OLD", create["ReturnValuesOnConditionCheckFailure"], "ALL_OLD"},
		{"create ver", create["Item"].(map[string]any)["ver"], map[string]any{"N": "1"}},
		{"create generation", create["Item"].(map[string]any)["generation"], map[string]any{"N": "1"}},
		{"create holder", create["Item"].(map[string]any)["holder_id"], map[string]any{"S": "a"}},
		{"replace condition", replace["ConditionExpression"], "ver = :expected"},
		{"replace expected", replace["ExpressionAttributeValues"], map[string]any{":expected": map[string]any{"N": "11"}}},
		{"replace ALL_OLD", replace["ReturnValuesOnConditionCheckFailure"], "ALL_OLD"},
		{"replace ver", replace["Item"].(map[string]any)["ver"], map[string]any{"N": "12"}},
		{"get consistent", get["ConsistentRead"], true},
		{"get key", get["Key"], map[string]any{"database_key": map[string]any{"S": "k"}}},
		{"scan consistent", scan["ConsistentRead"], true},
		{"scan limit", scan["Limit"], float64(50)},
		{"scan start", scan["ExclusiveStartKey"], map[string]any{"database_key": map[string]any{"S": "j"}}},
	} {
		g, _ := json.Marshal(tc.got)
		w, _ := json.Marshal(tc.want)
		if string(g) != string(w) {
			t.Errorf("%s: sent %s, want %s", tc.name, g, w)
		}
	}
}

func TestSDKConditionalCheckFailedCarriesItem(t *testing.T) {
	t.Parallel()
	s, script := newScripted(t, reply{400, errorBody("ConditionalCheckFailedException", `,"Item":`+itemJSON)})
	_, err := s.Replace(context.Background(), record("k", "a", 2), "3")
	var pre *lease.PreconditionError
	if !errors.As(err, &pre) {
		t.Fatalf("got %v, want a *lease.PreconditionError", err)
	}
	if pre.Current == nil || pre.Current.Version != "12" || pre.Current.Record.HolderID != "winner" {
		t.Fatalf("Current = %+v, want the winner's item at version 12", pre.Current)
	}
	if n := len(script.calls()); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

func TestSDKErrorMapping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rep  reply
		want want
	}{
		{"ConditionalCheckFailedWithoutItem", reply{400, errorBody("ConditionalCheckFailedException", "")}, wantPrecondition},
		{"ProvisionedThroughputExceeded", reply{400, errorBody("ProvisionedThroughputExceededException", "")}, wantUnavailable},
		{"ThrottlingException", reply{400, errorBody("ThrottlingException", "")}, wantUnavailable},
		{"RequestLimitExceeded", reply{400, errorBody("RequestLimitExceeded", "")}, wantUnavailable},
		{"TransactionConflict", reply{400, errorBody("TransactionConflictException", "")}, wantUnavailable},
		{"InternalServerError", reply{500, errorBody("InternalServerError", "")}, wantUnavailable},
		{"503", reply{503, `{}`}, wantUnavailable},
		{"ResourceNotFound", reply{400, errorBody("ResourceNotFoundException", "")}, wantOther},
		{"Validation", reply{400, errorBody("ValidationException", "")}, wantOther},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, _ := newScripted(t, tc.rep)
			_, err := s.Replace(context.Background(), record("k", "a", 2), "3")
			tc.want.check(t, err)
		})
	}
}

func TestSDKConnectionRefusedIsUnavailable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	s, err := New(sdkClient(t, url), "leases", Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Load(context.Background(), "k")
	wantUnavailable.check(t, err)
}

// TestEndpointFromEnvironment checks what the entry points rely on: the
// SDK's config loader sends DynamoDB requests to AWS_ENDPOINT_URL_DYNAMODB.
func TestEndpointFromEnvironment(t *testing.T) {
	script := &scriptedDDB{t: t, replies: []reply{{200, `{}`}}}
	srv := httptest.NewServer(script)
	defer srv.Close()
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", srv.URL)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithSharedConfigFiles([]string{}), config.WithSharedCredentialsFiles([]string{}))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(awsddb.NewFromConfig(cfg), "leases", Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Load(context.Background(), "main")
	wantNotFound.check(t, err)
	if c := script.calls(); len(c) != 1 || !strings.HasSuffix(c[0].target, ".GetItem") {
		t.Fatalf("calls at the env endpoint: %+v, want one GetItem", c)
	}
}
