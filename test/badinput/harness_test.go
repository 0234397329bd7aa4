package badinput

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/redlease/redlease/internal/config"
	"github.com/redlease/redlease/internal/lambdafn"
	"github.com/redlease/redlease/internal/wire"
	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/api/httpserver"
	"github.com/redlease/redlease/pkg/observe"
)

// clientRequestID is sent on every request; the service must answer with
// its own id, never the client's.
const clientRequestID = "client-chosen-id"

// answer is one transport's response, normalised.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// rig is the system under test: the local server and the Lambda functions,
// all on one data directory.
type rig struct {
	dataDir string
	srvAddr string
	srvURL  string
	// fns are the deployed functions, by name (api.Routes says which
	// serves which route); catchAll serves every operation, as a function
	// behind a $default route would.
	fns      map[string]lambda.Handler
	catchAll lambda.Handler
}

func newRig(t *testing.T) *rig {
	t.Helper()
	ctx := context.Background()
	r := &rig{dataDir: t.TempDir(), fns: map[string]lambda.Handler{}}
	tokensFile := filepath.Join(t.TempDir(), "tokens.json")
	if err := os.WriteFile(tokensFile, []byte(tokensDocument()), 0o600); err != nil {
		t.Fatal(err)
	}
	// Every transport authenticates by bearer token from one document, so
	// that a row's principal is the same whichever way it travels.
	env := map[string]string{
		config.EnvBackend:    config.BackendFile,
		config.EnvDataDir:    r.dataDir,
		config.EnvLogLevel:   "error",
		config.EnvTokensFile: tokensFile,
	}
	getenv := func(k string) string { return env[k] }

	// The local server, wired as cmd/redlease's buildHTTP wires it (that
	// function is in package main and cannot be imported).
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		t.Fatal(err)
	}
	app, err := wire.Load(ctx, cfg, false) // the file backend needs no AWS
	if err != nil {
		t.Fatal(err)
	}
	if err := app.LoadAuth(ctx, observe.Discard()); err != nil || app.Auth == nil {
		t.Fatalf("LoadAuth: %v (auth %v)", err, app.Auth)
	}
	face, err := app.Face(ctx, observe.NewLogger(io.Discard, cfg.LogLevel), nil, wire.FaceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpserver.Handler(face))
	t.Cleanup(srv.Close)
	r.srvAddr, r.srvURL = srv.Listener.Addr().String(), srv.URL

	for _, fn := range api.Functions() {
		a, err := lambdafn.BuildAPI(ctx, getenv, io.Discard, fn)
		if err != nil {
			t.Fatalf("lambdafn.BuildAPI(%s): %v", fn, err)
		}
		r.fns[fn] = lambda.NewHandler(a.Handle)
	}
	a, err := lambdafn.BuildAPI(ctx, getenv, io.Discard, "")
	if err != nil {
		t.Fatalf("lambdafn.BuildAPI(all): %v", err)
	}
	r.catchAll = lambda.NewHandler(a.Handle)
	return r
}

// deployedRoute is the route of the deployed API (api.Routes) that API
// Gateway would match, or false when none matches (API Gateway answers
// those itself).
func deployedRoute(method, path string) (api.Route, bool) {
	for _, rt := range api.Routes() {
		if !slices.Contains(rt.Methods, method) {
			continue
		}
		prefix, _, greedy := rt.Param()
		if !greedy && path == rt.Path ||
			greedy && strings.HasPrefix(path, prefix) && len(path) > len(prefix) { // a greedy parameter needs at least one character
			return rt, true
		}
	}
	return api.Route{}, false
}

// routed is how API Gateway hands a matched route over: the template, and
// the greedy parameter's value if the route has one.
func routed(rt api.Route, path string) (template string, params map[string]string) {
	if prefix, name, greedy := rt.Param(); greedy {
		params = map[string]string{name: strings.TrimPrefix(path, prefix)}
	}
	return rt.Path, params
}

