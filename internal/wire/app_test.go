package wire

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/redlease/redlease/internal/config"
	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/lease"
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

	if got, _ := app.Face(ctx, observe.Discard(), nil, FaceOptions{}); got.Serve(ctx, api.Request{Method: http.MethodGet, Path: "/v1/leases/a/b"}).Status != http.StatusUnauthorized {
		t.Error("a face without an authenticator served a request without a principal")
	}
	app.Auth = api.Open()
	face, err := app.Face(ctx, observe.Discard(), nil, FaceOptions{Ops: []api.Op{api.OpAcquire}})
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
	if _, err := app.Face(ctx, observe.Discard(), nil, FaceOptions{Ops: []api.Op{"delete"}}); err == nil {
		t.Error("Face with an unknown operation: nil error")
	}
}

func awsRegion(a *App) string {
	if a == nil {
		return ""
	}
	return a.AWS.Region
}

// The faces App.Face builds for a set of operations: the RedDB face only
// with its operation (or all), and a 404 for the other face's paths.
func TestFaceBuildsTheFacesOfItsOperations(t *testing.T) {
	isolateAWS(t)
	ctx := context.Background()
	app, err := Load(ctx, config.Config{Backend: config.BackendFile, DataDir: t.TempDir(), Prefix: config.DefaultPrefix}, false)
	if err != nil {
		t.Fatal(err)
	}
	head := api.Request{Method: http.MethodHead, Path: "/v1/reddb/clusters/dev/data.rdb", Header: http.Header{}, Principal: lease.Anonymous}
	get := api.Request{Method: http.MethodGet, Path: "/v1/leases/clusters/dev/data.rdb", Principal: lease.Anonymous}
	for _, tc := range []struct {
		name            string
		ops             []api.Op
		reddb, leaseAPI int
	}{
		{"all", nil, http.StatusNotFound, http.StatusNotFound}, // both served: nothing stored yet
		{"reddb only", []api.Op{api.OpRedDBObject}, http.StatusNotFound, http.StatusNotFound},
		{"lease only", []api.Op{api.OpGet}, http.StatusNotFound, http.StatusNotFound},
	} {
		face, err := app.Face(ctx, observe.Discard(), nil, FaceOptions{Ops: tc.ops})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		r, l := face.Serve(ctx, head), face.Serve(ctx, get)
		if r.Status != tc.reddb || l.Status != tc.leaseAPI {
			t.Errorf("%s: RedDB HEAD %d, lease GET %d", tc.name, r.Status, l.Status)
		}
		// A HEAD answered by the RedDB face carries Content-Length: 0; the
		// lease API's 404 is JSON.
		servesRedDB := r.Header["Content-Length"] == "0"
		if servesRedDB != (tc.ops == nil || tc.ops[0] == api.OpRedDBObject) {
			t.Errorf("%s: RedDB face served = %v (headers %v)", tc.name, servesRedDB, r.Header)
		}
		servesLease := !strings.Contains(string(l.Body), "no such route")
		if servesLease != (tc.ops == nil || tc.ops[0] == api.OpGet) {
			t.Errorf("%s: lease API served = %v (%s)", tc.name, servesLease, l.Body)
		}
	}
}

// The RedDB face on S3 needs a data bucket: the lease bucket for the s3
// backend, REDLEASE_REDDB_BUCKET for dynamodb.
func TestObjectsNeedABucket(t *testing.T) {
	isolateAWS(t)
	ctx := context.Background()
	if _, err := Objects(ctx, config.Config{Backend: config.BackendDynamoDB, Table: "t", Prefix: "leases/"}, awsZero); err == nil ||
		!strings.Contains(err.Error(), config.EnvRedDBBucket) {
		t.Errorf("dynamodb without a data bucket: %v, want an error naming %s", err, config.EnvRedDBBucket)
	}
	for _, cfg := range []config.Config{
		{Backend: config.BackendDynamoDB, Table: "t", Prefix: "leases/", RedDB: config.RedDB{Bucket: "data"}},
		{Backend: config.BackendS3, Bucket: "leases", Prefix: "leases/"},
		{Backend: config.BackendMemory, Prefix: "leases/"},
		{Backend: config.BackendFile, DataDir: t.TempDir(), Prefix: "leases/"},
	} {
		if objs, err := Objects(ctx, cfg, awsZero); err != nil || objs == nil {
			t.Errorf("Objects(%s) = %v, %v", cfg.Backend, objs, err)
		}
	}
}
