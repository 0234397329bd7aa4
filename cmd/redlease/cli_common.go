package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/redlease/redlease/pkg/client"
	"github.com/redlease/redlease/pkg/lease"
)

// Exit statuses of the client subcommands (documented in docs/client.md).
const (
	exitOK          = 0
	exitOther       = 1 // anything else: internal error, unauthorized, forbidden, bad credentials
	exitUsage       = 2 // bad flags, or the service refused the request as invalid
	exitHeld        = 3 // another holder has a live lease (also: wait timed out)
	exitFenced      = 4 // the term is behind the published term
	exitStale       = 5 // the generation is no longer this holder's
	exitUnavailable = 6 // storage/gateway/network failure or lost races after retries; a write's outcome may be unknown
	exitNotFound    = 7 // get of a key that was never taken
	exitLost        = 8 // hold: the lease was lost while the command ran, and the command was stopped
)

// EnvEndpoint overrides the default endpoint of the client subcommands.
const EnvEndpoint = "REDLEASE_ENDPOINT"

// EnvToken is the bearer token of the client subcommands (redlease serve
// --tokens, the RedDB face). The environment keeps it out of ps, where a
// --token flag is visible to every user of the machine.
const EnvToken = "REDLEASE_TOKEN" //nolint:gosec // a variable name, not a credential

// exitCodeError carries a specific exit status. The dispatcher in main.go
// returns ExitCode() for any error that has one (the exec.ExitError
// convention); exitStatus below is the mapping.
type exitCodeError struct {
	code int
	err  error
}

func (e *exitCodeError) Error() string { return e.err.Error() }
func (e *exitCodeError) Unwrap() error { return e.err }
func (e *exitCodeError) ExitCode() int { return e.code }

// withStatus attaches the exit status that err's kind documents.
func withStatus(err error) error {
	if err == nil {
		return nil
	}
	return &exitCodeError{code: exitStatus(err), err: err}
}

// exitStatus maps an error to the documented exit status. Order matters: a
// wait that timed out while held is "held", not "unavailable".
func exitStatus(err error) int {
	var ec interface{ ExitCode() int }
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &ec):
		return ec.ExitCode()
	case errors.Is(err, lease.ErrInvalid):
		return exitUsage
	case errors.Is(err, lease.ErrHeld):
		return exitHeld
	case errors.Is(err, lease.ErrFenced):
		return exitFenced
	case errors.Is(err, lease.ErrStale):
		return exitStale
	case errors.Is(err, lease.ErrUnavailable), errors.Is(err, lease.ErrLostRace), errors.Is(err, lease.ErrClockSkew),
		errors.Is(err, client.ErrOutcomeUnknown), errors.Is(err, context.DeadlineExceeded):
		return exitUnavailable
	case errors.Is(err, lease.ErrNotFound):
		return exitNotFound
	}
	return exitOther
}

// commonFlags are the flags every client subcommand takes.
type commonFlags struct {
	endpoint string
	region   string
	profile  string
	sign     string
	token    string
	output   string
	timeout  time.Duration
}

func (c *commonFlags) register(fs *flag.FlagSet, e env, timeout time.Duration) {
	def := client.DefaultEndpoint
	if v := e.Getenv(EnvEndpoint); v != "" {
		def = v
	}
	fs.StringVar(&c.endpoint, "endpoint", def, "API base URL ("+EnvEndpoint+"); an API Gateway stage URL for the deployed service")
	fs.StringVar(&c.region, "region", "", "AWS region for signing (default: AWS_REGION, the profile's, or the endpoint's host name)")
	fs.StringVar(&c.profile, "profile", "", "AWS shared config profile for signing (default: AWS_PROFILE)")
	fs.StringVar(&c.sign, "sign", "auto", "SigV4-sign requests: auto (unless the endpoint is loopback or a token is set), always, never")
	fs.StringVar(&c.token, "token", e.Getenv(EnvToken), "bearer token for redlease serve --tokens ("+EnvToken+", which ps does not show)")
	fs.StringVar(&c.output, "output", "text", "output format: text or json")
	fs.DurationVar(&c.timeout, "timeout", timeout, "give up after this long, retries included (0: no limit)")
}

func (c *commonFlags) check() error {
	if c.output != "text" && c.output != "json" {
		return usageError{fmt.Sprintf("--output must be text or json, got %q", c.output)}
	}
	m, err := signMode(c.sign)
	if err != nil {
		return err
	}
	if c.token != "" && m != nil && *m {
		return usageError{"--sign=always and a bearer token both fill the Authorization header; choose one"}
	}
	return nil
}

// signMode parses --sign; nil means auto.
func signMode(v string) (*bool, error) {
	yes, no := true, false
	switch strings.ToLower(v) {
	case "auto", "":
		return nil, nil
	case "always", "true", "yes":
		return &yes, nil
	case "never", "false", "no":
		return &no, nil
	}
	return nil, usageError{fmt.Sprintf("--sign must be auto, always or never, got %q", v)}
}

// shouldSign decides --sign=auto: sign unless the endpoint's host is
// loopback (redlease serve, make run), which ignores signatures and where
// AWS credentials are usually absent. Anything else is taken to be API
// Gateway or a proxy in front of it, which requires them.
func shouldSign(mode string, u *url.URL) bool {
	if m, _ := signMode(mode); m != nil {
		return *m
	}
	host := strings.ToLower(u.Hostname())
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return false
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return false
	}
	return true
}