// eventPath is the path as an event can carry it: JSON strings hold no
// invalid UTF-8 (encoding/json would turn it into U+FFFD), so such bytes
// travel percent-encoded, as a URL carries them.
func eventPath(p string) string {
	if utf8.ValidString(p) {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if c := p[i]; c >= 0x80 {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// decodeHTTPAPI is a path as an HTTP API hands it to the function: every
// percent-escape decoded except %25, which stays (docs/api-gateway.md, as
// MiniStack builds rawPath), bytes that are no UTF-8 replaced by U+FFFD
// (an event is JSON); a bad escape stays as it is.
func decodeHTTPAPI(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); {
		if p[i] != '%' || i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
			b.WriteByte(p[i])
			i++
			continue
		}
		c := unhex(p[i+1])<<4 | unhex(p[i+2])
		if c == '%' {
			b.WriteString("%25")
		} else {
			b.WriteByte(c)
		}
		i += 3
	}
	return strings.ToValidUTF8(b.String(), "\uFFFD")
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// eventBody returns the body as API Gateway hands it over: as is when it is
// text, base64-encoded otherwise.
func eventBody(body string) (string, bool) {
	if utf8.ValidString(body) {
		return body, false
	}
	return base64.StdEncoding.EncodeToString([]byte(body)), true
}

// invokeV2 sends the request as an HTTP API payload 2.0 event through the
// Lambda entry point.
func (r *rig) invokeV2(t *testing.T, rq request, gwID string) answer {
	t.Helper()
	path := decodeHTTPAPI(eventPath(rq.path))
	rt, matched := deployedRoute(rq.method, rq.path)
	fn, routeKey := r.catchAll, "$default"
	var params map[string]string
	if matched {
		var template string
		template, params = routed(rt, path)
		fn, routeKey = r.fns[rt.Function], rq.method+" "+template
	}
	headers := map[string]string{"host": "abc123.execute-api.eu-west-1.amazonaws.com", "x-request-id": clientRequestID}
	if rq.ctype != "" {
		headers["content-type"] = rq.ctype
	}
	if a := rq.authorization(); a != "" {
		headers["authorization"] = a
	}
	for k, v := range rq.header {
		headers[strings.ToLower(k)] = v
	}
	body, b64 := eventBody(rq.body)
	ev := events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       routeKey,
		RawPath:        path,
		RawQueryString: rq.query,
		Headers:        headers,
		PathParameters: params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:  routeKey,
			Stage:     "$default",
			RequestID: gwID,
			HTTP:      events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: rq.method, Path: path, Protocol: "HTTP/1.1"},
		},
		Body:            body,
		IsBase64Encoded: b64,
	}
	return invoke(t, fn, ev)
}

// invokeV1 sends the request as a REST API proxy (payload 1.0) event.
// Unmatched requests arrive through a {proxy+} resource.
func (r *rig) invokeV1(t *testing.T, rq request, gwID string) answer {
	t.Helper()
	path := eventPath(rq.path)
	rt, matched := deployedRoute(rq.method, rq.path)
	fn, resource := r.catchAll, "/{proxy+}"
	params := map[string]string{"proxy": strings.TrimPrefix(path, "/")}
	if matched {
		fn = r.fns[rt.Function]
		resource, params = routed(rt, path)
	}
	headers := map[string]string{"Host": "q1w2e3.execute-api.eu-west-1.amazonaws.com", "X-Request-Id": clientRequestID}
	if rq.ctype != "" {
		headers["Content-Type"] = rq.ctype
	}
	if a := rq.authorization(); a != "" {
		headers["Authorization"] = a
	}
	for k, v := range rq.header {
		headers[k] = v
	}
	multi := map[string][]string{}
	for k, v := range headers {
		multi[k] = []string{v}
	}
	var query map[string][]string
	if rq.query != "" {
		q, err := url.ParseQuery(rq.query)
		if err != nil {
			t.Fatalf("row query %q: %v", rq.query, err)
		}
		query = q
	}
	body, b64 := eventBody(rq.body)
	ev := events.APIGatewayProxyRequest{
		Resource:                        resource,
		Path:                            path,
		HTTPMethod:                      rq.method,
		Headers:                         headers,
		MultiValueHeaders:               multi,
		PathParameters:                  params,
		MultiValueQueryStringParameters: query,
		RequestContext: events.APIGatewayProxyRequestContext{
			Stage: "prod", RequestID: gwID, HTTPMethod: rq.method,
			ResourcePath: resource, Path: "/prod" + path,
		},
		Body:            body,
		IsBase64Encoded: b64,
	}
	return invoke(t, fn, ev)
}

func invoke(t *testing.T, fn lambda.Handler, ev any) answer {
	t.Helper()
	payload, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	out, err := fn.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	var resp struct {
		StatusCode int               `json:"statusCode"`
		Headers    map[string]string `json:"headers"`
		Body       string            `json:"body"`
		B64        bool              `json:"isBase64Encoded"`
	}
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("proxy response %s: %v", out, err)
	}
	if resp.B64 {
		t.Errorf("response body is base64-encoded; API Gateway would hand the client base64")
	}
	h := http.Header{}
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	return answer{status: resp.StatusCode, header: h, body: []byte(resp.Body)}
}

// sendRaw writes the request byte for byte on a fresh TCP connection, so
// paths with "..", "//", raw bytes or bad escapes reach the server as sent.
func (r *rig) sendRaw(t *testing.T, rq request) answer {
	t.Helper()
	conn, err := net.Dial("tcp", r.srvAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	target := rq.path
	if rq.query != "" {
		target += "?" + rq.query
	}
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: redlease.test\r\nX-Request-Id: %s\r\nConnection: close\r\n",
		rq.method, target, clientRequestID)
	if rq.ctype != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n", rq.ctype)
	}
	if a := rq.authorization(); a != "" {
		fmt.Fprintf(&b, "Authorization: %s\r\n", a)
	}
	for k, v := range rq.header {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	switch {
	case rq.chunked:
		b.WriteString("Transfer-Encoding: chunked\r\n\r\n")
		for rest := rq.body; rest != ""; {
			n := min(len(rest), 4096)
			fmt.Fprintf(&b, "%x\r\n%s\r\n", n, rest[:n])
			rest = rest[n:]
		}
		b.WriteString("0\r\n\r\n")
	case rq.body != "" || rq.method != http.MethodGet:
		fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(rq.body), rq.body)
	default:
		b.WriteString("\r\n")
	}
	if _, err := conn.Write(b.Bytes()); err != nil {
		t.Fatalf("write request: %v", err)
	}
	var sent *http.Request
	if rq.method == http.MethodHead {
		sent = &http.Request{Method: http.MethodHead} // the answer has no body to read
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), sent)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response body: %v", err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: body}
}

