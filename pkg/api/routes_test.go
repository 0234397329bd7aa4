package api_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/api/apitest"
)

func TestRouteTableIsCopiedOut(t *testing.T) {
	t.Parallel()
	rs := api.Routes()
	rs[0].Methods[0], rs[0].Path = http.MethodDelete, "/elsewhere"
	ops := api.Ops()
	ops[0] = "delete"
	if got := api.Routes()[0]; got.Path != api.PathAcquire || got.Methods[0] != http.MethodPost {
		t.Errorf("the table changed through a copy: %+v", got)
	}
	if got := api.Ops(); got[0] != api.OpAcquire {
		t.Errorf("Ops changed through a copy: %q", got)
	}
}

func TestRouteTableDerivations(t *testing.T) {
	t.Parallel()
	if got, want := api.Ops(), []api.Op{api.OpAcquire, api.OpRefresh, api.OpRelease, api.OpGet, api.OpForceRelease, api.OpRedDBObject}; !slices.Equal(got, want) {
		t.Errorf("Ops() = %q, want %q", got, want)
	}
	if got, want := api.OpsOfFace(api.FaceLease), []api.Op{api.OpAcquire, api.OpRefresh, api.OpRelease, api.OpGet, api.OpForceRelease}; !slices.Equal(got, want) {
		t.Errorf("OpsOfFace(lease) = %q, want %q", got, want)
	}
	if got, want := api.OpsOfFace(api.FaceRedDB), []api.Op{api.OpRedDBObject}; !slices.Equal(got, want) {
		t.Errorf("OpsOfFace(reddb) = %q, want %q", got, want)
	}
	if got, want := api.Functions(), []string{api.FnAcquire, api.FnRefresh, api.FnRelease, api.FnLease, api.FnAdmin, api.FnRedDB}; !slices.Equal(got, want) {
		t.Errorf("Functions() = %q, want %q", got, want)
	}
	if got := api.OpsOf(api.FnLease); !slices.Equal(got, []api.Op{api.OpGet}) {
		t.Errorf("OpsOf(lease) = %q, want [get]", got)
	}
	if got := api.OpsOf(api.FnAdmin); !slices.Equal(got, []api.Op{api.OpForceRelease}) {
		t.Errorf("OpsOf(admin) = %q, want [force_release]", got)
	}
	if got := api.OpsOf("sweep"); got != nil {
		t.Errorf("OpsOf(sweep) = %q, want none", got)
	}
	for _, r := range api.Routes() {
		prefix, name, greedy := r.Param()
		if greedy != (r.Key == api.KeyInPath) {
			t.Errorf("%s: a greedy parameter (%v) and the key in the path (%s) go together", r.Path, greedy, r.Key)
		}
		param := api.KeyParam // a database key; the RedDB face's is an object key
		if r.Face() == api.FaceRedDB {
			param = api.ObjectKeyParam
		}
		if greedy && (name != param || !strings.HasSuffix(prefix, "/")) {
			t.Errorf("%s: parameter %q after %q, want {%s+} as the last segment", r.Path, name, prefix, param)
		}
		if !strings.HasPrefix(r.Path, "/v1/") || len(r.Methods) == 0 || r.Function == "" || r.Op == "" {
			t.Errorf("incomplete route %+v", r)
		}
	}
}

// The Handler routes by a template the gateway matched, else by the path
// as sent; a template it does not know (a catch-all) falls back to the
// path.
func TestHandlerRoutesByTemplateThenPath(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, apitest.Options{})
	ctx := context.Background()
	acquire := post(api.PathAcquire, `{"database_key":"a/b","holder_id":"h","ttl_ms":60000}`)
	acquire.Route, acquire.Path = api.PathAcquire, "/prod/v1/acquire" // REST API behind a base path
	if got := e.Handler.Serve(ctx, acquire); got.Status != http.StatusOK {
		t.Fatalf("acquire by template = %d %s", got.Status, got.Body)
	}
	tests := []struct {
		name   string
		req    api.Request
		status int
	}{
		{"template and parameter", api.Request{Method: "GET", Route: api.PathGetRoute, PathParams: map[string]string{api.KeyParam: "a%2Fb"}, Path: "/ignored"}, 200},
		{"catch-all template falls back to the path", api.Request{Method: "GET", Route: "/{proxy+}", PathParams: map[string]string{"proxy": "x"}, Path: "/v1/leases/a/b"}, 200},
		{"path only", api.Request{Method: "GET", Path: "/v1/leases/a/b"}, 200},
		{"unknown template and path", api.Request{Method: "GET", Route: "/v2/leases/{k+}", Path: "/v2/leases/a/b"}, 404},
	}
	for _, tc := range tests {
		if got := e.Handler.Serve(ctx, tc.req); got.Status != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, got.Status, got.Body, tc.status)
		}
	}
}
