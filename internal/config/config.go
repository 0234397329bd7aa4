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
	EnvMaxTermJump = "REDLEASE_MAX_TERM_JUMP"
	// Bearer tokens: a tokens document in a file (redlease serve) or an S3
	// object (the deployed stack), re-read every REDLEASE_TOKENS_RELOAD_MS.
	EnvTokensFile     = "REDLEASE_TOKENS_FILE"      //nolint:gosec // a variable name, not a credential
	EnvTokensBucket   = "REDLEASE_TOKENS_BUCKET"    //nolint:gosec // a variable name, not a credential
	EnvTokensKey      = "REDLEASE_TOKENS_KEY"       //nolint:gosec // a variable name, not a credential
	EnvTokensReloadMs = "REDLEASE_TOKENS_RELOAD_MS" //nolint:gosec // a variable name, not a credential
	// The RedDB face's settings (/v1/reddb/).
	EnvRedDBBucket       = "REDLEASE_REDDB_BUCKET"
	EnvRedDBRequireLease = "REDLEASE_REDDB_REQUIRE_LEASE"
	EnvRedDBDataFile     = "REDLEASE_REDDB_DATA_FILE"
	EnvRedDBFenceMargin  = "REDLEASE_REDDB_FENCE_MARGIN_MS"
)

// Vars returns the name of every variable FromEnv reads (a test holds it
// to what FromEnv asks for, and the stack's environment to it).
func Vars() []string {
	return []string{EnvBackend, EnvDataDir, EnvBucket, EnvPrefix, EnvS3PathStyle, EnvTable,
		EnvTTLMinMs, EnvTTLMaxMs, EnvLogLevel, EnvEventBus, EnvMaxTermJump,
		EnvTokensFile, EnvTokensBucket, EnvTokensKey, EnvTokensReloadMs,
		EnvRedDBBucket, EnvRedDBRequireLease, EnvRedDBDataFile, EnvRedDBFenceMargin}
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
	// DefaultTokensKey is the tokens document's object key in its bucket.
	DefaultTokensKey = "tokens.json"
	// How often a tokens document is checked: a file costs a read, an S3
	// object a conditional GET (304 while unchanged).
	DefaultTokensFileReload = time.Second
	DefaultTokensS3Reload   = time.Minute
)

// Tokens says where the bearer tokens document is: nowhere (no bearer
// tokens), a file, or an S3 object.
type Tokens struct {
	File   string
	Bucket string
	Key    string
	// Reload is how often the document is checked (the source's default
	// when zero).
	Reload time.Duration
}

// Enabled reports whether a tokens document is configured.
func (t Tokens) Enabled() bool { return t.File != "" || t.Bucket != "" }

// Every is the check interval in force.
func (t Tokens) Every() time.Duration {
	switch {
	case t.Reload > 0:
		return t.Reload
	case t.Bucket != "":
		return DefaultTokensS3Reload
	default:
		return DefaultTokensFileReload
	}
}

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
	Tokens      Tokens // bearer tokens; none when not Enabled
	RedDB       RedDB  // the RedDB face
}

// RedDB configures the RedDB face (/v1/reddb/), RedDB's own object
// protocol over the lease service.
type RedDB struct {
	// Bucket holds RedDB's data objects on S3: the lease bucket by default
	// with the s3 backend; required with dynamodb (lease records in the
	// table, data in a bucket).
	Bucket string
	// RequireLease refuses data writes to databases without a lease record.
	RequireLease bool
	// DataFile is the name every database key ends in (RedDB's data.rdb).
	DataFile string
	// FenceMargin is how long a lease must still run for a data write to
	// be accepted; the face's default (1 s) when zero.
	FenceMargin time.Duration
}

// DataBucket is the bucket of RedDB's data objects for an S3-backed face,
// "" when none is configured (the file and memory backends need none).
func (c Config) DataBucket() string {
	if c.RedDB.Bucket != "" {
		return c.RedDB.Bucket
	}
	if c.Backend == BackendS3 {
		return c.Bucket
	}
	return ""
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
		Tokens:   Tokens{File: get(EnvTokensFile), Bucket: get(EnvTokensBucket), Key: get(EnvTokensKey)},
	}
	if cfg.Tokens.Bucket != "" && cfg.Tokens.Key == "" {
		cfg.Tokens.Key = DefaultTokensKey
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
	cfg.RedDB.Bucket, cfg.RedDB.DataFile = get(EnvRedDBBucket), get(EnvRedDBDataFile)
	if v := get(EnvRedDBRequireLease); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: want true or false", EnvRedDBRequireLease, v))
		}
		cfg.RedDB.RequireLease = b
	}
	if v := get(EnvRedDBFenceMargin); v != "" {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("%s=%q: want milliseconds, at least 1", EnvRedDBFenceMargin, v))
		}
		cfg.RedDB.FenceMargin = time.Duration(n) * time.Millisecond
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
	if d, ok, err := millis(get, EnvTokensReloadMs); err != nil {
		errs = append(errs, err)
	} else if ok {
		cfg.Tokens.Reload = d
	}
	if v := get(EnvMaxTermJump); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n < 1 || n > lease.MaxSafeInteger {
			errs = append(errs, fmt.Errorf("%s=%q: want a term distance between 1 and %d", EnvMaxTermJump, v, lease.MaxSafeInteger))
		}
		cfg.Limits.MaxTermJump = n
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
	if c.Tokens.File != "" && c.Tokens.Bucket != "" {
		errs = append(errs, fmt.Errorf("%s and %s both set: one tokens document, in a file or in S3", EnvTokensFile, EnvTokensBucket))
	}
	if c.Tokens.Key != "" && c.Tokens.Bucket == "" {
		errs = append(errs, fmt.Errorf("%s needs %s", EnvTokensKey, EnvTokensBucket))
	}
	if f := c.RedDB.DataFile; f != "" && (strings.Contains(f, "/") || f == "." || f == "..") {
		errs = append(errs, fmt.Errorf("%s=%q: must be a file name (RedDB's default is data.rdb)", EnvRedDBDataFile, f))
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
	return c.Backend == BackendS3 || c.Backend == BackendDynamoDB || c.Tokens.Bucket != ""
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
