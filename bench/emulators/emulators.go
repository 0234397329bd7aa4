// Package emulators describes the AWS emulators a benchmark run talks to,
// as localstack/with-emulators.sh starts and exports them, and builds the
// SDK clients and redlease stores on them with every request counted.
package emulators

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/redlease/redlease/bench/reqcount"
	ddbstore "github.com/redlease/redlease/pkg/backend/dynamodb"
	s3store "github.com/redlease/redlease/pkg/backend/s3"
)

// Env names the emulators, as localstack/with-emulators.sh exports them.
type Env struct {
	S3Endpoint       string // REDLEASE_IT_S3_ENDPOINT (LocalStack)
	DynamoDBEndpoint string // REDLEASE_IT_DYNAMODB_ENDPOINT (moto)
	EventsEndpoint   string // REDLEASE_IT_EVENTS_ENDPOINT (LocalStack)
	Bucket           string // REDLEASE_IT_BUCKET
	Table            string // REDLEASE_IT_TABLE
	EventBus         string // REDLEASE_IT_EVENT_BUS
	Region           string // AWS_REGION
	// Run makes this run's keys, prefixes and tables unique.
	Run string
}

// EnvFrom reads the harness's variables through getenv.
func EnvFrom(getenv func(string) string, run string) (Env, error) {
	e := Env{
		S3Endpoint:       getenv("REDLEASE_IT_S3_ENDPOINT"),
		DynamoDBEndpoint: getenv("REDLEASE_IT_DYNAMODB_ENDPOINT"),
		EventsEndpoint:   getenv("REDLEASE_IT_EVENTS_ENDPOINT"),
		Bucket:           getenv("REDLEASE_IT_BUCKET"),
		Table:            getenv("REDLEASE_IT_TABLE"),
		EventBus:         getenv("REDLEASE_IT_EVENT_BUS"),
		Region:           getenv("AWS_REGION"),
		Run:              run,
	}
	if e.Region == "" {
		e.Region = "us-east-1"
	}
	if e.S3Endpoint == "" || e.DynamoDBEndpoint == "" || e.Bucket == "" || e.Table == "" {
		return Env{}, errors.New("REDLEASE_IT_S3_ENDPOINT, REDLEASE_IT_DYNAMODB_ENDPOINT, REDLEASE_IT_BUCKET and REDLEASE_IT_TABLE must be set (run under localstack/with-emulators.sh)")
	}
	return e, nil
}

// awsConfig is the SDK's default configuration, as the entry points load
// it (default retries and request checksums), with the emulators' static
// credentials and a transport that counts into c.
func (e Env) awsConfig(ctx context.Context, c *reqcount.Counter) (aws.Config, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx,
		awsconfig.WithRegion(e.Region),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")),
	)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	// Wrapped after loading: the loader configures its own client (a CA
	// bundle from AWS_CA_BUNDLE, say) and accepts no other type.
	cfg.HTTPClient = c.Wrap(cfg.HTTPClient)
	return cfg, nil
}

// S3Client is an S3 client on the emulator whose requests count in c,
// built by the project's own constructor (path-style, as for LocalStack).
func (e Env) S3Client(ctx context.Context, c *reqcount.Counter) (*awss3.Client, error) {
	cfg, err := e.awsConfig(ctx, c)
	if err != nil {
		return nil, err
	}
	return s3store.NewClient(cfg, true, func(o *awss3.Options) { o.BaseEndpoint = aws.String(e.S3Endpoint) }), nil
}

// DynamoDBClient is a DynamoDB client on the emulator whose requests count
// in c.
func (e Env) DynamoDBClient(ctx context.Context, c *reqcount.Counter) (*awsddb.Client, error) {
	cfg, err := e.awsConfig(ctx, c)
	if err != nil {
		return nil, err
	}
	return awsddb.NewFromConfig(cfg, func(o *awsddb.Options) { o.BaseEndpoint = aws.String(e.DynamoDBEndpoint) }), nil
}

// S3Store is a redlease S3 store under its own prefix of the bucket.
func (e Env) S3Store(ctx context.Context, c *reqcount.Counter, prefix string) (*s3store.Store, error) {
	client, err := e.S3Client(ctx, c)
	if err != nil {
		return nil, err
	}
	return s3store.New(client, s3store.Options{Bucket: e.Bucket, Prefix: prefix})
}

// DynamoDBStore is a redlease DynamoDB store on table.
func (e Env) DynamoDBStore(ctx context.Context, c *reqcount.Counter, table string) (*ddbstore.Store, error) {
	client, err := e.DynamoDBClient(ctx, c)
	if err != nil {
		return nil, err
	}
	return ddbstore.New(client, ddbstore.Options{Table: table})
}
