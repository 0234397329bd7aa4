package api_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/api/apitest"
)

// TestClockSkewIs503AndAnError: a write through an instance whose clock
// reads before the record's stamps answers 503 clock_skew with a retry
// hint, changes nothing, logs the readings at level ERROR (a storage 503
// is WARN) and shows the client none of them.
func TestClockSkewIs503AndAnError(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, apitest.Options{})
	acquire := `{"database_key":"` + key + `","holder_id":"reddb-0-1","ttl_ms":60000}`
	if got := e.Handler.Serve(context.Background(), post("/v1/acquire", acquire)); got.Status != 200 {
		t.Fatalf("acquire: %d %s", got.Status, got.Body)
	}
	before := apitest.StoreHash(t, e.Memory)
	for _, tc := range []struct {
		name string
		req  api.Request
	}{
		{"refresh", post("/v1/refresh", `{"database_key":"`+key+`","holder_id":"reddb-0-1","generation":1,"ttl_ms":60000}`)},
		{"release", post("/v1/release", `{"database_key":"`+key+`","holder_id":"reddb-0-1","generation":1}`)},
		{"acquire", post("/v1/acquire", `{"database_key":"`+key+`","holder_id":"other","ttl_ms":60000}`)},
	} {
		e.Clock.Set(apitest.Epoch.Add(-8 * time.Second))
		got := e.Handler.Serve(context.Background(), tc.req)
		check(t, tc.name, got, 503, `{"error":{"code":"clock_skew","message":"this service instance's clock reads earlier than the stored lease record's last change; nothing was written; retry","retry_after_ms":1000}}`)
		if got.Header["Retry-After"] != "1" {
			t.Errorf("%s: Retry-After = %q, want 1", tc.name, got.Header["Retry-After"])
		}
	}
	if after := apitest.StoreHash(t, e.Memory); after != before {
		t.Fatal("refused writes changed the store")
	}
	lines := strings.Split(strings.TrimSpace(e.Logs.String()), "\n")
	skewed := 0
	for _, line := range lines {
		var rec struct {
			Level, Outcome, Error string
			Status                int
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec.Outcome != "clock_skew" {
			continue
		}
		skewed++
		if rec.Level != "ERROR" || rec.Status != 503 || !strings.Contains(rec.Error, "8000 ms before the acquired_at_ms 1767225600000") {
			t.Errorf("clock skew logged as %+v; want level ERROR with the clock readings", rec)
		}
	}
	if skewed != 3 {
		t.Fatalf("%d clock_skew log lines, want 3:\n%s", skewed, e.Logs.String())
	}
}
