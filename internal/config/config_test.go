package config

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redlease/redlease/pkg/lease"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestFromEnvDefaults(t *testing.T) {
	t.Parallel()
	got, err := FromEnv(env(nil))
	if err != nil {
		t.Fatalf("FromEnv(empty) error: %v", err)
	}
	want := Config{
		Backend:  "file",
		DataDir:  ".redlease",
		Prefix:   "leases/",
		Limits:   lease.DefaultLimits(),
		LogLevel: slog.LevelInfo,
	}
	if got != want {
		t.Errorf("FromEnv(empty) = %+v, want %+v", got, want)
	}
}

func TestFromEnvReadsEverything(t *testing.T) {
	t.Parallel()
	got, err := FromEnv(env(map[string]string{
		EnvBackend:     "S3",
		EnvBucket:      "b",
		EnvPrefix:      "x/",
		EnvS3PathStyle: "true",
		EnvTable:       "t",
		EnvTTLMinMs:    "500",
		EnvTTLMaxMs:    "90000",
		EnvLogLevel:    "debug",
		EnvEventBus:    "bus",
		EnvDataDir:     "/d",
	}))
	if err != nil {
		t.Fatalf("FromEnv error: %v", err)
	}
	want := lease.DefaultLimits()
	want.MinTTL, want.MaxTTL = 500*time.Millisecond, 90*time.Second
	if got.Backend != "s3" || got.Bucket != "b" || got.Prefix != "x/" || !got.S3PathStyle ||
		got.Table != "t" || got.LogLevel != slog.LevelDebug || got.EventBus != "bus" ||
		got.DataDir != "/d" || got.Limits != want {
		t.Errorf("FromEnv = %+v", got)
	}
	if !got.NeedsAWS() {
		t.Error("NeedsAWS() = false for s3")
	}
}

func TestFromEnvRejectsBadValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want string // substring of the error
	}{
		{"unknown backend", map[string]string{EnvBackend: "redis"}, EnvBackend},
		{"s3 without bucket", map[string]string{EnvBackend: "s3"}, EnvBucket},
		{"dynamodb without table", map[string]string{EnvBackend: "dynamodb"}, EnvTable},
		{"bad bool", map[string]string{EnvS3PathStyle: "yes please"}, EnvS3PathStyle},
		{"bad level", map[string]string{EnvLogLevel: "loud"}, EnvLogLevel},
		{"ttl not a number", map[string]string{EnvTTLMinMs: "1s"}, EnvTTLMinMs},
		{"ttl zero", map[string]string{EnvTTLMaxMs: "0"}, EnvTTLMaxMs},
		{"ttl negative", map[string]string{EnvTTLMinMs: "-5"}, EnvTTLMinMs},
		{"min above max", map[string]string{EnvTTLMinMs: "5000", EnvTTLMaxMs: "4000"}, "below"},
		{"absolute prefix", map[string]string{EnvPrefix: "/leases/"}, EnvPrefix},
		{"require lease not a bool", map[string]string{EnvRedDBRequireLease: "sure"}, EnvRedDBRequireLease},
		{"fence margin zero", map[string]string{EnvRedDBFenceMargin: "0"}, EnvRedDBFenceMargin},
		{"fence margin a duration", map[string]string{EnvRedDBFenceMargin: "1s"}, EnvRedDBFenceMargin},
		{"data file a path", map[string]string{EnvRedDBDataFile: "a/data.rdb"}, EnvRedDBDataFile},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := FromEnv(env(tc.env))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("FromEnv(%v) error = %v, want one mentioning %q", tc.env, err, tc.want)
			}
		})
	}
}

// Vars is exactly what FromEnv asks the environment for, so the stack's
// environment can be checked against it.
func TestVarsAreWhatFromEnvReads(t *testing.T) {
	t.Parallel()
	asked := map[string]bool{}
	if _, err := FromEnv(func(name string) string { asked[name] = true; return "" }); err != nil {
		t.Fatal(err)
	}
	vars := Vars()
	for _, name := range vars {
		if !asked[name] {
			t.Errorf("Vars lists %s, which FromEnv never reads", name)
		}
		delete(asked, name)
	}
	for name := range asked {
		t.Errorf("FromEnv reads %s, which Vars does not list", name)
	}
}

func TestFromEnvTokensAndTermJump(t *testing.T) {
	t.Parallel()
	got, err := FromEnv(env(map[string]string{EnvTokensBucket: "cfg", EnvTokensReloadMs: "30000", EnvMaxTermJump: "10"}))
	if err != nil {
		t.Fatalf("FromEnv: %v", err)
	}
	if want := (Tokens{Bucket: "cfg", Key: DefaultTokensKey, Reload: 30 * time.Second}); got.Tokens != want || got.Tokens.Every() != 30*time.Second {
		t.Errorf("Tokens = %+v, want %+v", got.Tokens, want)
	}
	if got.Limits.MaxTermJump != 10 || !got.NeedsAWS() {
		t.Errorf("MaxTermJump %d, NeedsAWS %v; want 10 and true (the document is in S3)", got.Limits.MaxTermJump, got.NeedsAWS())
	}
	file, err := FromEnv(env(map[string]string{EnvTokensFile: "/etc/redlease/tokens.json"}))
	if err != nil || !file.Tokens.Enabled() || file.Tokens.Every() != DefaultTokensFileReload || file.NeedsAWS() {
		t.Errorf("tokens file: %+v, %v", file.Tokens, err)
	}
	if none, _ := FromEnv(env(nil)); none.Tokens.Enabled() {
		t.Error("tokens enabled by default")
	}
	for name, vars := range map[string]map[string]string{
		"file and bucket":    {EnvTokensFile: "f", EnvTokensBucket: "b"},
		"key without bucket": {EnvTokensKey: "k"},
		"term jump zero":     {EnvMaxTermJump: "0"},
		"term jump word":     {EnvMaxTermJump: "many"},
		"term jump too big":  {EnvMaxTermJump: "9007199254740992"},
		"reload zero":        {EnvTokensFile: "f", EnvTokensReloadMs: "0"},
	} {
		if _, err := FromEnv(env(vars)); err == nil {
			t.Errorf("%s: FromEnv accepted %v", name, vars)
		}
	}
}

func TestFromEnvRedDB(t *testing.T) {
	t.Parallel()
	got, err := FromEnv(env(map[string]string{EnvBackend: "dynamodb", EnvTable: "t", EnvRedDBBucket: "data",
		EnvRedDBRequireLease: "true", EnvRedDBDataFile: "main.rdb", EnvRedDBFenceMargin: "250"}))
	if err != nil {
		t.Fatal(err)
	}
	want := RedDB{Bucket: "data", RequireLease: true, DataFile: "main.rdb", FenceMargin: 250 * time.Millisecond}
	if got.RedDB != want || got.DataBucket() != "data" {
		t.Errorf("RedDB = %+v (data bucket %q), want %+v", got.RedDB, got.DataBucket(), want)
	}
	s3, err := FromEnv(env(map[string]string{EnvBackend: "s3", EnvBucket: "leases"}))
	if err != nil || s3.DataBucket() != "leases" || s3.RedDB != (RedDB{}) {
		t.Errorf("s3 without a RedDB bucket: data bucket %q, %+v, %v; want the lease bucket and defaults", s3.DataBucket(), s3.RedDB, err)
	}
	if file, _ := FromEnv(env(nil)); file.DataBucket() != "" {
		t.Errorf("file backend data bucket %q, want none", file.DataBucket())
	}
}
