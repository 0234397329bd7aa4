package apigw_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/redlease/redlease/pkg/api/apigw"
	"github.com/redlease/redlease/pkg/api/apitest"
)

// FuzzHandle: no payload panics the adapter; a payload it takes for an API
// Gateway event gets a 200 or a 4xx with a contract code, never a 5xx.
func FuzzHandle(f *testing.F) {
	names, _ := filepath.Glob(filepath.Join(eventsDir, "*.json"))
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"version":"2.0","routeKey":"$default","rawPath":"/v1/leases/a%2","requestContext":{"http":{"method":"GET"}}}`))
	f.Add([]byte(`{"httpMethod":"POST","path":"/v1/release","body":"e30=","isBase64Encoded":true,"headers":{"content-type":"application/json"}}`))
	f.Add([]byte(`{"version":"2.0","routeKey":"POST /v1/acquire","rawPath":"/v1/acquire","headers":{"content-type":"text/plain","Content-Type":"application/json"},"requestContext":{"http":{"method":"POST"}},"body":"{}"}`))
	f.Add([]byte(`{"version":"2.0","routeKey":"$default","rawPath":"/v1/leases/a%25b"}`))
	f.Add([]byte(`{"httpMethod":"GET","resource":"/v1/leases/{database_key+}","path":"/base/v1/leases/a%252Fb","pathParameters":{"database_key":"a%2Fb"},"multiValueHeaders":{"Accept":["a","b"]}}`))
	e := apitest.New(f, apitest.Options{})
	a := apigw.New(e.Handler)
	f.Fuzz(func(t *testing.T, payload []byte) {
		out, err := a.Handle(context.Background(), payload)
		if err != nil {
			return // not an API Gateway event: an invocation error
		}
		b, err := json.Marshal(out)
		if err != nil {
			t.Fatalf("response does not marshal: %v", err)
		}
		var resp struct {
			StatusCode int               `json:"statusCode"`
			Headers    map[string]string `json:"headers"`
			Body       string            `json:"body"`
		}
		if err := json.Unmarshal(b, &resp); err != nil {
			t.Fatal(err)
		}
		if resp.Headers["X-Request-Id"] == "" || resp.Headers["Content-Type"] != "application/json" {
			t.Fatalf("headers %v", resp.Headers)
		}
		apitest.CheckContractAnswer(t, resp.StatusCode, []byte(resp.Body))
	})
}
