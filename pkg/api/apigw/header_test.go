package apigw_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/redlease/redlease/pkg/api/apigw"
	"github.com/redlease/redlease/pkg/api/apitest"
)

// TestHeaderPrecedence: one value a header name, whatever the map order; a
// name given twice in different case with different values is refused;
// a REST event's multiValueHeaders agree with headers, which holds the last
// value.
func TestHeaderPrecedence(t *testing.T) {
	t.Parallel()
	acquireBody := `{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-0-1","ttl_ms":60000,"term":1}`
	conflict := `{"error":{"code":"invalid_request","message":"content-type header is given twice with different values ` +
		`(as \"Content-Type\" and \"content-type\")","field":"content-type"}}`
	notJSON := `{"error":{"code":"invalid_request","message":"content-type must be application/json","field":"content-type"}}`
	v2 := func(hdr map[string]any) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			return mutate(t, "acquire.json", func(ev map[string]any) {
				h := ev["headers"].(map[string]any)
				delete(h, "content-type")
				for k, v := range hdr {
					h[k] = v
				}
			})
		}
	}
	rest := func(single map[string]any, multi map[string]any) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			return mutate(t, "acquire-rest.json", func(ev map[string]any) {
				ev["body"] = acquireBody
				h, mh := ev["headers"].(map[string]any), ev["multiValueHeaders"].(map[string]any)
				delete(h, "Content-Type")
				delete(mh, "Content-Type")
				if single == nil {
					delete(ev, "headers")
				}
				for k, v := range single {
					h[k] = v
				}
				for k, v := range multi {
					mh[k] = v
				}
			})
		}
	}
	tests := []struct {
		name   string
		event  func(t *testing.T) []byte
		status int
		reqID  string
		body   string
	}{
		{"2.0: two spellings, different values", v2(map[string]any{"content-type": "text/plain", "Content-Type": "application/json"}),
			400, "Xk3pQhPAoAMEbXw=", conflict},
		{"2.0: two spellings, the same value", v2(map[string]any{"content-type": "application/json", "Content-Type": "application/json"}),
			200, "Xk3pQhPAoAMEbXw=", ""},
		{"REST: headers holds the last of multiValueHeaders", rest(map[string]any{"Content-Type": "application/json"},
			map[string]any{"Content-Type": []any{"text/plain", "application/json"}}), 200, "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", ""},
		{"REST: only multiValueHeaders, the last value counts", rest(nil,
			map[string]any{"Content-Type": []any{"text/plain", "application/json"}}), 200, "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", ""},
		{"REST: only multiValueHeaders, the last value is not JSON", rest(nil,
			map[string]any{"Content-Type": []any{"application/json", "text/plain"}}), 400, "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", notJSON},
		{"REST: headers wins over a multiValueHeaders that disagrees", rest(map[string]any{"Content-Type": "application/json"},
			map[string]any{"Content-Type": []any{"text/plain"}}), 200, "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", ""},
		{"REST: two spellings in headers, different values", rest(map[string]any{"Content-Type": "application/json", "content-type": "text/plain"}, nil),
			400, "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", conflict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			payload := tc.event(t)
			// Map order differs run by run: the answer must not.
			for range 40 {
				e := apitest.New(t, apitest.Options{})
				got := invoke(t, e, payload)
				if tc.body == "" {
					if got.StatusCode != tc.status {
						t.Fatalf("got %d %s, want %d", got.StatusCode, got.Body, tc.status)
					}
					continue
				}
				assertResponse(t, tc.name, got, tc.status, headers(tc.reqID), tc.body)
				if t.Failed() {
					return
				}
			}
		})
	}
}

// An event without a method (no requestContext in 2.0, no httpMethod in a
// direct HandleV1 call) answers 400 malformed_request, not 405.
func TestEventWithoutMethod(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, apitest.Options{})
	payload := mutate(t, "lease-get.json", func(ev map[string]any) { delete(ev, "requestContext") })
	got := invoke(t, e, payload)
	want := `{"error":{"code":"malformed_request","message":"the API Gateway event has no HTTP method ` +
		`(requestContext.http.method is missing): it is not a request API Gateway sent"}}`
	if got.StatusCode != 400 || got.Body != want || got.Headers["X-Request-Id"] == "" {
		t.Errorf("got %d %v %s\nwant 400 with a request id %s", got.StatusCode, got.Headers, got.Body, want)
	}
	v1, err := apigw.New(e.Handler).HandleV1(context.Background(), events.APIGatewayProxyRequest{Path: "/v1/leases/k"})
	if err != nil || v1.StatusCode != 400 || !strings.Contains(v1.Body, `"code":"malformed_request"`) || !strings.Contains(v1.Body, "httpMethod is missing") {
		t.Errorf("HandleV1 without httpMethod = %+v, %v; want 400 malformed_request", v1, err)
	}
}
