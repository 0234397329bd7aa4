package reddbtest_test

// Tests of the fixture itself, without RedDB: if the fixture's compare-and-
// swap were wrong, the RedDB-in-the-loop tests would prove nothing.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func do(t *testing.T, method, url string, body []byte, hdr ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func TestObjectServerCompareAndSwap(t *testing.T) {
	t.Parallel()
	s := newObjectServer(t)
	u := s.BaseURL() + "/leases/db.lease.json"

	if code, _, _ := do(t, http.MethodHead, u, nil); code != http.StatusNotFound {
		t.Fatalf("HEAD absent: got %d, want 404", code)
	}
	if code, _, _ := do(t, http.MethodPut, u, []byte("v1"), "If-Match", `"nope"`); code != http.StatusPreconditionFailed {
		t.Fatalf("PUT If-Match on absent: got %d, want 412", code)
	}
	code, h, _ := do(t, http.MethodPut, u, []byte("v1"), "If-None-Match", "*")
	if code != http.StatusOK || h.Get("ETag") == "" {
		t.Fatalf("PUT If-None-Match:* on absent: got %d etag %q, want 200 with an ETag", code, h.Get("ETag"))
	}
	if code, _, _ := do(t, http.MethodPut, u, []byte("v2"), "If-None-Match", "*"); code != http.StatusPreconditionFailed {
		t.Fatalf("PUT If-None-Match:* on present: got %d, want 412", code)
	}
	code, h, _ = do(t, http.MethodHead, u, nil)
	etag := h.Get("ETag")
	if code != http.StatusOK || h.Get("Content-Length") != "0" || etag == "" {
		t.Fatalf("HEAD: got %d, Content-Length %q, ETag %q; want 200, 0 and an ETag", code, h.Get("Content-Length"), etag)
	}
	if code, h, b := do(t, http.MethodGet, u, nil); code != http.StatusOK || string(b) != "v1" || h.Get("ETag") != etag {
		t.Fatalf("GET: got %d %q etag %q, want 200 v1 %s", code, b, h.Get("ETag"), etag)
	}
	if code, _, _ := do(t, http.MethodPut, u, []byte("v1"), "If-Match", etag); code != http.StatusOK {
		t.Fatalf("PUT If-Match current: got %d, want 200", code)
	}
	// Same bytes, new write: the old ETag no longer matches.
	if code, _, _ := do(t, http.MethodDelete, u, nil, "If-Match", etag); code != http.StatusPreconditionFailed {
		t.Fatalf("DELETE If-Match stale: got %d, want 412", code)
	}
	_, h, _ = do(t, http.MethodHead, u, nil)
	if code, _, _ := do(t, http.MethodDelete, u, nil, "If-Match", h.Get("ETag")); code != http.StatusNoContent {
		t.Fatalf("DELETE If-Match current: got %d, want 204", code)
	}
	if _, ok := s.get("leases/db.lease.json"); ok {
		t.Fatal("object still stored after DELETE")
	}
}

func TestObjectServerList(t *testing.T) {
	t.Parallel()
	s := newObjectServer(t)
	for _, k := range []string{"clusters/dev/snapshots/b", "clusters/dev/snapshots/a", "clusters/dev/wal/x", "t/a/clusters/dev/snapshots/c"} {
		s.put(k, []byte("x"))
	}
	tests := []struct {
		name, url, want string
	}{
		{"no http prefix", s.BaseURL() + "/?list=clusters/dev/snapshots/", "clusters/dev/snapshots/a\nclusters/dev/snapshots/b\n"},
		{"http prefix t/a/", s.BaseURL() + "/t/a?list=clusters/dev/snapshots/", "clusters/dev/snapshots/c\n"},
		{"nothing", s.BaseURL() + "/?list=none/", ""},
	}
	for _, tc := range tests {
		code, _, b := do(t, http.MethodGet, tc.url, nil)
		if code != http.StatusOK || string(b) != tc.want {
			t.Errorf("%s: got %d %q, want 200 %q", tc.name, code, b, tc.want)
		}
	}
}

// RedDB reads an object's version with `curl -D - -o /dev/null -X HEAD`.
// Without -I, curl then waits for as many body bytes as Content-Length
// announces; a server that sends the object's size there (every S3 does)
// leaves it waiting. This is why the fixture, and redlease, answer HEAD with
// Content-Length: 0.
func TestCurlHeadNeedsContentLengthZero(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed")
	}
	s := newObjectServer(t)
	s.put("k", []byte(strings.Repeat("x", 100)))
	curlHead := func(key string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "curl", "-sS", "--max-time", "2", "-w", "HTTPSTATUS:%{http_code}",
			"-D", "-", "-o", "/dev/null", "-X", "HEAD", s.BaseURL()+"/"+key).CombinedOutput()
		return string(out), err
	}

	out, err := curlHead("k")
	if err != nil || !strings.Contains(out, "HTTPSTATUS:200") || !strings.Contains(strings.ToLower(out), "etag:") {
		t.Fatalf("Content-Length: 0: curl %v, output %q; want exit 0, an ETag and HTTPSTATUS:200", err, out)
	}
	// The 404 needs it too.
	if out, err := curlHead("absent"); err != nil || !strings.Contains(out, "HTTPSTATUS:404") {
		t.Fatalf("absent: curl %v, output %q; want exit 0 and HTTPSTATUS:404", err, out)
	}

	s.setHeadMode(headSize)
	out, err = curlHead("k")
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 28 {
		t.Fatalf("Content-Length: size: curl %v, output %q; want exit 28 (timed out waiting for the body)", err, out)
	}
}
