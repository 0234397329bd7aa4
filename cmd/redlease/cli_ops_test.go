package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redlease/redlease/internal/syncbuf"
	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/api/httpserver"
	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/lease"
)

// testServer is the local server's real HTTP adapter over a memory store,
// on 127.0.0.1, stopped by the test.
func testServer(t *testing.T) (*httptest.Server, *memory.Store) {
	t.Helper()
	store := memory.New(memory.Options{})
	svc, err := lease.New(lease.Config{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	core, err := api.New(api.Config{Service: svc})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpserver.Handler(api.Authenticate(core, api.Open())))
	t.Cleanup(srv.Close)
	return srv, store
}

type cliResult struct {
	code           int
	stdout, stderr string
}

// cli runs one subcommand the way main.go's dispatcher does and returns the
// exit status the subcommand asks for.
func cli(ctx context.Context, t *testing.T, args ...string) cliResult {
	t.Helper()
	var stdout, stderr syncbuf.Buffer
	return cliWith(ctx, t, &stdout, &stderr, args...)
}

func cliWith(ctx context.Context, t *testing.T, stdout, stderr *syncbuf.Buffer, args ...string) cliResult {
	t.Helper()
	c, ok := commands()[args[0]]
	if !ok {
		t.Fatalf("subcommand %q not registered", args[0])
	}
	e := env{Stdin: strings.NewReader(""), Stdout: stdout, Stderr: stderr, Getenv: func(string) string { return "" }}
	err := c.Run(ctx, e, args[1:])
	if err != nil {
		stderr.Write([]byte("redlease " + args[0] + ": " + err.Error() + "\n"))
	}
	return cliResult{exitStatus(err), stdout.String(), stderr.String()}
}

func TestCLIOperationsAndExitCodes(t *testing.T) {
	t.Parallel()
	srv, _ := testServer(t)
	ctx := context.Background()
	ep := "--endpoint=" + srv.URL
	steps := []struct {
		name string
		args []string
		code int
		out  []string // substrings of stdout
	}{
		{"acquire", []string{"acquire", ep, "--key", "clusters/dev/data.rdb", "--holder", "reddb-0-1", "--ttl", "60s"}, exitOK,
			[]string{"database_key=clusters/dev/data.rdb\n", "holder_id=reddb-0-1\n", "term=1\n", "generation=1\n"}},
		{"acquire by another holder", []string{"acquire", ep, "--key", "clusters/dev/data.rdb", "--holder", "reddb-1-1"}, exitHeld, nil},
		{"refresh", []string{"refresh", ep, "--key", "clusters/dev/data.rdb", "--holder", "reddb-0-1", "--generation", "1", "--ttl", "60000"}, exitOK, []string{"generation=1\n"}},
		{"refresh of a wrong generation", []string{"refresh", ep, "--key", "clusters/dev/data.rdb", "--holder", "reddb-0-1", "--generation", "9"}, exitStale, nil},
		{"get", []string{"get", ep, "clusters/dev/data.rdb"}, exitOK, []string{"state=held\n", "expires_in_ms="}},
		{"get with flags after the key", []string{"get", "clusters/dev/data.rdb", ep, "--output", "json"}, exitOK, []string{`"state":"held"`}},
		{"get with two keys", []string{"get", ep, "a", "b"}, exitUsage, nil},
		{"get of a key never taken", []string{"get", ep, "--key", "nothing/here"}, exitNotFound, nil},
		{"acquire at a high term", []string{"acquire", ep, "--key", "main", "--holder", "promoter-1", "--term", "6", "--ttl", "1s"}, exitOK, []string{"term=6\n"}},
		{"acquire behind the term", []string{"acquire", ep, "--key", "main", "--holder", "old-1", "--term", "5"}, exitFenced, nil},
		{"refresh fenced by current term", []string{"refresh", ep, "--key", "main", "--holder", "promoter-1", "--generation", "1", "--ttl", "1s", "--current-term", "7"}, exitFenced, nil},
		{"release", []string{"release", ep, "--key", "clusters/dev/data.rdb", "--holder", "reddb-0-1", "--generation", "1"}, exitOK, []string{"released_at_ms="}},
		{"release twice", []string{"release", ep, "--key", "clusters/dev/data.rdb", "--holder", "reddb-0-1", "--generation", "1"}, exitOK, []string{"released_at_ms="}},
		{"wait for a free lease", []string{"wait", ep, "--key", "clusters/dev/data.rdb", "--holder", "reddb-1-1"}, exitOK, []string{"generation=2\n"}},
		{"wait times out while held", []string{"wait", ep, "--key", "clusters/dev/data.rdb", "--holder", "reddb-0-1", "--timeout", "200ms"}, exitHeld, nil},
		{"ttl refused by the service", []string{"acquire", ep, "--key", "k", "--holder", "h", "--ttl", "10ms"}, exitUsage, nil},
		{"missing --key", []string{"acquire", ep, "--holder", "h"}, exitUsage, nil},
		{"bad --output", []string{"get", ep, "--output", "yaml", "k"}, exitUsage, nil},
		{"bad --sign", []string{"get", ep, "--sign", "maybe", "k"}, exitUsage, nil},
		{"bad --endpoint", []string{"get", "--endpoint", "ftp://x", "k"}, exitUsage, nil},
		{"stray argument", []string{"acquire", ep, "--key", "k", "--holder", "h", "extra"}, exitUsage, nil},
	}
	for _, s := range steps { // in order: each step builds on the state the previous left
		r := cli(ctx, t, s.args...)
		if r.code != s.code {
			t.Errorf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", s.name, r.code, s.code, r.stdout, r.stderr)
			continue
		}
		for _, want := range s.out {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%s: stdout %q lacks %q", s.name, r.stdout, want)
			}
		}
	}
}