// newClient builds the client the flags describe.
func (c *commonFlags) newClient(ctx context.Context, clock client.Clock) (*client.Client, error) {
	u, err := url.Parse(c.endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageError{fmt.Sprintf("--endpoint %q: want http(s)://host[:port][/stage]", c.endpoint)}
	}
	opts := client.Options{Endpoint: c.endpoint, Clock: clock, UserAgent: "redlease-cli/1", Token: c.token}
	if c.token != "" || !shouldSign(c.sign, u) {
		c, err := client.New(opts)
		if err != nil {
			return nil, usageError{err.Error()}
		}
		return c, nil
	}
	var load []func(*config.LoadOptions) error
	if c.profile != "" {
		load = append(load, config.WithSharedConfigProfile(c.profile))
	}
	if c.region != "" {
		load = append(load, config.WithRegion(c.region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = client.RegionFromEndpoint(c.endpoint)
	}
	if cfg.Region == "" {
		return nil, usageError{"signing needs a region: pass --region or set AWS_REGION (or --sign=never for an unsigned endpoint)"}
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return nil, fmt.Errorf("no AWS credentials for signing (use --sign=never for redlease serve): %w", err)
	}
	return client.NewFromAWSConfig(opts, cfg)
}

// withTimeout bounds ctx by --timeout (0: no bound).
func (c *commonFlags) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, c.timeout)
}

// parseTTL accepts a Go duration ("60s", "1m30s") or whole milliseconds
// ("60000"), as the API counts them.
type ttlFlag struct{ d *time.Duration }

func (f ttlFlag) String() string {
	if f.d == nil {
		return ""
	}
	return f.d.String()
}

func (f ttlFlag) Set(v string) error {
	if ms, err := strconv.ParseUint(v, 10, 63); err == nil {
		*f.d = time.Duration(ms) * time.Millisecond
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return fmt.Errorf("want a duration such as 60s or milliseconds such as 60000")
	}
	*f.d = d
	return nil
}

// parseFlags runs fs.Parse and turns its failures into usage errors;
// -h prints the flags and succeeds.
func parseFlags(fs *flag.FlagSet, args []string) (help bool, err error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return true, nil
		}
		return false, usageError{err.Error()}
	}
	return false, nil
}

func require(name, v string) error {
	if v == "" {
		return usageError{"--" + name + " is required"}
	}
	return nil
}

// printLease writes a lease answer: the contract's JSON body, or one
// name=value line per field.
func printLease(w io.Writer, format string, l lease.Lease, snap *client.Snapshot) error {
	if format == "json" {
		body := map[string]any{"lease": l}
		if snap != nil {
			body["state"], body["expires_in_ms"] = snap.State, snap.ExpiresIn.Milliseconds()
		}
		return json.NewEncoder(w).Encode(body)
	}
	fmt.Fprintf(w, "database_key=%s\nholder_id=%s\nterm=%d\ngeneration=%d\nacquired_at_ms=%d\nexpires_at_ms=%d\n",
		l.DatabaseKey, l.HolderID, l.Term, l.Generation, l.AcquiredAtMs, l.ExpiresAtMs)
	if l.Released() {
		fmt.Fprintf(w, "released_at_ms=%d\n", l.ReleasedAtMs)
	}
	if snap != nil {
		fmt.Fprintf(w, "state=%s\nexpires_in_ms=%d\n", snap.State, snap.ExpiresIn.Milliseconds())
	}
	return nil
}

// printError writes, in json mode, the error as the contract's error body
// (plus status, request id and outcome_unknown) on stdout, so scripts can
// read the current holder of a held lease. The dispatcher prints the
// message on stderr in both modes.
func printError(w io.Writer, format string, err error) {
	if format != "json" || err == nil {
		return
	}
	detail := map[string]any{"message": err.Error()}
	var ae *client.APIError
	if errors.As(err, &ae) {
		detail["code"], detail["status"] = ae.Code, ae.StatusCode
		if ae.RequestID != "" {
			detail["request_id"] = ae.RequestID
		}
		if ae.Field != "" {
			detail["field"] = ae.Field
		}
		if ae.RetryAfter > 0 {
			detail["retry_after_ms"] = ae.RetryAfter.Milliseconds()
		}
	}
	var (
		held   *lease.HeldError
		stale  *lease.StaleError
		fenced *lease.FencedError
	)
	switch {
	case errors.As(err, &held):
		detail["current"] = held.Current
	case errors.As(err, &stale) && stale.Current != nil:
		detail["current"] = stale.Current
	case errors.As(err, &fenced):
		detail["current_term"] = fenced.CurrentTerm
	}
	if detail["code"] == nil || detail["code"] == "" {
		detail["code"] = fallbackCode(err)
	}
	if errors.Is(err, client.ErrOutcomeUnknown) {
		detail["outcome_unknown"] = true
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"error": detail})
}

func fallbackCode(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, client.ErrUnauthorized):
		return "unauthorized"
	case errors.Is(err, lease.ErrForbidden):
		return "forbidden"
	case errors.Is(err, lease.ErrUnavailable):
		return "unavailable"
	case errors.Is(err, lease.ErrNotFound):
		return "not_found"
	}
	return "error"
}
