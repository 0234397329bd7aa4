// Package sweepfn is the start-up of the sweep function: the App (with the
// SDK configuration, for EventBridge), then the sweeper on its store. It is
// apart from lambdafn so that the API functions do not link the sweep and
// EventBridge; functions/sweep starts it through lambdafn.Start, the one
// start-up path (and way of reporting its failure) of every function.
package sweepfn

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/redlease/redlease/internal/lambdafn"
	"github.com/redlease/redlease/pkg/eventbus"
	"github.com/redlease/redlease/pkg/observe"
	"github.com/redlease/redlease/pkg/sweep"
)

// Handler is what lambda.Start runs for each scheduled event.
type Handler func(ctx context.Context, ev events.CloudWatchEvent) (sweep.Result, error)

// Build is the lambdafn.Builder of the sweep function.
func Build(ctx context.Context, fn string, getenv func(string) string, out io.Writer) (any, error) {
	if fn != lambdafn.FnSweep {
		return nil, fmt.Errorf("sweepfn builds the %q function, not %q", lambdafn.FnSweep, fn)
	}
	return BuildSweep(ctx, getenv, out)
}

// BuildSweep wires the sweep from the environment read through getenv.
// Logs and EMF metrics go to out (stdout in Lambda).
func BuildSweep(ctx context.Context, getenv func(string) string, out io.Writer) (Handler, error) {
	app, err := lambdafn.Load(ctx, getenv, true)
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	cfg := app.Config
	logger := observe.NewLogger(out, cfg.LogLevel).With(slog.String("function", lambdafn.FnSweep))
	sw, err := sweep.New(sweep.Config{
		Store:     app.Store,
		Publisher: eventbus.New(eventbridge.NewFromConfig(app.AWS), cfg.EventBus),
		Metrics:   observe.NewMetrics(out, observe.DefaultNamespace),
		Logger:    logger,
	})
	if err != nil {
		return nil, err
	}
	bus := cfg.EventBus
	if bus == "" {
		bus = "default"
	}
	logger.Info("sweep ready", slog.String("backend", cfg.Backend), slog.String("event_bus", bus))
	return newSweepHandler(sw, logger), nil
}

// runner is the part of *sweep.Sweeper the handler uses.
type runner interface {
	Run(ctx context.Context) (sweep.Result, error)
}

// newSweepHandler runs one sweep per scheduled event within the invocation's
// deadline (ctx carries it; the sweeper stops short of it). A listing
// failure is returned so that the invocation counts as an error; anything
// left undone is picked up by the next scheduled run.
func newSweepHandler(sw runner, logger *slog.Logger) Handler {
	return func(ctx context.Context, ev events.CloudWatchEvent) (sweep.Result, error) {
		logger.DebugContext(ctx, "scheduled event", slog.String("event_id", ev.ID), slog.Time("time", ev.Time))
		res, err := sw.Run(ctx)
		if err != nil {
			return res, fmt.Errorf("sweep: %w", err)
		}
		return res, nil
	}
}
