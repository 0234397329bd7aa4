package wire

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/redlease/redlease/internal/config"
	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/observe"
)

// Load builds the store and the service, and the SDK configuration only
// when asked or needed; the face it builds serves the operations given.
func TestLoadAndFace(t *testing.T) {
	isolateAWS(t)
	ctx := context.Background()
	cfg := config.Config{Backend: config.BackendMemory, Prefix: config.DefaultPrefix}
	app, err := Load(ctx, cfg, false)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if app.Store == nil || app.Service == nil || app.AWS.Region != "" {
		t.Fatalf("Load(memory) = %+v: want a store and a service, no SDK configuration", app)
	}
	if withAWS, err := Load(ctx, cfg, true); err != nil || withAWS.AWS.Region != "us-east-1" {
		t.Errorf("Load(memory, withAWS) region %q, %v: want the SDK configuration loaded", awsRegion(withAWS), err)
	}

	if got, _ := app.Face(observe.Discard(), nil, nil); got.Serve(ctx, api.Request{Method: http.MethodGet, Path: "/v1/leases/a/b"}).Status != http.StatusUnauthorized {
		t.Error("a face without an authenticator served a request without a principal")
	}
	app.Auth = api.Open()
	face, err := app.Face(observe.Discard(), nil, []api.Op{api.OpAcquire})
	if err != nil {
		t.Fatalf("Face: %v", err)
	}
	acquire := api.Request{Method: http.MethodPost, Path: api.PathAcquire, Header: http.Header{"Content-Type": {"application/json"}},
		Body: strings.NewReader(`{"database_key":"a/b","holder_id":"h","ttl_ms":60000}`)}
	if got := face.Serve(ctx, acquire); got.Status != http.StatusOK {
		t.Errorf("acquire = %d %s, want 200", got.Status, got.Body)
	}
	if got := face.Serve(ctx, api.Request{Method: http.MethodGet, Path: "/v1/leases/a/b"}); got.Status != http.StatusNotFound {
		t.Errorf("read on a face serving acquire only = %d %s, want 404", got.Status, got.Body)
	}
	if _, err := app.Face(observe.Discard(), nil, []api.Op{"delete"}); err == nil {
		t.Error("Face with an unknown operation: nil error")
	}
}

func awsRegion(a *App) string {
	if a == nil {
		return ""
	}
	return a.AWS.Region
}
