//go:build reddb

package reddb

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redlease/redlease/internal/reddbtest"
	"github.com/redlease/redlease/internal/syncbuf"
	"github.com/redlease/redlease/pkg/lease"
)

// The RedDB instances of a test start one after another, never in
// parallel: each boot costs a second or two of CPU on a shared machine,
// and lease timing is what the tests observe.

const (
	databaseKey = "clusters/dev/data.rdb"
	ttl         = 3 * time.Second // RedDB refreshes every max(ttl/3, 1 s)
	bootTimeout = 90 * time.Second
)

// redleaseBin is the redlease binary built once per test binary.
var (
	buildOnce   sync.Once
	redleaseBin string
	buildErr    error
)

func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "redlease-reddb-test")
		if err != nil {
			buildErr = err
			return
		}
		redleaseBin = filepath.Join(dir, "redlease")
		cmd := exec.Command("go", "build", "-o", redleaseBin, "./cmd/redlease")
		cmd.Dir = filepath.Join("..", "..")
		cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/redlease: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return redleaseBin
}

// token is one principal of the tokens file.
type token struct {
	name     string
	secret   string
	prefixes []string
}

// bearer is the Authorization header value for t.
func (t token) bearer() string { return "Bearer " + t.secret }

// server is one `redlease serve` process.
type server struct {
	URL     string
	DataDir string
	cmd     *exec.Cmd
	log     *syncbuf.Buffer
	done    chan struct{}
}

// startServe runs `redlease serve` on a free loopback port with the file
// backend in a fresh directory and the tokens given (each principal its
// own token), and stops it by pid when the test ends.
func startServe(t *testing.T, tokens ...token) *server {
	t.Helper()
	s := &server{DataDir: t.TempDir(), log: &syncbuf.Buffer{}, done: make(chan struct{})}
	args := []string{"serve", "--addr", "127.0.0.1:0", "--data", s.DataDir}
	if len(tokens) > 0 {
		args = append(args, "--tokens", writeTokens(t, tokens))
	}
	s.cmd = exec.Command(binary(t), args...)
	s.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "REDLEASE_LOG_LEVEL=info"}
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
		if t.Failed() {
			t.Logf("redlease serve log, last lines:\n%s", lastLines(s.log.String(), 60))
		}
	})
	lines := bufio.NewScanner(stderr)
	for lines.Scan() {
		s.log.Write(append(lines.Bytes(), '\n'))
		var rec struct{ Msg, URL string }
		if json.Unmarshal(lines.Bytes(), &rec) == nil && rec.Msg == "listening" {
			s.URL = rec.URL
			break
		}
	}
	if s.URL == "" {
		t.Fatalf("redlease serve never logged its address:\n%s", s.log.String())
	}
	go func() { _, _ = io.Copy(s.log, stderr) }()
	return s
}

// writeTokens writes the tokens file: names, SHA-256 of each secret,
// prefixes.
func writeTokens(t *testing.T, tokens []token) string {
	t.Helper()
	type entry struct {
		Name     string   `json:"name"`
		SHA256   string   `json:"sha256"`
		Prefixes []string `json:"prefixes"`
	}
	var doc struct {
		Tokens []entry `json:"tokens"`
	}
	for _, tk := range tokens {
		sum := sha256.Sum256([]byte(tk.secret))
		prefixes := tk.prefixes
		if prefixes == nil {
			prefixes = []string{"clusters/"}
		}
		doc.Tokens = append(doc.Tokens, entry{Name: tk.name, SHA256: hex.EncodeToString(sum[:]), Prefixes: prefixes})
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tokens.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// backendURL is RED_HTTP_BACKEND_URL.
func (s *server) backendURL() string { return s.URL + "/v1/reddb" }

// record is the lease record as stored in the data directory.
func (s *server) record(t *testing.T) lease.Record {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.DataDir, "leases", filepath.FromSlash(databaseKey)+lease.ObjectSuffix))
	if err != nil {
		t.Fatalf("stored lease record: %v", err)
	}
	rec, err := lease.DecodeRecord(b)
	if err != nil {
		t.Fatalf("stored lease record %q: %v", b, err)
	}
	return rec
}

// object is a data object's stored bytes (nil when absent).
func (s *server) object(t *testing.T, key string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.DataDir, filepath.FromSlash(key)))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jsonLease is GET /v1/leases/{key} through the JSON API.
type jsonLease struct {
	Lease struct {
		HolderID     string `json:"holder_id"`
		Term         uint64 `json:"term"`
		Generation   uint64 `json:"generation"`
		AcquiredAtMs uint64 `json:"acquired_at_ms"`
		ExpiresAtMs  uint64 `json:"expires_at_ms"`
		ReleasedAtMs uint64 `json:"released_at_ms"`
	} `json:"lease"`
	State string `json:"state"`
}

func (s *server) getLease(t *testing.T, tk token) jsonLease {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+"/v1/leases/"+databaseKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tk.secret != "" {
		req.Header.Set("Authorization", tk.bearer())
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/leases/%s: %d %s", databaseKey, resp.StatusCode, body)
	}
	var l jsonLease
	if err := json.Unmarshal(body, &l); err != nil {
		t.Fatal(err)
	}
	return l
}

// startRed starts a stock RedDB on s as holder, authenticated by tk.
func startRed(t *testing.T, backendURL string, tk token, holder string, edit ...func(*reddbtest.Config)) *reddbtest.Server {
	t.Helper()
	auth := ""
	if tk.secret != "" {
		auth = tk.bearer()
	}
	cfg := reddbtest.Config{
		Name: holder,
		Env: reddbtest.HTTPBackend{
			URL:      backendURL,
			Auth:     auth,
			LeaseTTL: ttl,
			HolderID: holder,
		}.Env(),
	}
	for _, e := range edit {
		e(&cfg)
	}
	return reddbtest.Start(t, cfg)
}

// holding starts a RedDB and waits until it holds the lease.
func holding(t *testing.T, backendURL string, tk token, holder string, edit ...func(*reddbtest.Config)) *reddbtest.Server {
	t.Helper()
	red := startRed(t, backendURL, tk, holder, edit...)
	red.WaitLease(reddbtest.LeaseHeld, bootTimeout)
	return red
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond) // polling processes we do not control, not a lease clock
	}
}

func nowMs() uint64 { return uint64(time.Now().UnixMilli()) }

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func pathEnv() string { return os.Getenv("PATH") }
