package dynamodb

import (
	"context"
	"encoding/json"
	"errors"
	"hash/crc32"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/redlease/redlease/internal/awstest"
	"github.com/redlease/redlease/pkg/backend/backendtest"
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

// http renders the reply as DynamoDB would send it.
func (r reply) http() awstest.Reply {
	h := http.Header{}
	h.Set("Content-Type", "application/x-amz-json-1.0")
	h.Set("x-amzn-RequestId", "req-1")
	// DynamoDB signs every body with a CRC32 the SDK checks.
	h.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(r.body))), 10))
	return awstest.Reply{Status: r.status, Header: h, Body: r.body}
}

type seenCall struct {
	target string
	body   map[string]any
}

// seenCalls decodes what the scripted endpoint received: the operation and the
// JSON body of each request.
func seenCalls(t *testing.T, script *awstest.Script) []seenCall {
	t.Helper()
	var out []seenCall
	for _, r := range script.Requests() {
		var body map[string]any
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Errorf("request body is not JSON: %q", r.Body)
		}
		out = append(out, seenCall{target: r.Header.Get("X-Amz-Target"), body: body})
	}
	return out
}

func sdkClient(t *testing.T, endpoint string) *awsddb.Client {
	t.Helper()
	return awsddb.NewFromConfig(awstest.Config(t, "us-east-1", awstest.NoRetries), func(o *awsddb.Options) { o.BaseEndpoint = aws.String(endpoint) })
}

func newScripted(t *testing.T, replies ...reply) (*Store, *awstest.Script) {
	t.Helper()
	answers := make([]awstest.Reply, len(replies))
	for i, r := range replies {
		answers[i] = r.http()
	}
	script, url := awstest.Serve(t, answers...)
	s, err := New(sdkClient(t, url), Options{Table: "leases", ScanSegments: 1})
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
	if v, err := s.Create(ctx, rec); err != nil || v != `"1"` {
		t.Fatalf("Create = %q, %v", v, err)
	}
	if v, err := s.Replace(ctx, rec, `"11"`); err != nil || v != `"12"` {
		t.Fatalf("Replace = %q, %v", v, err)
	}
	got, err := s.Load(ctx, "k")
	if err != nil || got.Version != `"12"` || got.Record.HolderID != "winner" || got.Record.Generation != 7 {
		t.Fatalf("Load = %+v, %v", got, err)
	}
	page, err := s.List(ctx, `["j"]`, 50)
	if err != nil || len(page.Entries) != 1 || page.Entries[0].Record == nil || page.Next != `["k"]` {
		t.Fatalf("List = %+v, %v; want one record and cursor [\"k\"]", page, err)
	}

	calls := seenCalls(t, script)
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
		{"scan one segment", scan["TotalSegments"], nil},
		{"scan capacity", scan["ReturnConsumedCapacity"], "TOTAL"},
		{"scan projection", scan["ProjectionExpression"], nil}, // whole items: the sweep marks what it listed
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
	_, err := s.Replace(context.Background(), record("k", "a", 2), `"3"`)
	var pre *lease.PreconditionError
	if !errors.As(err, &pre) {
		t.Fatalf("got %v, want a *lease.PreconditionError", err)
	}
	if pre.Current == nil || pre.Current.Version != `"12"` || pre.Current.Record.HolderID != "winner" {
		t.Fatalf("Current = %+v, want the winner's item at version 12", pre.Current)
	}
	if n := len(script.Requests()); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

func TestSDKErrorMapping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rep  reply
		want backendtest.Want
	}{
		{"ConditionalCheckFailedWithoutItem", reply{400, errorBody("ConditionalCheckFailedException", "")}, backendtest.WantPrecondition},
		{"ProvisionedThroughputExceeded", reply{400, errorBody("ProvisionedThroughputExceededException", "")}, backendtest.WantUnavailable},
		{"ThrottlingException", reply{400, errorBody("ThrottlingException", "")}, backendtest.WantUnavailable},
		{"RequestLimitExceeded", reply{400, errorBody("RequestLimitExceeded", "")}, backendtest.WantUnavailable},
		{"TransactionConflict", reply{400, errorBody("TransactionConflictException", "")}, backendtest.WantUnavailable},
		{"InternalServerError", reply{500, errorBody("InternalServerError", "")}, backendtest.WantUnavailable},
		{"503", reply{503, `{}`}, backendtest.WantUnavailable},
		{"ResourceNotFound", reply{400, errorBody("ResourceNotFoundException", "")}, backendtest.WantOther},
		{"Validation", reply{400, errorBody("ValidationException", "")}, backendtest.WantOther},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, _ := newScripted(t, tc.rep)
			_, err := s.Replace(context.Background(), record("k", "a", 2), `"3"`)
			tc.want.Check(t, err)
		})
	}
}

func TestSDKConnectionRefusedIsUnavailable(t *testing.T) {
	t.Parallel()
	s, err := New(sdkClient(t, awstest.RefusingURL(t)), Options{Table: "leases"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Load(context.Background(), "k")
	backendtest.WantUnavailable.Check(t, err)
}

// TestEndpointFromEnvironment checks what the entry points rely on: the
// SDK's config loader sends DynamoDB requests to AWS_ENDPOINT_URL_DYNAMODB.
func TestEndpointFromEnvironment(t *testing.T) {
	script, url := awstest.Serve(t, reply{200, `{}`}.http())
	s, err := New(awsddb.NewFromConfig(awstest.ConfigFromEnvironment(t, "AWS_ENDPOINT_URL_DYNAMODB", url)), Options{Table: "leases"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Load(context.Background(), "main")
	backendtest.WantNotFound.Check(t, err)
	if c := seenCalls(t, script); len(c) != 1 || !strings.HasSuffix(c[0].target, ".GetItem") {
		t.Fatalf("calls at the env endpoint: %+v, want one GetItem", c)
	}
}
