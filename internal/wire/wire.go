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

// Service builds the lease service on store with cfg's limits and clock
// tolerance. The store is
// wrapped so that each request's storage calls are timed for its metrics.
func Service(cfg config.Config, store lease.ListingStore) (*lease.Service, error) {
	svc, err := lease.New(lease.Config{Store: observe.TimedStore(store, nil), Limits: cfg.Limits,
		ClockTolerance: cfg.ClockTolerance})
	if err != nil {
		return nil, fmt.Errorf("lease service: %w", err)
	}
	return svc, nil
}
