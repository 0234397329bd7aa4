package apigw_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/redlease/redlease/pkg/api/apigw"
	"github.com/redlease/redlease/pkg/api/apitest"
	"github.com/redlease/redlease/pkg/lease"
)

// eventsDir holds the sample events that `sam local invoke`, the RIE smoke
// test and these tests share.
var eventsDir = filepath.Join("..", "..", "..", "events")

func readEvent(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(eventsDir, name))
	if err != nil {
		t.Fatalf("read sample event: %v", err)
	}
	return b
}

// proxyResponse is what API Gateway reads back from the function, in
// either payload format.
type proxyResponse struct {
	StatusCode      int               `json:"statusCode"`
	Headers         map[string]string `json:"headers"`
	Body            string            `json:"body"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
}

// invoke runs payload through the same entry point lambda.Start gets, as
// the deployed functions are wired: no authenticator, so only the IAM
// principal of a signed request gets through.
func invoke(t *testing.T, e *apitest.Env, payload []byte) proxyResponse {
	t.Helper()
	return invokeOn(t, apigw.New(e.API), payload)
}

func invokeOn(t *testing.T, a *apigw.Adapter, payload []byte) proxyResponse {
	t.Helper()
	out, err := lambda.NewHandler(a.Handle).Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	var resp proxyResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("response %s: %v", out, err)
	}
	return resp
}

func headers(requestID string, extra ...string) map[string]string {
	h := map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store", "X-Request-Id": requestID}
	for i := 0; i+1 < len(extra); i += 2 {
		h[extra[i]] = extra[i+1]
	}
	return h
}

func assertResponse(t *testing.T, name string, got proxyResponse, status int, hdr map[string]string, body string) {
	t.Helper()
	if got.StatusCode != status || got.Body != body || !maps.Equal(got.Headers, hdr) || got.IsBase64Encoded {
		t.Errorf("%s:\n got  %d %v %s\n want %d %v %s", name, got.StatusCode, got.Headers, got.Body, status, hdr, body)
	}
}

// TestSampleEvents drives every sample event in events/ through the Lambda
// entry point, in the order a client would send them, and checks the whole
// response.
func TestSampleEvents(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, apitest.Options{})
	at := func(ms int64) { e.Clock.Set(apitest.Epoch.Add(time.Duration(ms) * time.Millisecond)) }
	steps := []struct {
		event  string
		atMs   int64
		status int
		reqID  string
		body   string
	}{
		{"acquire.json", 0, 200, "Xk3pQhPAoAMEbXw=",
			`{"lease":{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-0-1","term":1,"generation":1,"acquired_at_ms":1767225600000,"expires_at_ms":1767225660000}}`},
		{"bad-malformed-json.json", 1000, 400, "Xk3pdjLRoAMEbb0=",
			`{"error":{"code":"invalid_request","message":"body is not valid JSON: unexpected end of input","field":"body"}}`},
		{"bad-missing-field.json", 1000, 400, "Xk3pfBzHoAMEbcQ=",
			`{"error":{"code":"invalid_request","message":"generation is required","field":"generation"}}`},
		{"bad-oversized-body.json", 1000, 413, "Xk3phG2uoAMEbdI=",
			`{"error":{"code":"too_large","message":"the request body exceeds 16384 bytes"}}`},
		{"refresh.json", 20012, 200, "Xk3pVhQ2oAMEbYA=",
			`{"lease":{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-0-1","term":1,"generation":1,"acquired_at_ms":1767225600000,"expires_at_ms":1767225680012}}`},
		{"lease-get.json", 30000, 200, "Xk3pbgTboAMEbaw=",
			`{"lease":{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-0-1","term":1,"generation":1,"acquired_at_ms":1767225600000,"expires_at_ms":1767225680012},"state":"held","expires_in_ms":50012}`},
		{"acquire-rest.json", 40000, 409, "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
			`{"error":{"code":"held","message":"the lease is held by \"reddb-0-1\" (generation 1) for another 40012 ms","current":{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-0-1","term":1,"generation":1,"acquired_at_ms":1767225600000,"expires_at_ms":1767225680012},"retry_after_ms":40012}}`},
		{"release.json", 45031, 200, "Xk3pZjR5oAMEbZQ=",
			`{"lease":{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-0-1","term":1,"generation":1,"acquired_at_ms":1767225600000,"expires_at_ms":1767225645031,"released_at_ms":1767225645031}}`},
		{"lease-get.json", 46000, 200, "Xk3pbgTboAMEbaw=",
			`{"lease":{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-0-1","term":1,"generation":1,"acquired_at_ms":1767225600000,"expires_at_ms":1767225645031,"released_at_ms":1767225645031},"state":"released","expires_in_ms":0}`},
		{"acquire-rest.json", 120000, 200, "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
			`{"lease":{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-1-1","term":1,"generation":2,"acquired_at_ms":1767225720000,"expires_at_ms":1767225780000}}`},
	}
	for _, s := range steps {
		at(s.atMs)
		got := invoke(t, e, readEvent(t, s.event))
		assertResponse(t, s.event, got, s.status, headers(s.reqID), s.body)
	}
	if logs := e.Logs.String(); strings.Contains(logs, "5d672d79c15b13162d9279b0855cfba6") || strings.Contains(logs, "xxxxxxxx") ||
		!strings.Contains(logs, `"principal":"arn:aws:sts::123456789012:assumed-role/reddb-writer"`) {
		t.Errorf("logs carry the Authorization header or a body, or lack the principal:\n%s", logs)
	}
}

// mutate decodes a sample event, lets f change it, and encodes it again.
func mutate(t *testing.T, name string, f func(ev map[string]any)) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(readEvent(t, name), &ev); err != nil {
		t.Fatal(err)
	}
	f(ev)
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEventVariants(t *testing.T) {
	t.Parallel()
	acquired := `{"lease":{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-0-1","term":1,"generation":1,"acquired_at_ms":1767225600000,"expires_at_ms":1767225660000}}`
	acquireBody := `{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-0-1","ttl_ms":60000,"term":1}`
	read := `{"lease":{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-0-1","term":1,"generation":1,"acquired_at_ms":1767225600000,"expires_at_ms":1767225660000},"state":"held","expires_in_ms":60000}`
	tests := []struct {
		name    string
		seed    bool // acquire the lease first
		payload func(t *testing.T) []byte
		status  int
		reqID   string
		body    string
	}{
		{"base64 body", false, func(t *testing.T) []byte {
			return mutate(t, "acquire.json", func(ev map[string]any) {
				ev["isBase64Encoded"] = true
				ev["body"] = base64.StdEncoding.EncodeToString([]byte(acquireBody))
			})
		}, 200, "Xk3pQhPAoAMEbXw=", acquired},
		{"invalid base64 body", false, func(t *testing.T) []byte {
			return mutate(t, "acquire.json", func(ev map[string]any) {
				ev["isBase64Encoded"] = true
				ev["body"] = "{not base64!"
			})
		}, 400, "Xk3pQhPAoAMEbXw=", `{"error":{"code":"invalid_request","message":"body is marked base64-encoded but is not valid base64","field":"body"}}`},
		{"base64 body over the limit", false, func(t *testing.T) []byte {
			return mutate(t, "acquire.json", func(ev map[string]any) {
				ev["isBase64Encoded"] = true
				ev["body"] = base64.StdEncoding.EncodeToString(make([]byte, 16385))
			})
		}, 413, "Xk3pQhPAoAMEbXw=", `{"error":{"code":"too_large","message":"the request body exceeds 16384 bytes"}}`},
		{"$default route with a named stage: raw path fallback", true, func(t *testing.T) []byte {
			return mutate(t, "lease-get.json", func(ev map[string]any) {
				ev["routeKey"] = "$default"
				ev["rawPath"] = "/prod/v1/leases/clusters/dev/data.rdb"
				delete(ev, "pathParameters")
				rc := ev["requestContext"].(map[string]any)
				rc["stage"] = "prod"
			})
		}, 200, "Xk3pbgTboAMEbaw=", read},
		{"greedy path parameter wins over the raw path", true, func(t *testing.T) []byte {
			return mutate(t, "lease-get.json", func(ev map[string]any) {
				ev["rawPath"] = "/something/else"
			})
		}, 200, "Xk3pbgTboAMEbaw=", read},
		{"an HTTP API's path parameter is already decoded: %2F in it is the key's", true, func(t *testing.T) []byte {
			return mutate(t, "lease-get.json", func(ev map[string]any) {
				ev["pathParameters"] = map[string]any{"database_key": "clusters%2Fdev%2Fdata.rdb"}
			})
		}, 404, "Xk3pbgTboAMEbaw=", `{"error":{"code":"not_found","message":"no lease record exists for this database_key"}}`},
		{"traversal in the path parameter", false, func(t *testing.T) []byte {
			return mutate(t, "lease-get.json", func(ev map[string]any) {
				ev["pathParameters"] = map[string]any{"database_key": "clusters/../etc/passwd"}
			})
		}, 400, "Xk3pbgTboAMEbaw=", `{"error":{"code":"invalid_request","message":"database_key must not contain '.' or '..' segments","field":"database_key"}}`},
		{"REST read with the greedy resource", true, func(t *testing.T) []byte {
			return mutate(t, "acquire-rest.json", func(ev map[string]any) {
				ev["httpMethod"] = "GET"
				ev["resource"] = "/v1/leases/{database_key+}"
				ev["path"] = "/v1/leases/clusters/dev/data.rdb"
				ev["pathParameters"] = map[string]any{"database_key": "clusters/dev/data.rdb"}
				ev["body"] = nil
			})
		}, 200, "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", read},
		{"REST with only multi-value headers", false, func(t *testing.T) []byte {
			return mutate(t, "acquire-rest.json", func(ev map[string]any) {
				delete(ev, "headers")
				ev["body"] = acquireBody
			})
		}, 200, "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", acquired},
		{"REST proxy resource falls back to the path", false, func(t *testing.T) []byte {
			return mutate(t, "acquire-rest.json", func(ev map[string]any) {
				ev["resource"] = "/{proxy+}"
				ev["pathParameters"] = map[string]any{"proxy": "v1/acquire"}
				ev["body"] = acquireBody
			})
		}, 200, "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", acquired},
		{"HTTP API payload 1.0 says version 1.0", false, func(t *testing.T) []byte {
			return mutate(t, "acquire-rest.json", func(ev map[string]any) {
				ev["version"] = "1.0"
				ev["body"] = acquireBody
			})
		}, 200, "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", acquired},
		{"wrong method on a known route", false, func(t *testing.T) []byte {
			return mutate(t, "acquire.json", func(ev map[string]any) {
				ev["routeKey"] = "$default"
				ev["requestContext"].(map[string]any)["http"].(map[string]any)["method"] = "PUT"
			})
		}, 405, "Xk3pQhPAoAMEbXw=", `{"error":{"code":"method_not_allowed","message":"method PUT is not allowed here; use POST"}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := apitest.New(t, apitest.Options{})
			if tc.seed {
				if r := invoke(t, e, readEvent(t, "acquire.json")); r.StatusCode != 200 {
					t.Fatalf("seed acquire = %d %s", r.StatusCode, r.Body)
				}
			}
			want := headers(tc.reqID)
			if tc.status == 405 {
				want["Allow"] = "POST"
			}
			assertResponse(t, tc.name, invoke(t, e, tc.payload(t)), tc.status, want, tc.body)
		})
	}
}

// A payload that is no API Gateway event has no HTTP caller to answer: it
// is an invocation error.
func TestNonHTTPPayloadIsAnInvocationError(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, apitest.Options{})
	h := lambda.NewHandler(apigw.New(e.Handler).Handle)
	for _, p := range [][]byte{readEvent(t, "sweep-scheduled.json"), []byte(`[]`), []byte(`"x"`), []byte(`{"version":"2.0","body":7}`)} {
		if out, err := h.Invoke(context.Background(), p); err == nil {
			t.Errorf("Invoke(%.40s) = %s, want an error", p, out)
		}
	}
}

// A refusal that carries headers (503 with Retry-After) keeps them through
// the Lambda entry point.
func TestUnavailableThroughTheEntryPoint(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, apitest.Options{Wrap: func(s lease.ListingStore) lease.ListingStore {
		return &apitest.Broken{ListingStore: s, LoadErr: lease.Unavailable(errors.New("SlowDown"), 3200*time.Millisecond)}
	}})
	got := invoke(t, e, readEvent(t, "lease-get.json"))
	assertResponse(t, "503", got, 503, headers("Xk3pbgTboAMEbaw=", "Retry-After", "4"),
		`{"error":{"code":"backend_unavailable","message":"lease storage is unavailable; retry later","retry_after_ms":3200}}`)
}
