package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/redlease/redlease/internal/config"
	"github.com/redlease/redlease/internal/wire"
	"github.com/redlease/redlease/pkg/eventbus"
	"github.com/redlease/redlease/pkg/eventsink"
	"github.com/redlease/redlease/pkg/observe"
	"github.com/redlease/redlease/pkg/sweep"
)

// Where the sweep's events go.
const (
	eventsLog         = "log"         // JSON lines in the log (stderr)
	eventsEventBridge = "eventbridge" // the bus REDLEASE_EVENT_BUS names, as the deployed sweep
)

// runSweep is `redlease sweep`: one sweep of any backend, its result as
// JSON on stdout, logs and (by default) events as JSON lines on stderr.
func runSweep(ctx context.Context, e env, args []string) error {
	cfg, err := config.FromEnv(e.Getenv)
	if err != nil {
		return usageError{err.Error()}
	}
	fs := flag.NewFlagSet("sweep", flag.ContinueOnError)
	fs.SetOutput(e.Stderr)
	registerStoreFlags(fs, &cfg)
	events := fs.String("events", eventsLog, "where events go: log (JSON lines on stderr) or eventbridge ("+config.EnvEventBus+")")
	fs.StringVar(&cfg.EventBus, "event-bus", cfg.EventBus, "EventBridge bus for --events eventbridge ("+config.EnvEventBus+")")
	eventsURL := fs.String("events-url", "", "POST the events to this URL instead (a JSON array of EventBridge-shaped events a batch)")
	timeout := fs.Duration("timeout", 0, "stop starting new work this long after the start, less a tenth (0: run to the end)")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected arguments: %q", fs.Args())}
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err.Error()}
	}
	if *events != eventsLog && *events != eventsEventBridge {
		return usageError{fmt.Sprintf("--events must be %s or %s, got %q", eventsLog, eventsEventBridge, *events)}
	}
	if err := checkEventsURL(*eventsURL); err != nil {
		return err
	}
	log := observe.NewLogger(e.Stderr, cfg.LogLevel)
	app, err := wire.Load(ctx, cfg, *events == eventsEventBridge && *eventsURL == "")
	if err != nil {
		return err
	}
	pub := publisherFor(app, *events, *eventsURL, log)
	sw, err := sweep.New(sweep.Config{Store: app.Store, Publisher: pub, Logger: log, DeadlineMargin: *timeout / 10})
	if err != nil {
		return err
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	res, runErr := sw.Run(ctx)
	if err := json.NewEncoder(e.Stdout).Encode(res); err != nil {
		return err
	}
	return runErr
}

// checkEventsURL refuses what cannot be POSTed to.
func checkEventsURL(raw string) error {
	if raw == "" {
		return nil
	}
	if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageError{fmt.Sprintf("--events-url %q is not an http(s) URL", raw)}
	}
	return nil
}

// checkSweepFlags checks serve's --sweep-every and --events-url.
func checkSweepFlags(every time.Duration, eventsURL string) error {
	switch {
	case every < 0:
		return usageError{fmt.Sprintf("--sweep-every %s is negative", every)}
	case eventsURL != "" && every == 0:
		return usageError{"--events-url needs --sweep-every"}
	}
	return checkEventsURL(eventsURL)
}

// publisherFor is the sink the flags chose: a webhook when a URL is given,
// else EventBridge or the log.
func publisherFor(app *wire.App, events, eventsURL string, log *slog.Logger) sweep.Publisher {
	switch {
	case eventsURL != "":
		return eventsink.NewWebhook(eventsURL, nil)
	case events == eventsEventBridge:
		return eventbus.New(eventbridge.NewFromConfig(app.AWS), app.Config.EventBus)
	default:
		return eventsink.NewLog(log.With(slog.String("event", "lease_expired")))
	}
}

// maxSweepMargin caps the margin a periodic sweep keeps before its next tick.
const maxSweepMargin = 10 * time.Second

// startSweeps runs a sweep of app's store every interval until ctx ends,
// for `redlease serve --sweep-every`: events go as JSON lines to log, or to
// eventsURL. Each run must end before the next tick (a fifth of the
// interval, at most 10 s, is its margin), so runs never overlap; a run
// that could not finish is continued by the next. stop waits for the run
// in progress.
func startSweeps(ctx context.Context, app *wire.App, every time.Duration, eventsURL string, log *slog.Logger) (stop func(), err error) {
	log = log.With(slog.String("component", "sweep"))
	sw, err := sweep.New(sweep.Config{Store: app.Store, Publisher: publisherFor(app, eventsLog, eventsURL, log),
		Logger: log, DeadlineMargin: min(every/5, maxSweepMargin)})
	if err != nil {
		return nil, err
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			rctx, cancel := context.WithTimeout(ctx, every)
			if _, err := sw.Run(rctx); err != nil && !errors.Is(ctx.Err(), context.Canceled) {
				log.Warn("sweep run failed; the next tick retries", slog.String("error", err.Error()))
			}
			cancel()
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	log.Info("sweeping", slog.String("every", every.String()))
	return wg.Wait, nil
}
