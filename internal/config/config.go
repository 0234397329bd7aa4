// Package config reads redlease's deployment settings from the environment.
// Every entry point (the Lambda functions, the sweep, the local server) calls
// FromEnv once at start and passes the Config down; nothing here is global,
// so tests hand in their own getenv.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/redlease/redlease/pkg/lease"
)

// The environment variables FromEnv reads.
const (
	EnvBackend     = "REDLEASE_BACKEND"
	EnvDataDir     = "REDLEASE_DATA_DIR"
	EnvBucket      = "REDLEASE_BUCKET"
	EnvPrefix      = "REDLEASE_PREFIX"
	EnvS3PathStyle = "REDLEASE_S3_PATH_STYLE"
	EnvTable       = "REDLEASE_TABLE"
	EnvTTLMinMs    = "REDLEASE_TTL_MIN_MS"
	EnvTTLMaxMs    = "REDLEASE_TTL_MAX_MS"
	EnvLogLevel    = "REDLEASE_LOG_LEVEL"
	EnvEventBus    = "REDLEASE_EVENT_BUS"
)

// Vars returns the name of every variable FromEnv reads (a test holds it
// to what FromEnv asks for, and the stack's environment to it).
func Vars() []string {
	return []string{EnvBackend, EnvDataDir, EnvBucket, EnvPrefix, EnvS3PathStyle, EnvTable,
		EnvTTLMinMs, EnvTTLMaxMs, EnvLogLevel, EnvEventBus}
}

// The storage backends.
const (
	BackendFile     = "file"
	BackendMemory   = "memory"
	BackendS3       = "s3"
	BackendDynamoDB = "dynamodb"
)

// Defaults applied when a variable is unset or empty.
const (
	DefaultBackend = BackendFile
	DefaultDataDir = ".redlease"
	DefaultPrefix  = lease.DefaultPrefix
)

// Config is one deployment's settings.
type Config struct {
	Backend     string // "file" (the default), "memory", "s3", "dynamodb"
	DataDir     string // file backend: root directory
	Bucket      string // s3 backend
	Prefix      string // object key prefix, default "leases/"
	S3PathStyle bool   // s3 backend: path-style addressing (LocalStack)
	Table       string // dynamodb backend
	Limits      lease.Limits
	LogLevel    slog.Level
	EventBus    string // sweep: EventBridge bus for "Lease Expired" events
}

// FromEnv reads the REDLEASE_* variables through getenv (os.Getenv in
// production). Unset or empty variables take their defaults; a value that is
// set but malformed is an error naming the variable, so a typo in a
// deployment fails at start instead of silently running with a default.
func FromEnv(getenv func(string) string) (Config, error) {
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	cfg := Config{
		Backend:  strings.ToLower(get(EnvBackend)),
		DataDir:  get(EnvDataDir),
		Bucket:   get(EnvBucket),
		Prefix:   getenv(EnvPrefix), // not trimmed: a prefix is taken literally
		Table:    get(EnvTable),
		Limits:   lease.DefaultLimits(),
		LogLevel: slog.LevelInfo,
		EventBus: get(EnvEventBus),
	}
	if cfg.Backend == "" {
		cfg.Backend = DefaultBackend
	}
	if cfg.DataDir == "" {
		cfg.DataDir = DefaultDataDir
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	var errs []error
	if v := get(EnvS3PathStyle); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: want true or false", EnvS3PathStyle, v))
		}
		cfg.S3PathStyle = b
	}
	if v := get(EnvLogLevel); v != "" {
		if err := cfg.LogLevel.UnmarshalText([]byte(v)); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: want debug, info, warn or error", EnvLogLevel, v))
		}
	}
	if d, ok, err := millis(get, EnvTTLMinMs); err != nil {
		errs = append(errs, err)
	} else if ok {
		cfg.Limits.MinTTL = d
	}
	if d, ok, err := millis(get, EnvTTLMaxMs); err != nil {
		errs = append(errs, err)
	} else if ok {
		cfg.Limits.MaxTTL = d
	}
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return cfg, nil
}

// Validate checks the combination of settings: the backend is known and has
// what it needs, and the TTL bounds make sense. Callers that override fields
// after FromEnv (command-line flags) call it again.
func (c Config) Validate() error {
	var errs []error
	switch c.Backend {
	case BackendFile:
		if c.DataDir == "" {
			errs = append(errs, fmt.Errorf("backend %q needs a data directory (%s)", c.Backend, EnvDataDir))
		}
	case BackendMemory:
	case BackendS3:
		if c.Bucket == "" {
			errs = append(errs, fmt.Errorf("backend %q needs a bucket (%s)", c.Backend, EnvBucket))
		}
	case BackendDynamoDB:
		if c.Table == "" {
			errs = append(errs, fmt.Errorf("backend %q needs a table (%s)", c.Backend, EnvTable))
		}
	default:
		errs = append(errs, fmt.Errorf("%s=%q: want file, memory, s3 or dynamodb", EnvBackend, c.Backend))
	}
	if strings.HasPrefix(c.Prefix, "/") {
		errs = append(errs, fmt.Errorf("%s=%q: must not start with '/'", EnvPrefix, c.Prefix))
	}
	if c.Limits.MinTTL < time.Millisecond {
		errs = append(errs, fmt.Errorf("%s: minimum TTL must be at least 1 ms", EnvTTLMinMs))
	}
	if c.Limits.MaxTTL < c.Limits.MinTTL {
		errs = append(errs, fmt.Errorf("%s (%d) is below %s (%d)", EnvTTLMaxMs,
			c.Limits.MaxTTL.Milliseconds(), EnvTTLMinMs, c.Limits.MinTTL.Milliseconds()))
	}
	return errors.Join(errs...)
}

// NeedsAWS reports whether the backend talks to AWS, so that entry points
// skip loading the SDK configuration (and its cold-start cost) otherwise.
func (c Config) NeedsAWS() bool {
	return c.Backend == BackendS3 || c.Backend == BackendDynamoDB
}

// maxTTLMs keeps TTLs far from overflowing expires_at_ms and time.Duration.
const maxTTLMs = 365 * 24 * 60 * 60 * 1000

func millis(get func(string) string, name string) (time.Duration, bool, error) {
	v := get(name)
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n < 1 || n > maxTTLMs {
		return 0, false, fmt.Errorf("%s=%q: want milliseconds between 1 and %d", name, v, uint64(maxTTLMs))
	}
	return time.Duration(n) * time.Millisecond, true, nil
}
