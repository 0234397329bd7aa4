// Package wire builds what every entry point needs exactly once at start:
// the AWS SDK configuration, the SDK clients and the lease store chosen by
// config.Config. Lambda functions call it outside their handler, so a warm
// instance reuses the clients and their connections.
package wire

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/redlease/redlease/internal/config"
	"github.com/redlease/redlease/pkg/api/reddb"
	ddbstore "github.com/redlease/redlease/pkg/backend/dynamodb"
	filestore "github.com/redlease/redlease/pkg/backend/file"
	"github.com/redlease/redlease/pkg/backend/memory"
	s3store "github.com/redlease/redlease/pkg/backend/s3"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/observe"
)

// AWSConfig loads the SDK's default configuration chain: region,
// credentials (the Lambda role in production), and endpoints. Emulators are
// reached through the SDK's own variables, AWS_ENDPOINT_URL for all services
// or AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL_DYNAMODB /
// AWS_ENDPOINT_URL_EVENTBRIDGE per service; nothing here overrides them.
func AWSConfig(ctx context.Context) (aws.Config, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	return cfg, nil
}

// Store builds the lease store cfg.Backend names. awsCfg is only used by
// the s3 and dynamodb backends; pass the zero aws.Config for the others
// (config.Config.NeedsAWS tells which).
func Store(_ context.Context, cfg config.Config, awsCfg aws.Config) (lease.ListingStore, error) {
	switch cfg.Backend {
	case config.BackendMemory:
		return memory.New(memory.Options{}), nil
	case config.BackendFile:
		st, err := filestore.Open(filestore.Options{Dir: cfg.DataDir, Prefix: cfg.Prefix})
		if err != nil {
			return nil, fmt.Errorf("file store in %q: %w", cfg.DataDir, err)
		}
		return st, nil
	case config.BackendS3:
		client := s3store.NewClient(awsCfg, cfg.S3PathStyle)
		st, err := s3store.New(client, s3store.Options{Bucket: cfg.Bucket, Prefix: cfg.Prefix})
		if err != nil {
			return nil, fmt.Errorf("s3 store for bucket %q: %w", cfg.Bucket, err)
		}
		return st, nil
	case config.BackendDynamoDB:
		st, err := ddbstore.New(awsddb.NewFromConfig(awsCfg), ddbstore.Options{Table: cfg.Table})
		if err != nil {
			return nil, fmt.Errorf("dynamodb store for table %q: %w", cfg.Table, err)
		}
		return st, nil
	default:
		return nil, fmt.Errorf("unknown backend %q", cfg.Backend)
	}
}

// Objects builds the store of RedDB's data objects for the RedDB face:
// beside the lease records in the data directory (file), in memory, or in
// the data bucket (s3 and dynamodb; config.Config.DataBucket). The lease
// prefix is reserved in every one, so a data write can never touch a
// lease record.
func Objects(_ context.Context, cfg config.Config, awsCfg aws.Config) (reddb.Objects, error) {
	reserved := LeasePrefix(cfg)
	switch cfg.Backend {
	case config.BackendMemory:
		return memory.NewObjects(memory.ObjectsOptions{Reserved: reserved}), nil
	case config.BackendFile:
		objs, err := filestore.OpenObjects(filestore.ObjectsOptions{Dir: cfg.DataDir, Reserved: reserved})
		if err != nil {
			return nil, fmt.Errorf("file objects in %q: %w", cfg.DataDir, err)
		}
		return objs, nil
	case config.BackendS3, config.BackendDynamoDB:
		bucket := cfg.DataBucket()
		if bucket == "" {
			return nil, fmt.Errorf("the RedDB face on the %s backend needs a bucket for RedDB's data objects (%s)", cfg.Backend, config.EnvRedDBBucket)
		}
		objs, err := s3store.NewObjects(s3store.NewClient(awsCfg, cfg.S3PathStyle), s3store.ObjectsOptions{Bucket: bucket, Reserved: reserved})
		if err != nil {
			return nil, fmt.Errorf("s3 objects in bucket %q: %w", bucket, err)
		}
		return objs, nil
	default:
		return nil, fmt.Errorf("unknown backend %q", cfg.Backend)
	}
}

// LeasePrefix is where lease objects live for cfg: its prefix, or the
// stores' default when it names none (a Config built without FromEnv).
func LeasePrefix(cfg config.Config) string {
	if cfg.Prefix == "" {
		return lease.DefaultPrefix
	}
	return cfg.Prefix
}

// Service builds the lease service on store with cfg's limits. The store is
// wrapped so that each request's storage calls are timed for its metrics.
func Service(cfg config.Config, store lease.ListingStore) (*lease.Service, error) {
	svc, err := lease.New(lease.Config{Store: observe.TimedStore(store, nil), Limits: cfg.Limits})
	if err != nil {
		return nil, fmt.Errorf("lease service: %w", err)
	}
	return svc, nil
}
