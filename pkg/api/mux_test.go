package api_test

import (
	"context"
	"testing"

	"github.com/redlease/redlease/pkg/api"
)

// named is a face that answers with its name, so a test sees which face
// served a request.
type named string

func (n named) Serve(context.Context, api.Request) api.Response {
	return api.Response{Status: 200, Body: []byte(n)}
}

func TestMuxRoutesByLongestPrefix(t *testing.T) {
	t.Parallel()
	m := api.NewMux(named("lease")).Handle("/v1/reddb/", named("reddb")).Handle("/v1/reddb/admin/", named("admin"))
	tests := []struct {
		name string
		req  api.Request
		want string
	}{
		{"lease route", api.Request{Path: "/v1/acquire"}, "lease"},
		{"unknown path goes to the fallback", api.Request{Path: "/healthz"}, "lease"},
		{"object path", api.Request{Path: "/v1/reddb/clusters/dev/data.rdb"}, "reddb"},
		{"longest prefix wins", api.Request{Path: "/v1/reddb/admin/x"}, "admin"},
		{"prefix without its slash is another path", api.Request{Path: "/v1/reddb"}, "lease"},
		{"gateway template", api.Request{Route: "/v1/reddb/{proxy+}", Path: "/base/v1/reddb/x"}, "reddb"},
		{"catch-all template, path decides", api.Request{Route: "/{proxy+}", Path: "/v1/reddb/x"}, "reddb"},
	}
	for _, tc := range tests {
		if got := string(m.Serve(context.Background(), tc.req).Body); got != tc.want {
			t.Errorf("%s: served by %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestMuxRefusesWiringMistakes(t *testing.T) {
	t.Parallel()
	for name, f := range map[string]func(){
		"empty prefix": func() { api.NewMux(named("a")).Handle("", named("b")) },
		"nil face":     func() { api.NewMux(named("a")).Handle("/x/", nil) },
		"twice":        func() { api.NewMux(named("a")).Handle("/x/", named("b")).Handle("/x/", named("c")) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
