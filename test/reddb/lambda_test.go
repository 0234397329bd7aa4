//go:build reddb

package reddb

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/redlease/redlease/internal/lambdafn"
	"github.com/redlease/redlease/internal/reddbtest"
	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/lease"
)

// invocationLimit is what a synchronous Lambda invocation carries each
// way; the function URL front end refuses larger requests itself.
const invocationLimit = 6 * 1024 * 1024

// functionURL is the RedDB function behind an in-test HTTP server that
// does what a Lambda function URL does: every request becomes a payload
// 2.0 event (route $default, the body base64-encoded unless its type is
// text, as AWS delivers RedDB's form-typed bodies), the event goes through
// the real handler as JSON, and the JSON response becomes the HTTP answer
// (a base64 body decoded).
type functionURL struct {
	*httptest.Server
	handler lambda.Handler
	dataDir string
	seq     int
}

func newFunctionURL(t *testing.T) *functionURL {
	t.Helper()
	f := &functionURL{dataDir: t.TempDir()}
	env := map[string]string{"REDLEASE_BACKEND": "file", "REDLEASE_DATA_DIR": f.dataDir, "REDLEASE_LOG_LEVEL": "warn",
		"REDLEASE_TOKENS_FILE": writeTokens(t, all)}
	a, err := lambdafn.BuildAPI(context.Background(), func(k string) string { return env[k] }, io.Discard, api.FnRedDB)
	if err != nil {
		t.Fatal(err)
	}
	f.handler = lambda.NewHandler(a.Handle)
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *functionURL) backendURL() string { return f.URL + "/v1/reddb" }

// textType is what AWS hands the function as text rather than base64.
func textType(ct string) bool {
	ct = strings.ToLower(strings.TrimSpace(strings.Split(ct, ";")[0]))
	return strings.HasPrefix(ct, "text/") || ct == "application/json" || ct == "application/xml" || ct == "application/javascript"
}

func (f *functionURL) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	f.seq++
	headers := map[string]string{}
	for k, vs := range r.Header {
		headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: r.URL.EscapedPath(), RawQueryString: r.URL.RawQuery, Headers: headers,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: "$default", Stage: "$default", RequestID: "url-" + strconv.Itoa(f.seq),
			// A function URL's domain: its rawPath is as the client encoded it.
			DomainName: "r3ddbfunctionurlid0000000000000a.lambda-url.eu-west-1.on.aws",
			HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: r.Method, Path: r.URL.Path, Protocol: "HTTP/1.1"},
		},
	}
	if len(body) > 0 {
		if textType(r.Header.Get("Content-Type")) {
			ev.Body = string(body)
		} else {
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if len(payload) > invocationLimit {
		http.Error(w, "Request must be smaller than 6291456 bytes", http.StatusRequestEntityTooLarge)
		return
	}
	out, err := f.handler.Invoke(r.Context(), payload)
	if err != nil {
		http.Error(w, "invocation failed", http.StatusBadGateway)
		return
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		http.Error(w, "bad function response", http.StatusBadGateway)
		return
	}
	answer := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if answer, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			http.Error(w, "bad base64 from the function", http.StatusBadGateway)
			return
		}
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	if r.Method != http.MethodHead {
		w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
	}
	w.WriteHeader(resp.StatusCode)
	if r.Method != http.MethodHead {
		_, _ = w.Write(answer)
	}
}

func (f *functionURL) record(t *testing.T) lease.Record {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(f.dataDir, "leases", filepath.FromSlash(databaseKey)+lease.ObjectSuffix))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := lease.DecodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// Scenario 7: the same life cycle through the RedDB function's Lambda
// handler, as a function URL invokes it: RedDB holds, a second instance is
// refused, the binary data file goes up base64-encoded and lands byte for
// byte, the release keeps the generation, and the next instance restores
// the data through base64 responses and takes generation 2.
func TestThroughTheLambdaFunction(t *testing.T) {
	fu := newFunctionURL(t)
	a := holding(t, fu.backendURL(), tokA, "red-a")
	if r := fu.record(t); r.HolderID != "red-a" || r.Generation != 1 || r.TTLMs != 3000 {
		t.Fatalf("stored %+v, want red-a at generation 1 with ttl_ms 3000", r)
	}
	b := startRed(t, fu.backendURL(), tokB, "red-b")
	if exit := b.MustWait(bootTimeout); exit.Code == 0 || !strings.Contains(exit.Stderr+exit.Stdout, "held by 'red-a'") {
		t.Fatalf("red-b: %s, want refused as held by red-a", exit)
	}

	a.MustExec("CREATE TABLE t (id INT, v TEXT)")
	a.MustExec("INSERT INTO t (id, v) VALUES (7, 'through lambda')")
	if code, body, err := a.Checkpoint(context.Background()); err != nil || code != http.StatusOK {
		t.Fatalf("checkpoint: %d %s %v", code, body, err)
	}
	stored, err := os.ReadFile(filepath.Join(fu.dataDir, "clusters", "dev", "data.rdb"))
	if err != nil {
		t.Fatalf("data.rdb not stored: %v", err)
	}
	local, err := os.ReadFile(a.DataPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stored, local) {
		t.Fatalf("stored data.rdb (%d bytes) differs from RedDB's file (%d bytes)", len(stored), len(local))
	}
	if bytes.Equal(bytes.ToValidUTF8(stored, nil), stored) {
		t.Logf("note: this data.rdb happens to be valid UTF-8")
	}

	a.Drain()
	waitFor(t, "the released marker", 15*time.Second, func() bool { return fu.record(t).Released() })
	a.WaitLease(reddbtest.LeaseNotHeld, 10*time.Second)
	c := holding(t, fu.backendURL(), tokC, "red-c")
	if r := fu.record(t); r.HolderID != "red-c" || r.Generation != 2 {
		t.Fatalf("after the release: %+v, want red-c at generation 2", r)
	}
	out := c.MustExec("SELECT v FROM t WHERE id = 7")
	if !strings.Contains(string(out), "through lambda") {
		t.Fatalf("red-c restored no row from the uploaded data.rdb: %s", out)
	}
}
