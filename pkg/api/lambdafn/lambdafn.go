// Package lambdafn is the whole start-up of an API Lambda function: read
// the configuration once, build the SDK clients, the store and the service
// once (outside the handler, so warm invocations reuse them and their
// connections), and hand the API Gateway adapter to lambda.Start. Each
// functions/<name>/main.go is one call to Main.
package lambdafn

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/redlease/redlease/internal/config"
	"github.com/redlease/redlease/internal/wire"
	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/api/apigw"
	"github.com/redlease/redlease/pkg/observe"
)

// Build wires a function serving ops from the environment read through
// getenv; logs and metrics go to out (stdout, which Lambda ships to
// CloudWatch Logs, where the EMF lines become metrics).
func Build(ctx context.Context, getenv func(string) string, out io.Writer, ops ...api.Op) (*apigw.Adapter, error) {
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return nil, err
	}
	var awsCfg aws.Config
	if cfg.NeedsAWS() { // the SDK's config chain costs cold-start time
		if awsCfg, err = wire.AWSConfig(ctx); err != nil {
			return nil, err
		}
	}
	store, err := wire.Store(ctx, cfg, awsCfg)
	if err != nil {
		return nil, err
	}
	svc, err := wire.Service(cfg, store)
	if err != nil {
		return nil, err
	}
	core, err := api.New(api.Config{
		Service: svc,
		Logger:  observe.NewLogger(out, cfg.LogLevel),
		Metrics: observe.NewMetrics(out, observe.DefaultNamespace),
		Ops:     ops,
	})
	if err != nil {
		return nil, err
	}
	return apigw.New(core), nil
}

// Main builds the function and starts the Lambda runtime loop. A start-up
// failure is logged as JSON and exits non-zero, which Lambda reports as an
// init error.
func Main(ops ...api.Op) {
	adapter, err := Build(context.Background(), os.Getenv, os.Stdout, ops...)
	if err != nil {
		fmt.Fprintf(os.Stdout, "{\"level\":\"ERROR\",\"msg\":\"init failed\",\"error\":%q}\n", err.Error())
		os.Exit(1)
	}
	lambda.Start(adapter.Handle)
}
