//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

const region = "us-east-1"

// rootCredentials are MiniStack's account-root keys: allowed everything,
// also with AUTH=true. Test callers with real IAM identities are made in
// iam_test.go.
var rootCredentials = credentials.NewStaticCredentialsProvider("test", "test", "")

// emulator is one running MiniStack instance.
type emulator struct {
	name     string // "plain" or "iam", also part of stack names
	endpoint string
	iam      bool   // AUTH=true: SigV4 and IAM policies are enforced
	caFile   string // trusted for https endpoints
	// context is the CDK context value that selects this emulator's
	// template deviations (infra/stack/emulator.go).
	context string
	http    *http.Client

	bootstrap sync.Once
	bootErr   error
}

var (
	emulatorsOnce sync.Once
	emulators     []*emulator
)

func allEmulators(t *testing.T) []*emulator {
	t.Helper()
	emulatorsOnce.Do(func() {
		emulators = []*emulator{
			{name: "plain", endpoint: harness.endpoint, context: "ministack"},
			{name: "iam", endpoint: harness.iamEndpoint, iam: true, caFile: harness.caFile, context: "ministack-iam"},
		}
		for _, e := range emulators {
			e.http = httpClient(t, e.caFile)
		}
	})
	return emulators
}

// httpClient trusts caFile (when set) and keeps enough idle connections for
// the contention rounds.
func httpClient(t *testing.T, caFile string) *http.Client {
	t.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			t.Fatalf("no certificate in %s", caFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr}
}

// awsConfig is an SDK configuration for this emulator's AWS APIs.
func (e *emulator) awsConfig(creds aws.CredentialsProvider) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  creds,
		HTTPClient:   e.http,
		BaseEndpoint: aws.String(e.endpoint),
	}
}

// cdkEnv is the environment of every CDK CLI run against this emulator: the
// harness's hermetic AWS variables plus the endpoint, the certificate and
// the CLI's offline switches (the same as infra/infra.mk's).
func (e *emulator) cdkEnv() []string {
	env := append(os.Environ(),
		"AWS_ENDPOINT_URL="+e.endpoint,
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"CDK_DISABLE_CLI_TELEMETRY=true",
		"CDK_DISABLE_VERSION_CHECK=true",
		"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20",
	)
	if e.caFile != "" {
		env = append(env, "AWS_CA_BUNDLE="+e.caFile)
	}
	return env
}

// cdk runs the CDK CLI in dir; its output goes to a log file whose tail is
// reported on failure.
func (e *emulator) cdk(ctx context.Context, t *testing.T, dir, logName string, args ...string) error {
	t.Helper()
	logPath := filepath.Join(dir, logName+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer f.Close()
	cmd := exec.CommandContext(ctx, harness.cdk, append([]string{"--no-notices"}, args...)...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, e.cdkEnv(), f, f
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Run(); err != nil {
		out, _ := os.ReadFile(logPath)
		return fmt.Errorf("cdk %s: %w\n%s", strings.Join(args, " "), err, tail(out, 40))
	}
	return nil
}

// ensureBootstrapped runs `cdk bootstrap` once per emulator, from an empty
// directory so that the CLI synthesises nothing.
func (e *emulator) ensureBootstrapped(ctx context.Context, t *testing.T) {
	t.Helper()
	e.bootstrap.Do(func() {
		defer phases.start(t, e.name, "cdk bootstrap")()
		id, err := sts.NewFromConfig(e.awsConfig(rootCredentials)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			e.bootErr = fmt.Errorf("sts GetCallerIdentity: %w", err)
			return
		}
		dir, err := os.MkdirTemp("", "redlease-e2e-bootstrap-")
		if err != nil {
			e.bootErr = err
			return
		}
		defer os.RemoveAll(dir)
		e.bootErr = e.cdk(ctx, t, dir, "bootstrap", "bootstrap", "aws://"+aws.ToString(id.Account)+"/"+region)
	})
	if e.bootErr != nil {
		t.Fatalf("%s: %v", e.name, e.bootErr)
	}
}

func tail(b []byte, lines int) string {
	parts := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return string(bytes.Join(parts, []byte("\n")))
}
