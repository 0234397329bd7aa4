//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redlease/redlease/internal/config"
	"github.com/redlease/redlease/internal/wire"
	"github.com/redlease/redlease/pkg/lease"
)

var (
	run = strconv.FormatInt(time.Now().UnixNano(), 36)
	seq atomic.Int64
)

// backends are the stores under test, each built the way the functions
// build theirs: a config.Config through wire.Store.
var backends = []struct {
	name   string
	config func() config.Config
}{
	{"s3", func() config.Config {
		return config.Config{
			Backend:     "s3",
			Bucket:      os.Getenv("REDLEASE_IT_BUCKET"),
			Prefix:      "it-" + run + "/" + strconv.FormatInt(seq.Add(1), 10) + "/leases/",
			S3PathStyle: true,
			Limits:      lease.DefaultLimits(),
		}
	}},
	{"dynamodb", func() config.Config {
		return config.Config{Backend: "dynamodb", Table: os.Getenv("REDLEASE_IT_TABLE"), Limits: lease.DefaultLimits()}
	}},
}

// TestMain points the SDK at the emulators through its own endpoint
// variables, the way a deployment overrides endpoints, and reports which
// LocalStack answered.
func TestMain(m *testing.M) {
	if os.Getenv("REDLEASE_IT") == "1" {
		os.Setenv("AWS_ENDPOINT_URL_S3", os.Getenv("REDLEASE_IT_S3_ENDPOINT"))
		os.Setenv("AWS_ENDPOINT_URL_DYNAMODB", os.Getenv("REDLEASE_IT_DYNAMODB_ENDPOINT"))
	}
	os.Exit(m.Run())
}

func skipUnlessEmulators(t *testing.T) {
	t.Helper()
	if os.Getenv("REDLEASE_IT") != "1" {
		t.Skip("REDLEASE_IT is not 1; run under localstack/with-emulators.sh")
	}
}

// newStore builds one backend's store; S3 stores get a prefix of their own
// and DynamoDB tests use keys unique to the run.
func newStore(t *testing.T, cfg config.Config) lease.ListingStore {
	t.Helper()
	ctx := context.Background()
	awsCfg, err := wire.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	store, err := wire.Store(ctx, cfg, awsCfg)
	if err != nil {
		t.Fatalf("wire.Store(%s): %v", cfg.Backend, err)
	}
	return store
}

// uniqueKey keeps runs apart in the shared DynamoDB table.
func uniqueKey(name string) string {
	return "it/" + run + "/" + strconv.FormatInt(seq.Add(1), 10) + "/" + name
}

// TestIntegrationEmulatorVersions logs the emulator that served S3, so the
// test log shows LocalStack really answered.
func TestIntegrationEmulatorVersions(t *testing.T) {
	skipUnlessEmulators(t)
	resp, err := http.Get(os.Getenv("REDLEASE_IT_S3_ENDPOINT") + "/_localstack/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var health struct {
		Version  string            `json:"version"`
		Services map[string]string `json:"services"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&health); err != nil {
		t.Fatal(err)
	}
	t.Logf("LocalStack version %s serving s3=%s events=%s sqs=%s", health.Version,
		health.Services["s3"], health.Services["events"], health.Services["sqs"])
	if health.Version != "4.14.0" {
		t.Errorf("LocalStack version %q, want the pinned 4.14.0", health.Version)
	}
	if s := health.Services["s3"]; s != "running" && s != "available" {
		t.Errorf("LocalStack s3 is %q", s)
	}
}