func TestCLIJSONOutput(t *testing.T) {
	t.Parallel()
	srv, _ := testServer(t)
	ctx := context.Background()
	ep := "--endpoint=" + srv.URL
	r := cli(ctx, t, "acquire", ep, "--output", "json", "--key", "a/b", "--holder", "h1")
	var ok struct {
		Lease lease.Lease `json:"lease"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &ok) != nil || ok.Lease.HolderID != "h1" || ok.Lease.Generation != 1 {
		t.Fatalf("acquire: exit %d stdout %q", r.code, r.stdout)
	}
	r = cli(ctx, t, "acquire", ep, "--output", "json", "--key", "a/b", "--holder", "h2")
	var refused struct {
		Error struct {
			Code         string      `json:"code"`
			Status       int         `json:"status"`
			RequestID    string      `json:"request_id"`
			Current      lease.Lease `json:"current"`
			RetryAfterMs int64       `json:"retry_after_ms"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &refused); err != nil {
		t.Fatalf("held: stdout %q: %v", r.stdout, err)
	}
	if r.code != exitHeld || refused.Error.Code != "held" || refused.Error.Status != 409 || refused.Error.Current.HolderID != "h1" ||
		refused.Error.RequestID == "" || refused.Error.RetryAfterMs <= 0 {
		t.Errorf("held: exit %d, body %+v", r.code, refused.Error)
	}
	r = cli(ctx, t, "get", ep, "--output", "json", "a/b")
	var snap struct {
		Lease       lease.Lease `json:"lease"`
		State       string      `json:"state"`
		ExpiresInMs int64       `json:"expires_in_ms"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &snap); err != nil || snap.State != "held" || snap.ExpiresInMs <= 0 {
		t.Errorf("get: %q, %v", r.stdout, err)
	}
}

func TestCLIUnavailableEndpoint(t *testing.T) {
	t.Parallel()
	srv, _ := testServer(t)
	srv.Close() // nothing listens there any more
	r := cli(context.Background(), t, "get", "--endpoint", srv.URL, "--output", "json", "k")
	if r.code != exitUnavailable || !strings.Contains(r.stdout, `"code":"unavailable"`) {
		t.Errorf("exit %d stdout %q, want %d and code unavailable", r.code, r.stdout, exitUnavailable)
	}
}

func TestShouldSign(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode, endpoint string
		want           bool
	}{
		{"auto", "http://127.0.0.1:8080", false},
		{"auto", "http://localhost:8080", false},
		{"auto", "http://[::1]:8080", false},
		{"auto", "http://127.9.9.9", false},
		{"auto", "https://abc.execute-api.eu-west-1.amazonaws.com/prod", true},
		{"auto", "http://leases.internal:8080", true},
		{"auto", "http://localhost.localstack.cloud:4566", true},
		{"never", "https://abc.execute-api.eu-west-1.amazonaws.com/prod", false},
		{"always", "http://127.0.0.1:8080", true},
	} {
		u, _ := url.Parse(tc.endpoint)
		if got := shouldSign(tc.mode, u); got != tc.want {
			t.Errorf("shouldSign(%q, %q) = %v, want %v", tc.mode, tc.endpoint, got, tc.want)
		}
	}
}

// TestCLISigns checks that --sign=always signs with credentials from the
// AWS chain, for the region given, and that a missing credential is a clear
// error rather than an unsigned request.
func TestCLISigns(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDCLI")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "tok")
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		w.WriteHeader(404)
		w.Write([]byte(`{"error":{"code":"not_found","message":"no lease record exists for this database_key"}}`))
	}))
	defer srv.Close()
	r := cli(context.Background(), t, "get", "--endpoint", srv.URL, "--sign", "always", "--region", "eu-central-1", "k")
	if r.code != exitNotFound {
		t.Fatalf("exit %d, stderr %s", r.code, r.stderr)
	}
	if a := got.Get("Authorization"); !strings.HasPrefix(a, "AWS4-HMAC-SHA256 Credential=AKIDCLI/") || !strings.Contains(a, "/eu-central-1/execute-api/") {
		t.Errorf("Authorization %q", a)
	}
	if got.Get("X-Amz-Security-Token") != "tok" {
		t.Errorf("X-Amz-Security-Token %q", got.Get("X-Amz-Security-Token"))
	}

	os.Unsetenv("AWS_ACCESS_KEY_ID") // t.Setenv restores it
	os.Unsetenv("AWS_SECRET_ACCESS_KEY")
	got = nil
	r = cli(context.Background(), t, "get", "--endpoint", srv.URL, "--sign", "always", "--region", "eu-central-1", "k")
	if r.code != exitOther || !strings.Contains(r.stderr, "no AWS credentials") || got != nil {
		t.Errorf("without credentials: exit %d, stderr %q, request sent: %v", r.code, r.stderr, got != nil)
	}
	r = cli(context.Background(), t, "get", "--endpoint", "https://leases.example.com", "k")
	if r.code != exitUsage || !strings.Contains(r.stderr, "region") {
		t.Errorf("without region: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestDispatcherKnowsTheClientCommands(t *testing.T) {
	t.Parallel()
	srv, _ := testServer(t)
	var stdout, stderr bytes.Buffer
	e := env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string {
		if k == EnvEndpoint {
			return srv.URL
		}
		return ""
	}}
	if code := run(context.Background(), e, []string{"acquire", "--key", "k", "--holder", "h"}); code != 0 {
		t.Fatalf("run acquire via %s: exit %d, stderr %s", EnvEndpoint, code, stderr.String())
	}
	if code := run(context.Background(), e, []string{"release", "--key", "k"}); code != 2 {
		t.Errorf("run release without --holder: exit %d, want 2", code)
	}
	stderr.Reset()
	run(context.Background(), e, []string{"help"})
	for _, name := range []string{"acquire", "refresh", "release", "get", "wait", "hold"} {
		if !strings.Contains(stderr.String(), "  "+name+" ") {
			t.Errorf("help does not list %q:\n%s", name, stderr.String())
		}
	}
}
