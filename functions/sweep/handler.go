package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/redlease/redlease/internal/config"
	"github.com/redlease/redlease/internal/wire"
	"github.com/redlease/redlease/pkg/eventbus"
	"github.com/redlease/redlease/pkg/observe"
	"github.com/redlease/redlease/pkg/sweep"
)

// handler is what lambda.Start runs for each scheduled event.
type handler func(ctx context.Context, ev events.CloudWatchEvent) (sweep.Result, error)

// setup reads the configuration once and builds the clients, the store and
// the sweeper, outside the handler so that a warm instance reuses them.
// Logs and EMF metrics go to out (stdout in Lambda).
func setup(ctx context.Context, getenv func(string) string, out io.Writer) (handler, error) {
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return nil, err
	}
	awsCfg, err := wire.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	store, err := wire.Store(ctx, cfg, awsCfg)
	if err != nil {
		return nil, fmt.Errorf("sweep store: %w", err)
	}
	logger := observe.NewLogger(out, cfg.LogLevel).With(slog.String("function", "sweep"))
	sw, err := sweep.New(sweep.Config{
		Store:     store,
		Publisher: eventbus.New(eventbridge.NewFromConfig(awsCfg), cfg.EventBus),
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
	return newHandler(sw, logger), nil
}

// runner is the part of *sweep.Sweeper the handler uses.
type runner interface {
	Run(ctx context.Context) (sweep.Result, error)
}

// newHandler runs one sweep per scheduled event within the invocation's
// deadline (ctx carries it; the sweeper stops short of it). A listing
// failure is returned so that the invocation counts as an error; anything
// left undone is picked up by the next scheduled run.
func newHandler(sw runner, logger *slog.Logger) handler {
	return func(ctx context.Context, ev events.CloudWatchEvent) (sweep.Result, error) {
		logger.DebugContext(ctx, "scheduled event", slog.String("event_id", ev.ID), slog.Time("time", ev.Time))
		res, err := sw.Run(ctx)
		if err != nil {
			return res, fmt.Errorf("sweep: %w", err)
		}
		return res, nil
	}
}
