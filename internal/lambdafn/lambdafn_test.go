package lambdafn

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/auth"
)

func event(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sampleTokens writes a tokens document with the sample events' bearer
// token (events/reddb-*.json), as the deployed RedDB function gets one
// from its tokens bucket, and returns its path.
func sampleTokens(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tokens.json")
	doc := `{"tokens":[{"name":"sample-reddb","sha256":"` + auth.Hash("eyJhbGciOiJIUzI1NiJ9.c2FtcGxl.c2lnbmF0dXJl") + `","prefixes":[""]}]}`
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

type response struct {
	StatusCode int               `json:"statusCode"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
}

func invoke(t *testing.T, h lambda.Handler, payload []byte) response {
	t.Helper()
	out, err := h.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	var r response
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// A function built from the environment serves its own route only, and
// writes JSON logs and EMF metrics to its output.
func TestBuildServesOneRoute(t *testing.T) {
	t.Parallel()
	getenv := func(k string) string {
		return map[string]string{"REDLEASE_BACKEND": "file", "REDLEASE_DATA_DIR": t.TempDir()}[k]
	}
	var out bytes.Buffer
	a, err := BuildAPI(context.Background(), getenv, &out, api.FnAcquire)
	if err != nil {
		t.Fatalf("BuildAPI: %v", err)
	}
	h := lambda.NewHandler(a.Handle)
	if r := invoke(t, h, event(t, "acquire.json")); r.StatusCode != 200 || !strings.Contains(r.Body, `"generation":1`) {
		t.Errorf("acquire = %d %s, want 200 generation 1", r.StatusCode, r.Body)
	}
	if r := invoke(t, h, event(t, "lease-get.json")); r.StatusCode != 404 {
		t.Errorf("read on the acquire function = %d %s, want 404", r.StatusCode, r.Body)
	}
	if !strings.Contains(out.String(), `"msg":"request"`) || !strings.Contains(out.String(), `"CloudWatchMetrics"`) {
		t.Errorf("output lacks the log or EMF line:\n%s", out.String())
	}
}

func TestBuildRefusesBadConfig(t *testing.T) {
	t.Parallel()
	getenv := func(k string) string { return map[string]string{"REDLEASE_BACKEND": "s3"}[k] }
	if _, err := BuildAPI(context.Background(), getenv, &bytes.Buffer{}, api.FnAcquire); err == nil ||
		!strings.Contains(err.Error(), "REDLEASE_BUCKET") {
		t.Errorf("BuildAPI without a bucket: %v, want an error naming REDLEASE_BUCKET", err)
	}
}

// API builds every function that serves a route and no other; a name that
// is none fails at init with one JSON line, as every start-up failure does.
func TestAPIKnowsEveryRouteFunctionAndNoOther(t *testing.T) {
	t.Parallel()
	getenv := func(k string) string {
		return map[string]string{"REDLEASE_BACKEND": "memory"}[k]
	}
	for _, fn := range api.Functions() {
		if h, err := API(context.Background(), fn, getenv, &bytes.Buffer{}); err != nil || h == nil {
			t.Errorf("API(%q) = %v, %v; want a handler", fn, h, err)
		}
	}
	if _, err := API(context.Background(), FnSweep, getenv, &bytes.Buffer{}); err == nil {
		t.Error("API(sweep): nil error; the sweep serves no route")
	}
	_, err := API(context.Background(), "delete", getenv, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), `unknown function "delete"`) {
		t.Fatalf("API(delete) = %v, want unknown function", err)
	}
	var out bytes.Buffer
	initFailed(&out, "delete", err)
	var line map[string]any
	if err := json.Unmarshal(out.Bytes(), &line); err != nil || strings.Count(out.String(), "\n") != 1 {
		t.Fatalf("init failure output %q: want one JSON line (%v)", out.String(), err)
	}
	if line["level"] != "ERROR" || line["msg"] != "init failed" || line["function"] != "delete" ||
		!strings.Contains(line["error"].(string), "unknown function") {
		t.Errorf("init failure line %v: want level ERROR, msg init failed, the function and the error", line)
	}
}

func TestFunctionsAreTheRoutesFunctionsAndTheSweep(t *testing.T) {
	t.Parallel()
	want := []string{api.FnAcquire, api.FnRefresh, api.FnRelease, api.FnLease, api.FnAdmin, api.FnRedDB, FnSweep}
	if got := Functions(); !slices.Equal(got, want) {
		t.Errorf("Functions() = %q, want %q", got, want)
	}
}

// The admin function alone makes IAM callers admins: the break-glass event
// is refused on a function that serves every route and served on "admin".
func TestOnlyTheAdminFunctionBreaksGlass(t *testing.T) {
	t.Parallel()
	build, _ := fileFunctions(t)
	if r := invoke(t, build(api.FnAcquire), event(t, "acquire-key.json")); r.StatusCode != 200 {
		t.Fatalf("acquire = %d %s", r.StatusCode, r.Body)
	}
	if r := invoke(t, build(""), event(t, "force-release.json")); r.StatusCode != 403 {
		t.Errorf("break glass on a function serving every route = %d %s, want 403", r.StatusCode, r.Body)
	}
	if r := invoke(t, build(api.FnAdmin), event(t, "force-release.json")); r.StatusCode != 200 || !strings.Contains(r.Body, `"holder_principal":"arn:aws:sts::123456789012:assumed-role/reddb-tenant-a"`) {
		t.Errorf("break glass on the admin function = %d %s, want 200 naming tenant a's role", r.StatusCode, r.Body)
	}
}

// A function configured with a tokens document authenticates unsigned
// requests by bearer token (the RedDB face's functions start this way); a
// bad document fails the start-up, naming the entry.
func TestBuildLoadsBearerTokens(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens.json")
	write := func(doc string) {
		if err := os.WriteFile(tokens, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	getenv := func(k string) string {
		return map[string]string{"REDLEASE_BACKEND": "memory", "REDLEASE_TOKENS_FILE": tokens}[k]
	}
	write(`{"tokens":[{"name":"tenant-dev","sha256":"` + auth.Hash("dev-token-0123456789") + `","prefixes":["clusters/"]}]}`)
	a, err := BuildAPI(context.Background(), getenv, &bytes.Buffer{}, api.FnAcquire)
	if err != nil {
		t.Fatalf("BuildAPI: %v", err)
	}
	h := lambda.NewHandler(a.Handle)
	unsigned := func(authorization string) []byte {
		var ev map[string]any
		if err := json.Unmarshal(event(t, "acquire.json"), &ev); err != nil {
			t.Fatal(err)
		}
		delete(ev["requestContext"].(map[string]any), "authorizer")
		ev["headers"].(map[string]any)["authorization"] = authorization
		b, _ := json.Marshal(ev)
		return b
	}
	if r := invoke(t, h, unsigned("Bearer dev-token-0123456789")); r.StatusCode != 200 {
		t.Errorf("bearer acquire = %d %s, want 200", r.StatusCode, r.Body)
	}
	if r := invoke(t, h, unsigned("Bearer guessed-0123456789")); r.StatusCode != 401 || r.Headers["WWW-Authenticate"] != `Bearer realm="redlease", error="invalid_token"` {
		t.Errorf("unknown token = %d %v %s, want 401 with an invalid_token challenge", r.StatusCode, r.Headers, r.Body)
	}
	write(`{"tokens":[{"name":"tenant-dev","sha256":"nope","prefixes":["clusters/"]}]}`)
	if _, err := BuildAPI(context.Background(), getenv, &bytes.Buffer{}, api.FnAcquire); err == nil ||
		!strings.Contains(err.Error(), `tokens[0] "tenant-dev"`) {
		t.Errorf("BuildAPI with a bad tokens document: %v, want an error naming tokens[0]", err)
	}
}

// The reddb function serves the RedDB face and nothing of the JSON API
// (its function URL has no IAM in front); the JSON API's functions serve
// none of the RedDB face.
func TestRedDBFunctionServesOnlyItsFace(t *testing.T) {
	t.Parallel()
	build, _ := fileFunctions(t)
	red, acquire := build(api.FnRedDB), build(api.FnAcquire)
	if r := invoke(t, red, event(t, "acquire.json")); r.StatusCode != 404 {
		t.Errorf("acquire through the reddb function = %d %s, want 404", r.StatusCode, r.Body)
	}
	if r := invoke(t, acquire, event(t, "reddb-get-data.json")); r.StatusCode != 404 {
		t.Errorf("RedDB GET through the acquire function = %d %s, want 404", r.StatusCode, r.Body)
	}
	if r := invoke(t, red, event(t, "reddb-head-lease.json")); r.StatusCode != 404 || r.Headers["Content-Length"] != "0" {
		t.Errorf("HEAD of an absent lease object = %d %v, want 404 with Content-Length: 0", r.StatusCode, r.Headers)
	}
}

// The reddb function's URL has no IAM in front (auth type NONE): a
// request without a bearer token, or with one the tokens document does
// not hold, is refused 401 with a bearer challenge, and writes nothing.
func TestRedDBFunctionRefusesUnauthenticated(t *testing.T) {
	t.Parallel()
	build, dir := fileFunctions(t)
	h := build(api.FnRedDB)
	for _, c := range []struct {
		name, authorization, challenge string
	}{
		{"no token", "", `Bearer realm="redlease"`},
		{"unknown token", "Bearer guessed-0123456789", `Bearer realm="redlease", error="invalid_token"`},
	} {
		for _, name := range []string{"reddb-put-data.json", "reddb-get-data.json", "reddb-head-lease.json", "reddb-list.json"} {
			var ev map[string]any
			if err := json.Unmarshal(event(t, name), &ev); err != nil {
				t.Fatal(err)
			}
			headers := ev["headers"].(map[string]any)
			delete(headers, "authorization")
			if c.authorization != "" {
				headers["authorization"] = c.authorization
			}
			payload, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			if r := invoke(t, h, payload); r.StatusCode != 401 || r.Headers["WWW-Authenticate"] != c.challenge {
				t.Errorf("%s, %s: %d %v %s; want 401 with the challenge %s", c.name, name, r.StatusCode, r.Headers, r.Body, c.challenge)
			}
		}
	}
	// The file backend makes its directories at start-up; no object is in them.
	err := filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			t.Errorf("a refused request stored %s", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// fileFunctions builds functions by name over one file backend in a fresh
// directory, with the sample events' bearer token in a tokens document:
// functions built by one call share their leases and objects, in dir.
func fileFunctions(t *testing.T) (build func(fn string) lambda.Handler, dir string) {
	t.Helper()
	dir, tokens := t.TempDir(), sampleTokens(t)
	getenv := func(k string) string {
		return map[string]string{"REDLEASE_BACKEND": "file", "REDLEASE_DATA_DIR": dir, "REDLEASE_TOKENS_FILE": tokens}[k]
	}
	return func(fn string) lambda.Handler {
		t.Helper()
		a, err := BuildAPI(context.Background(), getenv, &bytes.Buffer{}, fn)
		if err != nil {
			t.Fatalf("BuildAPI(%q): %v", fn, err)
		}
		return lambda.NewHandler(a.Handle)
	}, dir
}
