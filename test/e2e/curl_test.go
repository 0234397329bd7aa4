//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// signer is what curl signs with; nil sends the request unsigned.
type signer struct{ accessKey, secret string }

type curlReply struct {
	status int
	body   []byte
}

// errorBody is the contract's error document.
func (r curlReply) errorBody(t *testing.T) (code, field, message string) {
	t.Helper()
	var e struct {
		Error struct{ Code, Field, Message string } `json:"error"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("error body %q: %v", r.body, err)
	}
	return e.Error.Code, e.Error.Field, e.Error.Message
}

// curl sends one request to the deployed API with curl, signed with SigV4
// for execute-api as docs/client.md describes (curl --aws-sigv4).
func (d *deployment) curl(ctx context.Context, t *testing.T, s *signer, method, path, contentType, body string) curlReply {
	t.Helper()
	out := filepath.Join(t.TempDir(), "body")
	args := []string{"-sS", "-o", out, "-w", "%{http_code}", "-X", method, d.api + path}
	if contentType != "" {
		args = append(args, "-H", "Content-Type: "+contentType)
	}
	if body != "" {
		args = append(args, "--data-binary", "@-")
	}
	if s != nil {
		args = append(args, "--aws-sigv4", "aws:amz:"+region+":execute-api", "--user", s.accessKey+":"+s.secret)
	}
	if d.emu.caFile != "" {
		args = append(args, "--cacert", d.emu.caFile)
	}
	cmd := exec.CommandContext(ctx, "curl", args...)
	cmd.Stdin = strings.NewReader(body)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("curl %s %s: %v: %s", method, path, err, stderr.String())
	}
	status, err := strconv.Atoi(stdout.String())
	if err != nil {
		t.Fatalf("curl printed status %q", stdout.String())
	}
	b, err := os.ReadFile(out)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return curlReply{status: status, body: b}
}

func leaseJSON(t *testing.T, r curlReply) map[string]any {
	t.Helper()
	var b struct {
		Lease map[string]any `json:"lease"`
		State string         `json:"state"`
	}
	if err := json.Unmarshal(r.body, &b); err != nil || b.Lease == nil {
		t.Fatalf("lease body %q: %v", r.body, err)
	}
	if b.State != "" {
		b.Lease["state"] = b.State
	}
	return b.Lease
}

// curlSession is the README's plain-HTTPS session, then the bad-input
// table: each refusal is a 4xx with a machine-readable code and a message,
// and none of them creates the key.
func curlSession(ctx context.Context, t *testing.T, d *deployment, s *signer) {
	key := d.key("curl")
	const js = "application/json"
	post := func(route, body string) curlReply { return d.curl(ctx, t, s, "POST", route, js, body) }

	r := post("/v1/acquire", `{"database_key":"`+key+`","holder_id":"curl-1","ttl_ms":60000}`)
	if r.status != 200 {
		t.Fatalf("curl acquire: %d %s", r.status, r.body)
	}
	if l := leaseJSON(t, r); l["generation"] != 1.0 || l["holder_id"] != "curl-1" {
		t.Fatalf("curl acquire = %v", l)
	}
	if r := d.curl(ctx, t, s, "GET", "/v1/leases/"+key, "", ""); r.status != 200 || leaseJSON(t, r)["state"] != "held" {
		t.Errorf("curl get: %d %s", r.status, r.body)
	}
	if r := post("/v1/refresh", `{"database_key":"`+key+`","holder_id":"curl-1","generation":1,"ttl_ms":60000}`); r.status != 200 {
		t.Errorf("curl refresh: %d %s", r.status, r.body)
	}
	if r := post("/v1/refresh", `{"database_key":"`+key+`","holder_id":"curl-2","generation":1,"ttl_ms":60000}`); r.status != 409 {
		t.Errorf("curl refresh by another holder: %d %s, want 409 stale", r.status, r.body)
	} else if code, _, _ := r.errorBody(t); code != "stale" {
		t.Errorf("curl refresh by another holder: code %q, want stale", code)
	}
	if r := post("/v1/release", `{"database_key":"`+key+`","holder_id":"curl-1","generation":1}`); r.status != 200 {
		t.Errorf("curl release: %d %s", r.status, r.body)
	}
	if r := post("/v1/acquire", `{"database_key":"`+key+`","holder_id":"curl-2","ttl_ms":60000}`); r.status != 200 || leaseJSON(t, r)["generation"] != 2.0 {
		t.Errorf("curl acquire after release: %d %s, want generation 2", r.status, r.body)
	}

	bad := d.key("curl-bad")
	for _, c := range []struct {
		name, contentType, body string
		status                  int
		code, field             string
	}{
		{"not json content type", "text/plain", `{"database_key":"` + bad + `","holder_id":"h","ttl_ms":60000}`, 400, "invalid_request", "content-type"},
		{"malformed json", js, `{"database_key":"` + bad + `",`, 400, "invalid_request", ""},
		{"missing holder", js, `{"database_key":"` + bad + `","ttl_ms":60000}`, 400, "invalid_request", "holder_id"},
		{"ttl below the minimum", js, `{"database_key":"` + bad + `","holder_id":"h","ttl_ms":1}`, 400, "invalid_request", "ttl_ms"},
		{"ttl not a number", js, `{"database_key":"` + bad + `","holder_id":"h","ttl_ms":"60s"}`, 400, "invalid_request", "ttl_ms"},
		{"key with a leading slash", js, `{"database_key":"/` + bad + `","holder_id":"h","ttl_ms":60000}`, 400, "invalid_request", "database_key"},
		{"key with a dot-dot segment", js, `{"database_key":"e2e/../` + bad + `","holder_id":"h","ttl_ms":60000}`, 400, "invalid_request", "database_key"},
	} {
		r := d.curl(ctx, t, s, "POST", "/v1/acquire", c.contentType, c.body)
		if r.status != c.status {
			t.Errorf("%s: status %d %s, want %d", c.name, r.status, r.body, c.status)
			continue
		}
		code, field, msg := r.errorBody(t)
		if code != c.code || (c.field != "" && field != c.field) || msg == "" {
			t.Errorf("%s: code %q field %q message %q, want %q / %q / a message", c.name, code, field, msg, c.code, c.field)
		}
	}
	if r := d.curl(ctx, t, s, "GET", "/v1/leases/"+bad, "", ""); r.status != 404 {
		t.Errorf("after the refused requests, get %s: %d %s, want 404 (nothing written)", bad, r.status, r.body)
	} else if code, _, _ := r.errorBody(t); code != "not_found" {
		t.Errorf("get of a key never taken: code %q, want not_found", code)
	}
	// A route the API does not have: API Gateway answers, not a function.
	// With IAM enforced, MiniStack evaluates execute-api:Invoke on the
	// unmatched route's ARN before routing, and the caller policy (rightly)
	// does not allow it: 403 there, where AWS answers 404 for the missing
	// route. Either way no function runs.
	want := http.StatusNotFound
	if d.emu.iam {
		want = http.StatusForbidden
	}
	if r := d.curl(ctx, t, s, "GET", "/v1/acquire", "", ""); r.status != want {
		t.Errorf("GET /v1/acquire: %d %s, want %d from API Gateway", r.status, r.body, want)
	}
}
