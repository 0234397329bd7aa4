// Package awstest holds what tests that talk to AWS APIs share: the
// emulator harness's environment, SDK configurations built as the entry
// points build theirs, SDK-shaped errors for fakes, a request counter for
// fakes and real clients, and a scripted HTTP endpoint that puts the real
// SDK between a store and canned answers. Only tests import it.
package awstest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Emulators returns the variables of the emulator harness
// (localstack/with-emulators.sh) named, and AWS_REGION. It skips tb unless
// REDLEASE_IT is 1, and fails it when one of them is missing.
func Emulators(tb testing.TB, names ...string) map[string]string {
	tb.Helper()
	if os.Getenv("REDLEASE_IT") != "1" {
		tb.Skip("REDLEASE_IT is not 1; run under localstack/with-emulators.sh")
	}
	env := map[string]string{}
	for _, name := range append(names, "AWS_REGION") {
		if env[name] = os.Getenv(name); env[name] == "" {
			tb.Fatalf("REDLEASE_IT=1 but %s is not set", name)
		}
	}
	return env
}

// Emulator is one service of the emulator harness, as the tests reach it.
type Emulator struct {
	Config   aws.Config // from Config, for the harness's region
	Endpoint string     // the service's URL
	Resource string     // the bucket or table the harness created
}

// Emulated reads the harness's variables for one service (its endpoint and
// resource, REDLEASE_IT_S3_ENDPOINT and REDLEASE_IT_BUCKET say) and loads a
// configuration for it; calls, when not nil, counts the requests of every
// client built from it. It skips tb when the harness is not running.
func Emulated(tb testing.TB, endpointVar, resourceVar string, calls *Calls) Emulator {
	tb.Helper()
	env := Emulators(tb, endpointVar, resourceVar)
	cfg := Config(tb, env["AWS_REGION"])
	if calls != nil {
		calls.Record(&cfg)
	}
	return Emulator{Config: cfg, Endpoint: env[endpointVar], Resource: env[resourceVar]}
}

// Config loads an SDK configuration the way the entry points do
// (config.LoadDefaultConfig, so the SDK's defaults such as request
// checksums are in force) for region, with test credentials and without
// the machine's shared AWS files. optFns come last; NoRetries is one.
func Config(tb testing.TB, region string, optFns ...func(*config.LoadOptions) error) aws.Config {
	tb.Helper()
	base := []func(*config.LoadOptions) error{
		config.WithRegion(region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
	}
	cfg, err := config.LoadDefaultConfig(context.Background(), append(base, optFns...)...)
	if err != nil {
		tb.Fatalf("load AWS config: %v", err)
	}
	return cfg
}

// NoRetries turns the SDK's retries off, so that each scripted reply is
// one attempt.
var NoRetries = config.WithRetryMaxAttempts(1)

// ConfigFromEnvironment points the SDK at endpoint through the variable
// endpointVar (AWS_ENDPOINT_URL_S3, say) and loads the configuration from
// the environment alone, as the entry points do; the variables are
// restored when tb ends.
func ConfigFromEnvironment(tb testing.TB, endpointVar, endpoint string) aws.Config {
	tb.Helper()
	tb.Setenv(endpointVar, endpoint)
	tb.Setenv("AWS_REGION", "us-east-1")
	tb.Setenv("AWS_ACCESS_KEY_ID", "test")
	tb.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithSharedConfigFiles([]string{}), config.WithSharedCredentialsFiles([]string{}))
	if err != nil {
		tb.Fatalf("load AWS config: %v", err)
	}
	return cfg
}

// RefusingURL is the address of a server that has just closed, so that
// connections to it are refused.
func RefusingURL(tb testing.TB) string {
	tb.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	return url
}

var (
	run = strconv.FormatInt(time.Now().UnixNano(), 36)
	seq atomic.Int64
)

// Unique returns a name no other call in this run or any earlier run
// returns, for the prefixes, keys and tables that tests against a shared
// emulator create.
func Unique() string { return fmt.Sprintf("%s-%d", run, seq.Add(1)) }
