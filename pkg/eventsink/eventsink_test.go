package eventsink_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/redlease/redlease/pkg/eventsink"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/observe"
	"github.com/redlease/redlease/pkg/sweep"
)

func events() []sweep.ExpiredEvent {
	return []sweep.ExpiredEvent{
		sweep.NewExpiredEvent(lease.Lease{DatabaseKey: "clusters/dev/data.rdb", HolderID: "reddb-0-1", Term: 2, Generation: 7,
			AcquiredAtMs: 1767225600000, ExpiresAtMs: 1767225660000}, 1767225661500),
		sweep.NewExpiredEvent(lease.Lease{DatabaseKey: "b", HolderID: "h", Term: 1, Generation: 1, ExpiresAtMs: 1}, 2),
	}
}

func TestLogWritesOneJSONLinePerEvent(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	errs := eventsink.NewLog(observe.NewLogger(&out, 0)).Publish(context.Background(), events())
	if len(errs) != 2 || errs[0] != nil || errs[1] != nil {
		t.Fatalf("errs %v, want two nils", errs)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(lines), out.String())
	}
	var line struct {
		Msg        string             `json:"msg"`
		Source     string             `json:"source"`
		DetailType string             `json:"detail-type"`
		ID         string             `json:"id"`
		Detail     sweep.ExpiredEvent `json:"detail"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
		t.Fatalf("line is not JSON: %v\n%s", err, lines[0])
	}
	want := events()[0]
	if line.Msg != "Lease Expired" || line.Source != "redlease" || line.DetailType != "Lease Expired" ||
		line.ID != want.EventID || line.Detail != want {
		t.Errorf("line %+v, want the event %+v", line, want)
	}
}

func TestWebhookPostsEnvelopes(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		got  []eventsink.Envelope
		code = http.StatusNoContent
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s with Content-Type %q", r.Method, r.Header.Get("Content-Type"))
		}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Errorf("body %s: %v", body, err)
		}
		w.WriteHeader(code)
	}))
	defer srv.Close()
	hook := eventsink.NewWebhook(srv.URL, nil)
	if errs := hook.Publish(context.Background(), events()); errs[0] != nil || errs[1] != nil {
		t.Fatalf("errs %v", errs)
	}
	if len(got) != 2 || got[0].ID != events()[0].EventID || got[0].Source != "redlease" ||
		got[0].DetailType != "Lease Expired" || got[0].Detail != events()[0] || got[0].Version != "0" || got[0].Time == "" {
		t.Errorf("posted %+v", got)
	}
	mu.Lock()
	code = http.StatusServiceUnavailable
	mu.Unlock()
	errs := hook.Publish(context.Background(), events())
	if errs[0] == nil || errs[1] == nil || !strings.Contains(errs[0].Error(), "503") {
		t.Errorf("a 503 answer gave %v, want every event failed", errs)
	}
	srv.Close()
	if errs := hook.Publish(context.Background(), events()); errs[0] == nil {
		t.Error("a closed server delivered the events")
	}
}
