package httpserver_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redlease/redlease/pkg/api/apitest"
	"github.com/redlease/redlease/pkg/api/httpserver"
)

// serveLimited serves the JSON API on a loopback port behind a Listener
// with lim, and returns the listener and the address.
func serveLimited(t *testing.T, lim httpserver.Limits) (*httpserver.Listener, string) {
	t.Helper()
	e := apitest.New(t, apitest.Options{})
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := httpserver.Listen(tcp, lim)
	srv := &http.Server{Handler: ln.Handler(httpserver.Handler(e.Handler)), ConnState: ln.ConnState, ConnContext: ln.ConnContext, MaxHeaderBytes: lim.MaxHeaderBytes}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln, tcp.Addr().String()
}

func dial(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

func send(t *testing.T, c net.Conn, raw string) {
	t.Helper()
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
}

// answer is one response read off a connection.
type answer struct {
	status     int
	header     http.Header
	close      bool // the server closes the connection after it
	code, body string
}

// reply reads one response and its JSON error code ("" for none).
func reply(t *testing.T, r *bufio.Reader) answer {
	t.Helper()
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	_ = json.Unmarshal(b, &e)
	return answer{status: resp.StatusCode, header: resp.Header, close: resp.Close, code: e.Error.Code, body: string(b)}
}

// waitUntil yields until cond holds; the test's own timeout bounds it.
func waitUntil(cond func() bool) {
	for !cond() {
		runtime.Gosched()
	}
}

const getLease = "GET /v1/leases/k HTTP/1.1\r\nHost: x\r\n\r\n"

// With one place and no waiting room, a second connection is answered 503
// overloaded at once, while the first is still served.
func TestConnectionOverTheCapIsRefused(t *testing.T) {
	t.Parallel()
	_, addr := serveLimited(t, httpserver.Limits{MaxConns: 1})
	a, ar := dial(t, addr)
	send(t, a, "GET /v1/leases/k HTTP/1.1\r\n") // holds the place, mid-request
	b, br := dial(t, addr)
	send(t, b, getLease)
	got := reply(t, br)
	if got.status != 503 || got.code != "overloaded" || got.header.Get("Retry-After") != "1" ||
		got.header.Get("X-Request-Id") == "" || got.header.Get("Content-Type") != "application/json" {
		t.Errorf("over the cap: got %d %v %s, want 503 overloaded with Retry-After 1", got.status, got.header, got.body)
	}
	send(t, a, "Host: x\r\n\r\n")
	if got := reply(t, ar); got.status != 404 || got.code != "not_found" {
		t.Errorf("the connection in place: got %d %s, want 404 not_found", got.status, got.body)
	}
}

// With one place and one waiting: the second connection waits; the first
// one's next response closes it, the second is served, and a third,
// normal client is served after it, while the idle second gives way.
func TestWaitingConnectionGetsThePlace(t *testing.T) {
	t.Parallel()
	ln, addr := serveLimited(t, httpserver.Limits{MaxConns: 1, MaxWaiting: 1})
	a, ar := dial(t, addr)
	send(t, a, "GET /v1/leases/k HTTP/1.1\r\n")
	b, br := dial(t, addr)
	send(t, b, getLease)
	waitUntil(func() bool { return ln.Waiting() == 1 })

	send(t, a, "Host: x\r\n\r\n"+getLease) // pipelined: a second request behind the first
	if got := reply(t, ar); got.status != 404 || !got.close {
		t.Errorf("served while another waits: got %d, close %v; want 404 that closes the connection", got.status, got.close)
	}
	if _, err := ar.ReadByte(); err == nil {
		t.Error("the pipelined request was answered; want the connection closed after the first")
	}
	if got := reply(t, br); got.status != 404 || got.code != "not_found" || got.close {
		t.Errorf("the waiting connection: got %d %s (close %v), want 404 keeping the connection", got.status, got.body, got.close)
	}

	// b is idle now; a normal client arrives and gets b's place.
	c, cr := dial(t, addr)
	send(t, c, getLease)
	if got := reply(t, cr); got.status != 404 || got.code != "not_found" {
		t.Errorf("a normal client: got %d %s, want 404 not_found", got.status, got.body)
	}
	if _, err := br.ReadByte(); err == nil {
		t.Error("the idle connection stayed open while another waited")
	}
}

// Errors net/http writes itself come back as the JSON envelope.
func TestNetHTTPErrorsAreJSON(t *testing.T) {
	t.Parallel()
	_, addr := serveLimited(t, httpserver.Limits{MaxHeaderBytes: 4 << 10})
	tests := []struct {
		name, raw, code, message string
		status                   int
	}{
		{"bad escape", "GET /v1/leases/%zz HTTP/1.1\r\nHost: x\r\n\r\n", "malformed_request",
			"the HTTP request is malformed (its request line, an escape in its path or a header); nothing was done", 400},
		{"raw space in the path", "GET /v1/leases/a b HTTP/1.1\r\nHost: x\r\n\r\n", "malformed_request",
			"the HTTP request is malformed (its request line, an escape in its path or a header); nothing was done", 400},
		{"no Host", "GET /v1/leases/k HTTP/1.1\r\n\r\n", "malformed_request",
			"the HTTP request is malformed: missing required Host header", 400},
		{"oversized headers", "GET /v1/leases/k HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 8<<10) + "\r\n\r\n",
			"headers_too_large", "the request's header section exceeds 4096 bytes", 431},
		{"unknown transfer coding", "POST /v1/acquire HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: zip\r\n\r\n",
			"not_implemented", "the request uses a transfer coding this server does not implement", 501},
		{"HTTP/2 preface over HTTP/1", "GET /v1/leases/k HTTP/2.0\r\nHost: x\r\n\r\n",
			"http_version_not_supported", "this server speaks HTTP/1.x only", 505},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, r := dial(t, addr)
			send(t, c, tc.raw)
			got := reply(t, r)
			var e struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			if err := json.Unmarshal([]byte(got.body), &e); err != nil {
				t.Fatalf("body %q is not JSON: %v", got.body, err)
			}
			if got.status != tc.status || got.code != tc.code || e.Error.Message != tc.message || !got.close ||
				got.header.Get("Content-Type") != "application/json" || got.header.Get("X-Request-Id") == "" {
				t.Errorf("got %d %v %s\nwant %d %s %q", got.status, got.header, got.body, tc.status, tc.code, tc.message)
			}
		})
	}
}

// A response whose bytes start like one of net/http's own errors (a stored
// object can hold anything) reaches the client unchanged.
func TestResponseThatLooksLikeANetHTTPError(t *testing.T) {
	t.Parallel()
	lookalike := "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request"
	first := strings.Repeat("x", 8<<10)
	second := lookalike + strings.Repeat("y", 16<<10)
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := httpserver.Listen(tcp, httpserver.Limits{})
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(first)+len(second)))
		_, _ = io.WriteString(w, first)
		http.NewResponseController(w).Flush() // the next write starts a write to the connection
		_, _ = io.WriteString(w, second)
	})
	srv := &http.Server{Handler: ln.Handler(h), ConnState: ln.ConnState, ConnContext: ln.ConnContext}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	c, r := dial(t, tcp.Addr().String())
	// A guard, not a measure: a rewritten body would leave the client
	// waiting for bytes that never come.
	if err := c.SetReadDeadline(time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	send(t, c, getLease)
	if got := reply(t, r); got.status != 200 || got.body != first+second {
		t.Errorf("got %d, %d bytes (starting %.40q at the second part); want 200 and the bytes as written",
			got.status, len(got.body), strings.TrimPrefix(got.body, first))
	}
}
