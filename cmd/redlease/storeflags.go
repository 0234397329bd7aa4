package main

import (
	"flag"

	"github.com/redlease/redlease/internal/config"
)

// registerStoreFlags adds the storage and logging flags that serve and
// sweep share; each overrides its REDLEASE_* variable in cfg.
func registerStoreFlags(fs *flag.FlagSet, cfg *config.Config) {
	fs.StringVar(&cfg.Backend, "backend", cfg.Backend, "storage: file, memory, s3 or dynamodb ("+config.EnvBackend+")")
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "file backend directory ("+config.EnvDataDir+")")
	fs.StringVar(&cfg.Bucket, "bucket", cfg.Bucket, "s3 bucket ("+config.EnvBucket+")")
	fs.StringVar(&cfg.Prefix, "prefix", cfg.Prefix, "object key prefix ("+config.EnvPrefix+")")
	fs.BoolVar(&cfg.S3PathStyle, "s3-path-style", cfg.S3PathStyle, "path-style S3 addressing ("+config.EnvS3PathStyle+")")
	fs.StringVar(&cfg.Table, "table", cfg.Table, "dynamodb table ("+config.EnvTable+")")
	fs.TextVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "debug, info, warn or error ("+config.EnvLogLevel+")")
}
