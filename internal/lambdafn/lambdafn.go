// Package lambdafn is the whole start-up of every Lambda function: read the
// configuration once, build the SDK clients, the store and the service once
// through wire.Load (outside the handler, so warm invocations reuse them
// and their connections), and hand the handler to lambda.Start. Each
// functions/<name>/main.go is one call, lambdafn.Start("<name>", builder):
// API for the functions that serve routes, sweepfn.Build for the sweep
// (a package of its own, so that the API functions do not link it).
//
// A start-up failure is reported one way for every function: one JSON log
// line on stdout ("msg":"init failed", with the function and the error),
// then exit status 1, which Lambda reports as an init error. Lambda ships
// stdout and stderr alike to CloudWatch Logs; JSON on stdout is what every
// other line of these functions is, so one Logs Insights query or metric
// filter on level and msg finds init failures of every function.
package lambdafn

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/redlease/redlease/internal/config"
	"github.com/redlease/redlease/internal/wire"
	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/api/apigw"
	"github.com/redlease/redlease/pkg/observe"
)

// FnSweep is the scheduled function that runs the expiry sweep; it serves
// no route.
const FnSweep = "sweep"

// Functions lists every Lambda function: those that serve the routes of
// api.Routes, then the sweep. The functions/ folders, the Makefile and the
// stack are tested against it.
func Functions() []string { return append(api.Functions(), FnSweep) }

// BuildAPI wires the function fn, which serves its routes' operations (all
// operations when fn is empty, as a function behind a $default route
// would), from the environment read through getenv; logs and metrics go to
// out (stdout, which Lambda ships to CloudWatch Logs, where the EMF lines
// become metrics).
func BuildAPI(ctx context.Context, getenv func(string) string, out io.Writer, fn string) (*apigw.Adapter, error) {
	ops := api.OpsOf(fn)
	if fn != "" && len(ops) == 0 {
		return nil, fmt.Errorf("unknown function %q: it serves no route (the routes are served by %q)", fn, api.Functions())
	}
	app, err := Load(ctx, getenv, false)
	if err != nil {
		return nil, err
	}
	log := observe.NewLogger(out, app.Config.LogLevel)
	if err := app.LoadAuth(ctx, log); err != nil {
		return nil, err
	}
	face, err := app.Face(ctx, log, observe.NewMetrics(out, observe.DefaultNamespace),
		wire.FaceOptions{Ops: ops, MaxObjectBytes: MaxObjectBytes, SizeAdvice: SizeAdvice})
	if err != nil {
		return nil, err
	}
	return apigw.NewWithOptions(face, apigw.Options{IAMAdmin: adminOnly(ops)}), nil
}

// adminOnly reports whether a function serves nothing but break-glass
// operations: only then is invoking it through IAM the admin check, since
// the admin route has an IAM policy of its own.
func adminOnly(ops []api.Op) bool {
	return len(ops) > 0 && !slices.ContainsFunc(ops, func(op api.Op) bool { return op != api.OpForceRelease })
}

// MaxObjectBytes is the largest object the RedDB face moves through a
// Lambda function, either way. A synchronous invocation carries at most
// 6 MB (6,291,456 bytes) of event and of response, and a binary body
// travels base64-encoded in either, a third larger: 4 MiB becomes 5,592,408
// bytes, which leaves some 700 KB for the event's headers and envelope
// (TestMaxObjectFitsAnInvocation measures both directions).
const MaxObjectBytes = 4 << 20

// SizeAdvice is what the RedDB face's 413 tells a client to do instead.
const SizeAdvice = "a Lambda invocation carries at most 6 MB; serve databases whose objects are larger with `redlease serve` (no size limit, bodies streamed) next to the bucket"

// Builder wires the function fn from the environment read through getenv,
// logging to out, and returns what lambda.Start runs.
type Builder func(ctx context.Context, fn string, getenv func(string) string, out io.Writer) (any, error)

// API is the Builder of the functions that serve routes.
func API(ctx context.Context, fn string, getenv func(string) string, out io.Writer) (any, error) {
	a, err := BuildAPI(ctx, getenv, out, fn)
	if err != nil {
		return nil, err
	}
	return a.Handle, nil
}

// Load reads the configuration and builds the App: the one start-up chain
// of every function.
func Load(ctx context.Context, getenv func(string) string, withAWS bool) (*wire.App, error) {
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return nil, err
	}
	return wire.Load(ctx, cfg, withAWS)
}

// Start builds the function fn with build and starts the Lambda runtime
// loop, or reports the start-up failure and exits 1.
func Start(fn string, build Builder) {
	h, err := build(context.Background(), fn, os.Getenv, os.Stdout)
	if err != nil {
		initFailed(os.Stdout, fn, err)
		os.Exit(1)
	}
	lambda.Start(h)
}

// initFailed writes the one line a start-up failure leaves.
func initFailed(out io.Writer, fn string, err error) {
	observe.NewLogger(out, slog.LevelError).Error("init failed",
		slog.String("function", fn), slog.String("error", err.Error()))
}
