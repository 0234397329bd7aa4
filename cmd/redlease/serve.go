package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/redlease/redlease/internal/config"
	"github.com/redlease/redlease/internal/wire"
	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/api/httpserver"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/observe"
)

// shutdownTimeout bounds how long in-flight requests may finish after
// SIGINT or SIGTERM.
const shutdownTimeout = 10 * time.Second

// The connection cap's defaults. A RedDB writer keeps one or two
// connections to its lease service, so 256 served at once is far above
// any real deployment of the local server; 256 served plus 256 waiting
// stay well under the common soft limit of 1024 open files, leaving room
// for the file backend's files and the SDK's connections to S3 or
// DynamoDB. Beyond that a connection is answered 503 overloaded at once
// instead of making every client slow (docs/api.md).
const (
	defaultMaxConns   = 256
	defaultMaxWaiting = 256
	maxHeaderBytes    = 64 << 10
)

// serve runs the API until ctx is cancelled. Flags override the REDLEASE_*
// environment, which overrides the defaults.
func serve(ctx context.Context, e env, args []string) error {
	cfg, err := config.FromEnv(e.Getenv)
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(e.Stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	registerStoreFlags(fs, &cfg)
	fs.StringVar(&cfg.Tokens.File, "tokens", cfg.Tokens.File,
		"bearer tokens document: every route then needs Authorization: Bearer <token> ("+config.EnvTokensFile+"); without it the server is open")
	insecureOpen := fs.Bool("insecure-open", false, "serve without tokens on a non-loopback address (every caller is \"anonymous\")")
	sweepEvery := fs.Duration("sweep-every", 0, "run the expiry sweep this often, events as JSON lines in the log (0: never)")
	eventsURL := fs.String("events-url", "", "with --sweep-every: POST the events to this URL instead of logging them")
	maxConns := fs.Int("max-conns", defaultMaxConns, "connections served at once (0: no cap)")
	maxWaiting := fs.Int("max-waiting", defaultMaxWaiting, "connections that may wait for a place beyond --max-conns; more are answered 503 overloaded")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected arguments: %q", fs.Args())}
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err.Error()}
	}
	if err := checkSweepFlags(*sweepEvery, *eventsURL); err != nil {
		return err
	}
	if *maxConns < 0 || *maxWaiting < 0 {
		return usageError{"--max-conns and --max-waiting must not be negative"}
	}
	open := !cfg.Tokens.Enabled()
	if err := checkOpen(*addr, open, *insecureOpen); err != nil {
		return err
	}
	log := observe.NewLogger(e.Stderr, cfg.LogLevel)
	handler, app, err := buildHTTP(ctx, cfg, log)
	if err != nil {
		return err
	}
	if *sweepEvery > 0 {
		stop, err := startSweeps(ctx, app, *sweepEvery, *eventsURL, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	tcp, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	ln := httpserver.Listen(tcp, httpserver.Limits{MaxConns: *maxConns, MaxWaiting: *maxWaiting, MaxHeaderBytes: maxHeaderBytes})
	srv := newServer(ln, handler, log)
	auth := "bearer tokens from " + cfg.Tokens.File
	if open {
		auth = "open: every caller is " + lease.AnonymousName
	}
	log.Info("listening", "addr", ln.Addr().String(), "url", "http://"+ln.Addr().String(),
		"backend", cfg.Backend, "data_dir", dataDirOf(cfg), "auth", auth)
	return serveUntilDone(ctx, srv, ln, log)
}

// newServer is the local server's http.Server over ln: the connection cap
// and net/http's own errors as JSON (httpserver.Listener).
func newServer(ln *httpserver.Listener, handler http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           ln.Handler(handler),
		ConnState:         ln.ConnState,
		ConnContext:       ln.ConnContext,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// serveUntilDone serves until ctx is cancelled, then lets in-flight
// requests finish within shutdownTimeout.
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener, log *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}

// checkOpen refuses to serve without tokens (open: every caller is
// anonymous, with every key) where other machines can connect, unless the
// operator said so.
func checkOpen(addr string, open, insecureOpen bool) error {
	if open && !insecureOpen && !loopback(addr) {
		return usageError{fmt.Sprintf("refusing to serve without tokens on %s, which is not a loopback address: "+
			"pass --tokens FILE (or %s), or --insecure-open to let every caller touch every key", addr, config.EnvTokensFile)}
	}
	return nil
}

// loopback reports whether a listen address only accepts connections from
// this machine: localhost or a loopback IP (not "" or 0.0.0.0, which mean
// every interface).
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// buildHTTP wires the App and its faces, as the Lambda functions do
// (wire.Load, App.LoadAuth, App.Face), behind the net/http adapter.
// Without a tokens document every request is lease.Anonymous.
func buildHTTP(ctx context.Context, cfg config.Config, log *slog.Logger) (http.Handler, *wire.App, error) {
	app, err := wire.Load(ctx, cfg, false)
	if err != nil {
		return nil, nil, err
	}
	if err := app.LoadAuth(ctx, log); err != nil {
		return nil, nil, err
	}
	if app.Auth == nil {
		app.Auth = api.Open()
	}
	// Every operation of both faces, objects of any size (streamed); no
	// EMF locally: nothing ships it.
	face, err := app.Face(ctx, log, nil, wire.FaceOptions{})
	if err != nil {
		return nil, nil, err
	}
	return httpserver.Handler(face), app, nil
}

func dataDirOf(cfg config.Config) string {
	if cfg.Backend == config.BackendFile {
		return cfg.DataDir
	}
	return ""
}
