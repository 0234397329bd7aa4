package wire

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/redlease/redlease/internal/config"
	"github.com/redlease/redlease/pkg/lease"
)

// fakeAWS records the requests an emulator endpoint receives and answers
// each with the given status and body.
type fakeAWS struct {
	mu    sync.Mutex
	paths []string
}

func (f *fakeAWS) start(t *testing.T, status int, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.paths = append(f.paths, r.Method+" "+r.URL.Path)
		f.mu.Unlock()
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// isolateAWS keeps the test away from the machine's AWS profile, IMDS and
// any real endpoint.
func isolateAWS(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
}

// The SDK itself must route S3 calls to AWS_ENDPOINT_URL_S3; the emulator
// setups (LocalStack, moto) rely on it.
func TestStoreS3UsesEndpointFromEnvironment(t *testing.T) {
	isolateAWS(t)
	var fake fakeAWS
	url := fake.start(t, http.StatusNotFound,
		`<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>none</Message></Error>`)
	t.Setenv("AWS_ENDPOINT_URL_S3", url)

	ctx := context.Background()
	awsCfg, err := AWSConfig(ctx)
	if err != nil {
		t.Fatalf("AWSConfig: %v", err)
	}
	cfg, err := config.FromEnv(func(k string) string {
		return map[string]string{
			config.EnvBackend: "s3", config.EnvBucket: "bkt", config.EnvS3PathStyle: "true",
		}[k]
	})
	if err != nil {
		t.Fatalf("FromEnv: %v", err)
	}
	st, err := Store(ctx, cfg, awsCfg)
	if err != nil {
		t.Fatalf("Store: %v", err)
	}
	if _, err := st.Load(ctx, "clusters/dev/data.rdb"); !errors.Is(err, lease.ErrNotFound) {
		t.Errorf("Load error = %v, want ErrNotFound", err)
	}
	want := "GET /bkt/leases/clusters/dev/data.rdb.lease.json"
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(fake.paths) != 1 || fake.paths[0] != want {
		t.Errorf("emulator saw %q, want [%q]", fake.paths, want)
	}
}

func TestStoreMemoryNeedsNoAWS(t *testing.T) {
	t.Parallel()
	st, err := Store(context.Background(), config.Config{Backend: config.BackendMemory}, awsZero)
	if err != nil || st == nil {
		t.Fatalf("Store(memory) = %v, %v", st, err)
	}
}

func TestStoreUnknownBackend(t *testing.T) {
	t.Parallel()
	if _, err := Store(context.Background(), config.Config{Backend: "tape"}, awsZero); err == nil {
		t.Error("Store(tape) succeeded")
	}
}

var awsZero aws.Config

// DynamoDB calls must reach AWS_ENDPOINT_URL_DYNAMODB (the JSON protocol
// posts every operation to "/").
func TestStoreDynamoDBUsesEndpointFromEnvironment(t *testing.T) {
	isolateAWS(t)
	var fake fakeAWS
	url := fake.start(t, http.StatusOK, `{}`) // GetItem without Item: not found
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", url)
	ctx := context.Background()
	awsCfg, err := AWSConfig(ctx)
	if err != nil {
		t.Fatalf("AWSConfig: %v", err)
	}
	st, err := Store(ctx, config.Config{Backend: config.BackendDynamoDB, Table: "leases"}, awsCfg)
	if err != nil {
		t.Fatalf("Store: %v", err)
	}
	if _, err := st.Load(ctx, "main"); !errors.Is(err, lease.ErrNotFound) {
		t.Errorf("Load error = %v, want ErrNotFound", err)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(fake.paths) != 1 || fake.paths[0] != "POST /" {
		t.Errorf("emulator saw %q, want one POST /", fake.paths)
	}
}

func TestStoreFileCreatesItsDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir() + "/data"
	st, err := Store(context.Background(), config.Config{Backend: config.BackendFile, DataDir: dir, Prefix: "leases/"}, awsZero)
	if err != nil {
		t.Fatalf("Store(file): %v", err)
	}
	svc, err := Service(config.Config{Limits: lease.DefaultLimits()}, st)
	if err != nil {
		t.Fatalf("Service: %v", err)
	}
	if _, err := svc.Acquire(context.Background(), lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: "a/b", HolderID: "h", TTLMs: 1000, Term: 1}); err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	if _, err := os.Stat(dir + "/leases/a/b.lease.json"); err != nil {
		t.Errorf("record not at the bucket layout path: %v", err)
	}
}
