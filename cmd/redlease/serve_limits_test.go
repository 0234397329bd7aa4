package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// rawRequest sends raw on a new connection to the server at url and reads
// one response's status and body (none when raw is empty).
func rawRequest(t *testing.T, url, raw string) (int, string, net.Conn) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	if raw == "" {
		return 0, "", c
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), c
}

// `redlease serve` answers net/http's own refusals with the JSON envelope,
// and --max-conns caps the connections it serves.
func TestServeLimitsAndProtocolErrors(t *testing.T) {
	t.Parallel()
	open, _, cancelOpen := startServe(t, "--data", t.TempDir())
	defer cancelOpen()
	status, body, _ := rawRequest(t, open, "GET /v1/leases/%zz HTTP/1.1\r\nHost: x\r\n\r\n")
	if status != 400 || !strings.Contains(body, `"code":"malformed_request"`) {
		t.Errorf("bad escape: got %d %s, want 400 malformed_request", status, body)
	}

	url, _, cancel := startServe(t, "--data", t.TempDir(), "--max-conns", "1", "--max-waiting", "0")
	defer cancel()
	_, _, holder := rawRequest(t, url, "")
	if _, err := io.WriteString(holder, "GET /v1/leases/k HTTP/1.1\r\n"); err != nil { // takes the one place
		t.Fatal(err)
	}
	status, body, _ = rawRequest(t, url, "GET /v1/leases/k HTTP/1.1\r\nHost: x\r\n\r\n")
	if status != 503 || !strings.Contains(body, `"code":"overloaded"`) {
		t.Errorf("over --max-conns 1: got %d %s, want 503 overloaded", status, body)
	}
}

func TestServeRejectsNegativeCaps(t *testing.T) {
	t.Parallel()
	var stderr strings.Builder
	e := env{Stdout: io.Discard, Stderr: &stderr, Getenv: func(string) string { return "" }}
	if code := run(context.Background(), e, []string{"serve", "--max-conns", "-1"}); code != 2 {
		t.Errorf("serve --max-conns -1 exited %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "--max-conns") {
		t.Errorf("stderr %q does not name the flag", stderr.String())
	}
}
