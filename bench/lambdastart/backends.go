package lambdastart

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/redlease/redlease/bench/emulators"
	"github.com/redlease/redlease/bench/reqcount"
	"github.com/redlease/redlease/internal/config"
	ddbstore "github.com/redlease/redlease/pkg/backend/dynamodb"
	filestore "github.com/redlease/redlease/pkg/backend/file"
	"github.com/redlease/redlease/pkg/lease"
)

// backend is one storage configuration of the functions: the environment
// they start with (exactly what a deployment sets, pointed at the
// emulators) and stores on the same data, for preparing leases.
type backend struct {
	name string
	// env is for the API functions; sweepEnv for the sweep, whose data is
	// kept apart (a sweep reads everything under its prefix or table).
	env, sweepEnv []string
	api, sweep    lease.Store
}

// The sweep publishes to EventBridge; on the emulators that is LocalStack,
// otherwise a closed port (nothing is published: every lease is held).
const closedPort = "http://127.0.0.1:9"

func fileBackend(dir string) (backend, error) {
	api, err := filestore.Open(filestore.Options{Dir: filepath.Join(dir, "api")})
	if err != nil {
		return backend{}, err
	}
	sweep, err := filestore.Open(filestore.Options{Dir: filepath.Join(dir, "sweep")})
	if err != nil {
		return backend{}, err
	}
	common := []string{config.EnvBackend + "=" + config.BackendFile, "AWS_ENDPOINT_URL=" + closedPort, config.EnvEventBus + "=redlease-bench"}
	return backend{
		name:     "file",
		env:      append(common, config.EnvDataDir+"="+filepath.Join(dir, "api")),
		sweepEnv: append(common[:len(common):len(common)], config.EnvDataDir+"="+filepath.Join(dir, "sweep")),
		api:      api,
		sweep:    sweep,
	}, nil
}

func s3Backend(ctx context.Context, e emulators.Env) (backend, error) {
	base := "bench/" + e.Run + "/lambda/"
	api, err := e.S3Store(ctx, reqcount.New(), base+"api/leases/")
	if err != nil {
		return backend{}, err
	}
	sweep, err := e.S3Store(ctx, reqcount.New(), base+"sweep/leases/")
	if err != nil {
		return backend{}, err
	}
	common := []string{
		config.EnvBackend + "=" + config.BackendS3, config.EnvBucket + "=" + e.Bucket, config.EnvS3PathStyle + "=true",
		"AWS_ENDPOINT_URL_S3=" + e.S3Endpoint, "AWS_ENDPOINT_URL_EVENTBRIDGE=" + eventsEndpoint(e),
		config.EnvEventBus + "=" + e.EventBus,
	}
	return backend{
		name:     "s3",
		env:      append(common, config.EnvPrefix+"="+base+"api/leases/"),
		sweepEnv: append(common[:len(common):len(common)], config.EnvPrefix+"="+base+"sweep/leases/"),
		api:      api,
		sweep:    sweep,
	}, nil
}

func dynamoDBBackend(ctx context.Context, e emulators.Env) (backend, error) {
	client, err := e.DynamoDBClient(ctx, reqcount.New())
	if err != nil {
		return backend{}, err
	}
	sweepTable := "redlease-bench-lambda-sweep-" + e.Run
	if _, err := client.CreateTable(ctx, ddbstore.CreateTableInput(sweepTable)); err != nil {
		return backend{}, fmt.Errorf("create table %s: %w", sweepTable, err)
	}
	api, err := ddbstore.New(client, ddbstore.Options{Table: e.Table})
	if err != nil {
		return backend{}, err
	}
	sweep, err := ddbstore.New(client, ddbstore.Options{Table: sweepTable})
	if err != nil {
		return backend{}, err
	}
	common := []string{
		config.EnvBackend + "=" + config.BackendDynamoDB, "AWS_ENDPOINT_URL_DYNAMODB=" + e.DynamoDBEndpoint,
		"AWS_ENDPOINT_URL_EVENTBRIDGE=" + eventsEndpoint(e), config.EnvEventBus + "=" + e.EventBus,
		// The RedDB function keeps data objects in a bucket beside the table.
		config.EnvRedDBBucket + "=" + e.Bucket, "AWS_ENDPOINT_URL_S3=" + e.S3Endpoint, config.EnvS3PathStyle + "=true",
	}
	return backend{
		name:     "dynamodb",
		env:      append(common, config.EnvTable+"="+e.Table),
		sweepEnv: append(common[:len(common):len(common)], config.EnvTable+"="+sweepTable),
		api:      api,
		sweep:    sweep,
	}, nil
}

func eventsEndpoint(e emulators.Env) string {
	if e.EventsEndpoint == "" {
		return closedPort
	}
	return e.EventsEndpoint
}

// baseEnv is what every function starts with, whatever the backend: a
// hermetic AWS client environment (static test credentials, no profile,
// no instance metadata) so that the SDK's whole default chain still runs.
func baseEnv(home, fn string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_LAMBDA_FUNCTION_NAME=redlease-" + fn,
		config.EnvLogLevel + "=info",
	}
}

// hold gives key a live lease of reddb-0-1 at generation 1, the state the
// sample events expect.
func hold(ctx context.Context, store lease.Store, key string) error {
	svc, err := lease.New(lease.Config{Store: store})
	if err != nil {
		return err
	}
	l, err := svc.Acquire(ctx, lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: key, HolderID: "reddb-0-1", TTLMs: 600_000, Term: 1})
	if err != nil {
		return err
	}
	if l.Generation != 1 {
		return fmt.Errorf("prepare %q: generation %d, want 1", key, l.Generation)
	}
	return nil
}