// snapshot maps every path under dir to its content's hash ("dir" for a
// directory), so a new empty directory or lock file counts as a change too.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	snap := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		switch {
		case d.IsDir():
			snap[rel] = "dir"
		case d.Type().IsRegular():
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			snap[rel] = hex.EncodeToString(sum[:])
		default:
			snap[rel] = "type " + d.Type().String()
		}
		return nil
	})
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	return snap
}

// diffSnapshots describes what changed, or returns "".
func diffSnapshots(before, after map[string]string) string {
	var lines []string
	for p, h := range after {
		switch old, ok := before[p]; {
		case !ok:
			lines = append(lines, "added "+p)
		case old != h:
			lines = append(lines, "changed "+p)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			lines = append(lines, "removed "+p)
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "; ")
}

// errorBody is the contract's error shape; decoding it with unknown fields
// disallowed pins the shape down.
type errorBody struct {
	Error struct {
		Code         string          `json:"code"`
		Message      string          `json:"message"`
		Field        string          `json:"field"`
		Current      json.RawMessage `json:"current"`
		CurrentTerm  uint64          `json:"current_term"`
		RetryAfterMs uint64          `json:"retry_after_ms"`
	} `json:"error"`
}

// check asserts one answer against want, plus what every answer carries.
// gwID is the gateway's request id the answer must echo ("" for the local
// server, which makes its own).
func check(t *testing.T, leg string, got answer, w want, gwID, dataDir string) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("%s: "+format+"\n  answer: %d %v %s", append([]any{leg}, append(args, got.status, got.header, got.body)...)...)
	}
	if got.status != w.status {
		fail("status %d, want %d", got.status, w.status)
		return
	}
	if w.preHandler {
		return // Go's HTTP parser answered; there is no contract body
	}
	if w.head {
		// RedDB's `curl -X HEAD` needs Content-Length: 0 on every answer.
		if cl := got.header.Get("Content-Length"); cl != "0" || len(got.body) != 0 {
			fail("HEAD answer with Content-Length %q and %d body bytes, want 0 and none", cl, len(got.body))
		}
		if code := got.header.Get("X-Redlease-Error"); code != w.code {
			fail("X-Redlease-Error %q, want %q", code, w.code)
		}
		return
	}
	if ct := got.header.Get("Content-Type"); ct != "application/json" {
		fail("Content-Type %q, want application/json", ct)
	}
	if cc := got.header.Get("Cache-Control"); cc != "no-store" {
		fail("Cache-Control %q, want no-store", cc)
	}
	switch id := got.header.Get(api.HeaderRequestID); {
	case id == "" || id == clientRequestID:
		fail("X-Request-Id %q: want the service's own id", id)
	case gwID != "" && id != gwID:
		fail("X-Request-Id %q, want API Gateway's %q", id, gwID)
	}
	if allow := got.header.Get("Allow"); allow != w.allow {
		fail("Allow %q, want %q", allow, w.allow)
	}
	if challenge := got.header.Get("WWW-Authenticate"); challenge != w.challenge {
		fail("WWW-Authenticate %q, want %q", challenge, w.challenge)
	}
	if got.status == http.StatusServiceUnavailable && got.header.Get("Retry-After") == "" {
		fail("503 without Retry-After")
	}
	if bytes.Contains(got.body, []byte(dataDir)) {
		fail("the answer leaks the data directory")
	}
	if w.code == "" { // a success: the lease, nothing else
		var ok struct {
			Lease map[string]any `json:"lease"`
		}
		dec := json.NewDecoder(bytes.NewReader(got.body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&ok); err != nil || len(ok.Lease) == 0 {
			fail("want {\"lease\":{...}}: %v", err)
		}
		return
	}
	var eb errorBody
	dec := json.NewDecoder(bytes.NewReader(got.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&eb); err != nil {
		fail("body is not the contract's error object: %v", err)
		return
	}
	e := eb.Error
	if e.Code != w.code || e.Field != w.field {
		fail("code %q field %q, want code %q field %q", e.Code, e.Field, w.code, w.field)
	}
	if strings.TrimSpace(e.Message) == "" {
		fail("empty message")
	}
	switch w.code {
	case api.CodeHeld:
		if len(e.Current) == 0 || e.RetryAfterMs == 0 {
			fail("held without current and retry_after_ms")
		}
	case api.CodeFenced:
		if e.CurrentTerm != w.currentTerm {
			fail("current_term %d, want %d", e.CurrentTerm, w.currentTerm)
		}
	case api.CodeStale:
		if (len(e.Current) != 0) != w.current {
			fail("current present = %v, want %v", len(e.Current) != 0, w.current)
		}
	}
}
