// Package smoke runs the real Lambda bootstraps under the AWS Lambda
// Runtime Interface Emulator (RIE): the same binaries, built with the same
// flags as for deployment, invoked with the sample events in events/.
//
// It is gated: set REDLEASE_RIE to the aws-lambda-rie binary
// (scripts/rie-smoke.sh installs a pinned one into .tools/bin and sets it).
// Without it the test skips. REDLEASE_LAMBDA_DIR, when set, names prebuilt
// bootstraps ({dir}/{arm64,amd64}/{function}/bootstrap) to use instead of
// building them.
package smoke

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redlease/redlease/internal/lambdafn"
	"github.com/redlease/redlease/internal/syncbuf"
	"github.com/redlease/redlease/pkg/auth"
)

var repoRoot = filepath.Join("..", "..")

// build compiles one function exactly as for deployment.
func build(t *testing.T, fn, arch, out string) int64 {
	t.Helper()
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w",
		"-o", out, "./functions/"+fn)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch, "GOWORK=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s/%s: %v\n%s", arch, fn, err, b)
	}
	st, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// emulator is one RIE process serving one bootstrap.
type emulator struct {
	fn   string
	addr string
	cmd  *exec.Cmd
	out  *syncbuf.Buffer
}

// start runs the RIE on free loopback ports (both its invoke API and the
// Runtime API it gives the function) and waits until it accepts
// connections. The process and the bootstrap it spawns are stopped by pid
// (their own process group) when the test ends.
func start(t *testing.T, rie, fn, bootstrap string, env []string) *emulator {
	t.Helper()
	e := &emulator{fn: fn, addr: freePort(t), out: &syncbuf.Buffer{}}
	e.cmd = exec.Command(rie, "--log-level", "info",
		"--runtime-interface-emulator-address", e.addr,
		"--runtime-api-address", freePort(t), bootstrap)
	e.cmd.Dir = filepath.Dir(bootstrap)
	e.cmd.Env = env
	e.cmd.Stdout, e.cmd.Stderr = e.out, e.out
	e.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := e.cmd.Start(); err != nil {
		t.Fatalf("start RIE for %s: %v", fn, err)
	}
	t.Cleanup(func() { e.stop(t) })
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", e.addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("RIE for %s never listened on %s:\n%s", fn, e.addr, e.out.String())
		}
		time.Sleep(50 * time.Millisecond) // polling a process's readiness, not a lease's expiry
	}
}

func (e *emulator) stop(t *testing.T) {
	pgid := e.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- e.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-done
	}
	if t.Failed() {
		t.Logf("RIE output for %s:\n%s", e.fn, e.out.String())
	}
}

