//go:build e2e

package e2e

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// What localstack/with-ministack.sh and the Makefile hand the tests.
var harness = struct {
	enabled     bool
	endpoint    string // MiniStack without IAM enforcement, http
	iamEndpoint string // MiniStack with AUTH=true, https
	caFile      string // the certificate the harness made for iamEndpoint
	cdk         string // the project's pinned CDK CLI
	cdkApp      string // the built CDK app (infra/)
	lambdaDir   string // host-architecture bootstraps, one directory per function
	cli         string // the redlease binary
}{
	enabled:     os.Getenv("REDLEASE_E2E") == "1",
	endpoint:    os.Getenv("REDLEASE_E2E_ENDPOINT"),
	iamEndpoint: os.Getenv("REDLEASE_E2E_IAM_ENDPOINT"),
	caFile:      os.Getenv("REDLEASE_E2E_CA_FILE"),
	cdk:         os.Getenv("REDLEASE_E2E_CDK"),
	cdkApp:      os.Getenv("REDLEASE_E2E_CDK_APP"),
	lambdaDir:   os.Getenv("REDLEASE_E2E_LAMBDA_DIR"),
	cli:         os.Getenv("REDLEASE_E2E_CLI"),
}

// TestMain writes the phase summary to stderr, which go test shows only
// for a failed package, and to REDLEASE_E2E_REPORT, which the harness
// prints after every run.
func TestMain(m *testing.M) {
	code := m.Run()
	phases.summary(os.Stderr)
	if path := os.Getenv("REDLEASE_E2E_REPORT"); path != "" {
		if f, err := os.Create(path); err == nil {
			phases.summary(f)
			f.Close()
		}
	}
	os.Exit(code)
}

func skipUnlessHarness(t *testing.T) {
	t.Helper()
	if !harness.enabled {
		t.Skip("REDLEASE_E2E is not 1; run under localstack/with-ministack.sh (make test-e2e)")
	}
	for name, v := range map[string]string{
		"REDLEASE_E2E_ENDPOINT": harness.endpoint, "REDLEASE_E2E_IAM_ENDPOINT": harness.iamEndpoint,
		"REDLEASE_E2E_CA_FILE": harness.caFile, "REDLEASE_E2E_CDK": harness.cdk,
		"REDLEASE_E2E_CDK_APP": harness.cdkApp, "REDLEASE_E2E_LAMBDA_DIR": harness.lambdaDir,
		"REDLEASE_E2E_CLI": harness.cli,
	} {
		if v == "" {
			t.Fatalf("%s is not set", name)
		}
	}
}

// phaseLog records the wall time of every phase of every deployment. Each
// phase is printed when it ends (so a failed or hung run shows how far it
// got) and once more in the summary.
type phaseLog struct {
	mu   sync.Mutex
	rows []phaseRow
}

type phaseRow struct {
	scope, name string
	took        time.Duration
	failed      bool
}

var phases phaseLog

// start begins phase name of scope; the returned func ends it.
func (p *phaseLog) start(t *testing.T, scope, name string) func() {
	t0, failedBefore := time.Now(), t.Failed()
	return func() {
		row := phaseRow{scope: scope, name: name, took: time.Since(t0), failed: t.Failed() && !failedBefore}
		p.mu.Lock()
		p.rows = append(p.rows, row)
		p.mu.Unlock()
		fmt.Fprintf(os.Stderr, "[e2e] phase %-14s %-22s %6.1fs%s\n", scope, name, row.took.Seconds(), failedMark(row.failed))
	}
}

func failedMark(failed bool) string {
	if failed {
		return " (failed)"
	}
	return ""
}

func (p *phaseLog) summary(w io.Writer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.rows) == 0 {
		return
	}
	rows := append([]phaseRow(nil), p.rows...)
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].scope < rows[j].scope })
	var b strings.Builder
	b.WriteString("[e2e] wall time per phase:\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "[e2e]   %-14s %-22s %6.1fs%s\n", r.scope, r.name, r.took.Seconds(), failedMark(r.failed))
	}
	_, _ = io.WriteString(w, b.String())
}
