package client_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/api/httpserver"
	"github.com/redlease/redlease/pkg/auth"
	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/client"
	"github.com/redlease/redlease/pkg/lease"
)

// tokenServer is redlease serve --tokens: tenant a, tenant b and an
// admin, over real HTTP.
func tokenServer(t *testing.T) (*httptest.Server, *faults) {
	t.Helper()
	set, err := auth.Parse([]byte(`{"tokens":[
		{"name":"tenant-a","sha256":"` + auth.Hash("token-a-0123456789") + `","prefixes":["tenants/a/"]},
		{"name":"tenant-b","sha256":"` + auth.Hash("token-b-0123456789") + `","prefixes":["tenants/b/"]},
		{"name":"ops","sha256":"` + auth.Hash("token-ops-0123456789") + `","prefixes":[""],"admin":true}]}`))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := lease.New(lease.Config{Store: memory.New(memory.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	core, err := api.New(api.Config{Service: svc})
	if err != nil {
		t.Fatal(err)
	}
	f := &faults{queue: map[string][]fault{}}
	srv := httptest.NewServer(f.wrap(httpserver.Handler(api.Authenticate(core, set))))
	t.Cleanup(srv.Close)
	return srv, f
}

func tokenClient(t *testing.T, srv *httptest.Server, token string) *client.Client {
	t.Helper()
	c, err := client.New(client.Options{Endpoint: srv.URL, HTTPClient: srv.Client(), Token: token})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The client sends its token and the routes with the key in the path (so
// IAM policies can scope it), and the service's 401 and 403 come back as
// lease.ErrUnauthorized and lease.ErrForbidden, never retried.
func TestBearerTokenAndPathRoutes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, f := tokenServer(t)
	a := tokenClient(t, srv, "token-a-0123456789")
	g, err := a.Acquire(ctx, client.AcquireRequest{DatabaseKey: "tenants/a/main db", HolderID: "reddb-a", TTL: time.Minute})
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	if _, err := a.Refresh(ctx, client.RefreshRequest{DatabaseKey: g.Lease.DatabaseKey, HolderID: "reddb-a", Generation: g.Lease.Generation, TTL: time.Minute}); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if _, err := a.Get(ctx, g.Lease.DatabaseKey); err != nil {
		t.Fatalf("Get: %v", err)
	}
	f.mu.Lock()
	var paths []string
	for _, s := range f.seen {
		paths = append(paths, s.path)
		if got := s.header.Get("Authorization"); got != "Bearer token-a-0123456789" {
			t.Errorf("%s: Authorization %q", s.path, got)
		}
		if strings.Contains(string(s.body), "database_key") {
			t.Errorf("%s: the key travels in the body too: %s", s.path, s.body)
		}
	}
	f.mu.Unlock()
	want := []string{"/v1/acquire/tenants/a/main db", "/v1/refresh/tenants/a/main db", "/v1/leases/tenants/a/main db"}
	if strings.Join(paths, ",") != strings.Join(want, ",") {
		t.Errorf("paths %q, want %q", paths, want)
	}

	b := tokenClient(t, srv, "token-b-0123456789")
	_, err = b.Release(ctx, client.ReleaseRequest{DatabaseKey: g.Lease.DatabaseKey, HolderID: "reddb-a", Generation: g.Lease.Generation})
	var ae *client.APIError
	if !errors.Is(err, lease.ErrForbidden) || !errors.As(err, &ae) || ae.StatusCode != 403 || ae.Code != "forbidden" {
		t.Fatalf("release by another tenant: %v, want 403 forbidden", err)
	}
	_, err = tokenClient(t, srv, "nobody-0123456789").Get(ctx, g.Lease.DatabaseKey)
	if !errors.Is(err, client.ErrUnauthorized) || !errors.Is(err, lease.ErrUnauthorized) || !errors.As(err, &ae) || ae.StatusCode != 401 {
		t.Fatalf("unknown token: %v, want 401 unauthorized", err)
	}
	if n := f.count("get"); n != 2 {
		t.Errorf("%d reads reached the server, want 2: a 401 is not retried", n)
	}

	if _, err := a.ForceRelease(ctx, g.Lease.DatabaseKey, "not mine to break"); !errors.Is(err, lease.ErrForbidden) {
		t.Fatalf("break glass by a tenant: %v, want forbidden", err)
	}
	ops := tokenClient(t, srv, "token-ops-0123456789")
	got, err := ops.ForceRelease(ctx, g.Lease.DatabaseKey, "INC-1")
	if err != nil || got.Principal != "tenant-a" || got.AlreadyReleased || !got.Lease.Released() || got.Lease.HolderID != "reddb-a" {
		t.Fatalf("ForceRelease = %+v, %v", got, err)
	}
	if again, err := ops.ForceRelease(ctx, g.Lease.DatabaseKey, ""); err != nil || !again.AlreadyReleased {
		t.Fatalf("second ForceRelease = %+v, %v", again, err)
	}
}

func TestTokenExcludesSigning(t *testing.T) {
	t.Parallel()
	_, err := client.New(client.Options{Endpoint: "https://x.execute-api.eu-west-1.amazonaws.com", Token: "t",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""), Region: "eu-west-1"})
	if err == nil {
		t.Error("a client with a token and SigV4 credentials")
	}
	if _, err := client.New(client.Options{Endpoint: "http://127.0.0.1:8080", Token: "a b"}); err == nil {
		t.Error("a token with a space")
	}
}