// invoke posts an event and returns the function's answer. The RIE
// answers 200 even when the function failed, so callers check the body.
func (e *emulator) invoke(t *testing.T, payload []byte) ([]byte, time.Duration) {
	t.Helper()
	url := "http://" + e.addr + "/2015-03-31/functions/function/invocations"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("invoke %s: %v", e.fn, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return body, time.Since(start)
}

type proxyResponse struct {
	StatusCode      int               `json:"statusCode"`
	Headers         map[string]string `json:"headers"`
	Body            string            `json:"body"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
	ErrorMessage    string            `json:"errorMessage"`
}

func event(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	initDuration = regexp.MustCompile(`Init Duration: ([0-9.]+) ms`)
	initReport   = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)
)

func TestLambdaBootstrapsUnderRIE(t *testing.T) {
	rie := os.Getenv("REDLEASE_RIE")
	if rie == "" {
		t.Skip("set REDLEASE_RIE to the aws-lambda-rie binary (make rie-smoke)")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the bootstraps are linux binaries")
	}
	fns := lambdafn.Functions()

	// Prebuilt bootstraps (make lambdas) when REDLEASE_LAMBDA_DIR names
	// them, else built here with the same flags.
	bin := os.Getenv("REDLEASE_LAMBDA_DIR")
	prebuilt := bin != ""
	if !prebuilt {
		bin = t.TempDir()
	}
	host := runtime.GOARCH
	bootstraps := map[string]string{}
	for _, arch := range []string{"arm64", "amd64"} {
		for _, fn := range fns {
			out := filepath.Join(bin, arch, fn, "bootstrap")
			var size int64
			if prebuilt {
				st, err := os.Stat(out)
				if err != nil {
					t.Fatalf("prebuilt bootstrap: %v", err)
				}
				size = st.Size()
			} else {
				size = build(t, fn, arch, out)
			}
			t.Logf("bootstrap size %s/%s: %d bytes (%.1f MiB)", arch, fn, size, float64(size)/(1<<20))
			if arch == host {
				bootstraps[fn] = out
			}
		}
	}
	if len(bootstraps) == 0 {
		t.Skipf("no bootstrap for the host architecture %s", host)
	}

	dataDir := t.TempDir()
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"REDLEASE_BACKEND=file",
		"REDLEASE_DATA_DIR=" + dataDir,
		"REDLEASE_LOG_LEVEL=info",
		// The sweep loads the SDK configuration and would publish to
		// EventBridge: keep it on a closed loopback port and off any
		// real credentials. Nothing here expires unreleased, so it
		// publishes nothing.
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=smoke", "AWS_SECRET_ACCESS_KEY=smoke",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_ENDPOINT_URL=http://127.0.0.1:9",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"REDLEASE_EVENT_BUS=redlease-smoke",
		// The RedDB face authenticates the reddb-* events' bearer token.
		"REDLEASE_TOKENS_FILE=" + sampleTokens(t),
	}
	emus := map[string]*emulator{}
	for _, fn := range fns {
		emus[fn] = start(t, rie, fn, bootstraps[fn], append(env, "AWS_LAMBDA_FUNCTION_NAME=redlease-"+fn))
	}

	steps := []struct {
		fn, event string
		status    int
		contains  []string
	}{
		{"acquire", "acquire.json", 200, []string{`"holder_id":"reddb-0-1"`, `"generation":1,`, `"term":1`}},
		{"acquire", "lease-get.json", 404, []string{`"code":"not_found"`}}, // one route per function
		{"acquire", "bad-malformed-json.json", 400, []string{`"code":"invalid_request"`, `"field":"body"`}},
		{"acquire", "bad-oversized-body.json", 413, []string{`"code":"too_large"`}},
		{"acquire", "acquire-rest.json", 409, []string{`"code":"held"`, `"current":{`, `"retry_after_ms":`}},
		{"refresh", "refresh.json", 200, []string{`"holder_id":"reddb-0-1"`, `"generation":1,`}},
		{"refresh", "bad-missing-field.json", 400, []string{`"field":"generation"`}},
		{"lease", "lease-get.json", 200, []string{`"state":"held"`, `"database_key":"clusters/dev/data.rdb"`}},
		// The literal key "clusters%2Fdev%2Fdata.rdb" is not the held lease's.
		{"lease", "lease-get-encoded.json", 404, []string{`"code":"not_found"`}},
		{"lease", "lease-get-encoded-rest.json", 404, []string{`"code":"not_found"`}},
		{"release", "release.json", 200, []string{`"released_at_ms":`, `"generation":1,`}},
		{"lease", "lease-get.json", 200, []string{`"state":"released"`, `"expires_in_ms":0`}},
		{"acquire", "acquire-rest.json", 200, []string{`"holder_id":"reddb-1-1"`, `"generation":2,`}},
		// The path routes, the IAM principal and the break-glass function.
		{"acquire", "acquire-key.json", 200, []string{`"database_key":"tenants/a/db.rdb"`, `"generation":1,`}},
		{"refresh", "refresh-key-other-principal.json", 403, []string{`"code":"forbidden"`}},
		{"refresh", "refresh-key.json", 200, []string{`"holder_id":"reddb-a-1"`}},
		{"admin", "force-release.json", 200, []string{`"holder_principal":"arn:aws:sts::123456789012:assumed-role/reddb-tenant-a"`, `"released_at_ms":`}},
		{"release", "release-key.json", 200, []string{`"released_at_ms":`}}, // released twice: the same record
	}
	first := map[string]time.Duration{}
	for _, s := range steps {
		body, took := emus[s.fn].invoke(t, event(t, s.event))
		if _, seen := first[s.fn]; !seen {
			first[s.fn] = took
		}
		var resp proxyResponse
		if err := json.Unmarshal(body, &resp); err != nil || resp.ErrorMessage != "" {
			t.Errorf("%s %s: not an API Gateway response: %s", s.fn, s.event, body)
			continue
		}
		if resp.StatusCode != s.status || resp.Headers["X-Request-Id"] == "" || resp.Headers["Content-Type"] != "application/json" {
			t.Errorf("%s %s: status %d headers %v, want %d with the contract headers; body %s",
				s.fn, s.event, resp.StatusCode, resp.Headers, s.status, resp.Body)
		}
		for _, c := range s.contains {
			if !strings.Contains(resp.Body, c) {
				t.Errorf("%s %s: body %s lacks %s", s.fn, s.event, resp.Body, c)
			}
		}
	}
	checkRedDB(t, emus["reddb"], first)
	if _, ok := emus["sweep"]; ok {
		body, took := emus["sweep"].invoke(t, event(t, "sweep-scheduled.json"))
		first["sweep"] = took
		var res map[string]any
		if err := json.Unmarshal(body, &res); err != nil || res["errorMessage"] != nil || res["listed"] != 2.0 || res["held"] != 1.0 || res["reported"] != 0.0 {
			t.Errorf("sweep: %s, want two leases listed (one held, one released), nothing reported, no error", body)
		}
	}

	// Cold start: the RIE logs the init phase ("INIT REPORT(durationMs:
	// ...)": from starting the bootstrap to its first call for work, so
	// config, SDK and store set-up) and puts an Init Duration in the first
	// REPORT line; the first invoke's round trip includes the process
	// start. A warm invoke shows what is left.
	_, warmTook := emus["lease"].invoke(t, event(t, "lease-get.json"))
	for _, fn := range fns {
		out := emus[fn].out.String()
		t.Logf("cold start %s: INIT REPORT %s ms, REPORT Init Duration %s ms; first invoke round trip %v",
			fn, match(initReport, out), match(initDuration, out), first[fn].Round(time.Millisecond))
	}
	t.Logf("warm invoke round trip lease: %v", warmTook.Round(time.Microsecond))
	if out := emus["acquire"].out.String(); strings.Contains(out, "5d672d79c15b13162d9279b0855cfba6") {
		t.Error("a function logged the Authorization header")
	}
}

func match(re *regexp.Regexp, s string) string {
	if m := re.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return "?"
}

// checkRedDB drives the RedDB face's function with function URL events,
// after the JSON API's steps left the lease of clusters/dev/data.rdb held
// by reddb-1-1 (an IAM principal): the lease object reads as that record
// with an ETag and Content-Length: 0, an upload to that database by the
// token's principal is fenced, and a binary data object of a database
// without a lease (base64 in the event, as a function URL delivers RedDB's
// form-typed bodies) comes back byte for byte, base64-encoded.
func checkRedDB(t *testing.T, e *emulator, first map[string]time.Duration) {
	t.Helper()
	if e == nil {
		t.Error("no emulator for the reddb function")
		return
	}
	call := func(name string) proxyResponse {
		body, took := e.invoke(t, event(t, name))
		if _, seen := first["reddb"]; !seen {
			first["reddb"] = took
		}
		var resp proxyResponse
		if err := json.Unmarshal(body, &resp); err != nil || resp.ErrorMessage != "" {
			t.Fatalf("reddb %s: not a function URL response: %s", name, body)
		}
		return resp
	}
	head := call("reddb-head-lease.json")
	if head.StatusCode != 200 || head.Headers["ETag"] == "" || head.Headers["Content-Length"] != "0" || head.Body != "" {
		t.Errorf("reddb HEAD of the lease object: %+v, want 200 with an ETag, Content-Length: 0 and no body", head)
	}
	fenced := call("reddb-put-fenced.json")
	if fenced.StatusCode != 403 || !strings.Contains(fenced.Body, `"code":"held_by_other"`) {
		t.Errorf("reddb PUT under another principal's live lease: %d %s, want 403 held_by_other", fenced.StatusCode, fenced.Body)
	}
	put := call("reddb-put-data.json")
	if put.StatusCode != 200 || put.Headers["ETag"] == "" {
		t.Errorf("reddb PUT of a data object: %+v, want 200 with an ETag", put)
	}
	get := call("reddb-get-data.json")
	var sent struct {
		Body string `json:"body"`
	}
	if err := json.Unmarshal(event(t, "reddb-put-data.json"), &sent); err != nil {
		t.Fatal(err)
	}
	if get.StatusCode != 200 || !get.IsBase64Encoded || get.Body != sent.Body || get.Headers["ETag"] != put.Headers["ETag"] {
		t.Errorf("reddb GET of the data object: status %d, base64 %v, same bytes %v, ETag %q (PUT gave %q)",
			get.StatusCode, get.IsBase64Encoded, get.Body == sent.Body, get.Headers["ETag"], put.Headers["ETag"])
	}
	list := call("reddb-list.json")
	if list.StatusCode != 200 || list.Body != "clusters/free/data.rdb\n" {
		t.Errorf("reddb list: %d %q, want the one data object", list.StatusCode, list.Body)
	}
}

// sampleTokens writes a tokens document in which the reddb-* sample
// events' bearer token is principal "sample-reddb", on every key.
func sampleTokens(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tokens.json")
	doc := `{"tokens":[{"name":"sample-reddb","sha256":"` + auth.Hash("eyJhbGciOiJIUzI1NiJ9.c2FtcGxl.c2lnbmF0dXJl") + `","prefixes":[""]}]}`
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
