// Package stack defines the AWS CDK stack that deploys the redlease writer-lease
// service: lease storage (S3 or DynamoDB), the Lambda functions of FunctionNames,
// an IAM-authorised HTTP API, the RedDB face's function URL (bearer tokens from the
// tokens bucket; a data bucket with dynamodb), the sweep schedule, the expiry event
// bus, alarms, and the caller, tenant and admin policies.
package stack

import (
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
)

// Storage selects the lease store.
type Storage string

const (
	// StorageS3 keeps one JSON object per lease under a prefix and relies on S3
	// conditional writes (If-None-Match / If-Match).
	StorageS3 Storage = "s3"
	// StorageDynamoDB keeps one item per lease keyed by database_key and relies on
	// condition expressions.
	StorageDynamoDB Storage = "dynamodb"
)

// Function names: each is both the Lambda construct id and the directory under
// LambdaDir that holds the bootstrap binary. They are the root module's
// functions (lambdafn.Functions: the functions/ folders), which
// test/consistency holds FunctionNames and Routes to.
const (
	FnAcquire = "acquire"
	FnRefresh = "refresh"
	FnRelease = "release"
	FnLease   = "lease"
	FnAdmin   = "admin"
	FnRedDB   = "reddb"
	FnSweep   = "sweep"
)

// FunctionNames lists every function in deployment order.
var FunctionNames = []string{FnAcquire, FnRefresh, FnRelease, FnLease, FnAdmin, FnRedDB, FnSweep}

// BearerFunctions are the functions that accept bearer tokens and so read
// the tokens document (TokenFunctions' default): the RedDB face's, since
// RedDB cannot sign SigV4. The IAM routes' functions do not: API Gateway
// lets no unsigned request through to them.
var BearerFunctions = []string{FnRedDB}

// URLFunctions are the functions reached through a Lambda function URL
// instead of API Gateway routes: the RedDB face (the root module's route
// table rows of face "reddb", which test/consistency holds this to).
var URLFunctions = []string{FnRedDB}

// SweepStatePrefix starts the S3 object that keeps the sweep's state between
// runs, outside the lease prefix: SweepStatePrefix + LeasePrefix + "state"
// (s3.DefaultStateKey; test/consistency checks).
const SweepStatePrefix = "redlease-sweep/"

// Defaults. Memory and timeouts are explained in defaultsFor and the README.
const (
	DefaultLeasePrefix          = "leases/" // lease.DefaultPrefix; test/consistency checks
	DefaultTTLMinMs             = 1000
	DefaultTTLMaxMs             = 86400000
	DefaultLogLevel             = "info"
	DefaultSweepSchedule        = "rate(1 minute)"
	DefaultAPIMemoryMB          = 256
	DefaultAPITimeout           = 10 * time.Second
	DefaultSweepMemoryMB        = 512
	DefaultSweepTimeout         = 50 * time.Second
	DefaultThrottleRateLimit    = 200
	DefaultThrottleBurstLimit   = 400
	DefaultNoncurrentVersionAge = 7
	DefaultEventSource          = "redlease"
	Default5xxRatePercent       = 1.0
)

// CustomDomainProps maps the API onto a custom domain. The certificate must be a
// regional ACM certificate in the stack's region that covers DomainName; the DNS
// record (CNAME/alias to the output regional domain) is left to the operator.
type CustomDomainProps struct {
	DomainName     string
	CertificateArn string
	// DisableDefaultEndpoint turns off the execute-api URL so callers must use the
	// custom domain.
	DisableDefaultEndpoint bool
}

// LeaseStackProps configures NewLeaseStack. Zero values take the defaults above.
type LeaseStackProps struct {
	awscdk.StackProps

	// Storage is s3 (default) or dynamodb.
	Storage Storage
	// LambdaDir holds one directory per function, each with a "bootstrap" binary
	// built for linux/arm64 (the Makefile writes build/lambda/arm64/<name>/bootstrap).
	// Required.
	LambdaDir string

	// BucketName / TableName pin the physical name; empty lets CloudFormation
	// generate one (recommended: names are global for S3).
	BucketName string
	TableName  string
	// LeasePrefix is the S3 key prefix of lease objects (default "leases/").
	LeasePrefix string
	// By default a bucket policy denies PutObject under the lease prefix unless the
	// request carries If-None-Match or If-Match (condition keys s3:if-none-match and
	// s3:if-match). Set DisableConditionalWriteEnforcement to leave it out.
	DisableConditionalWriteEnforcement bool
	// NoncurrentVersionDays expires old object versions (every refresh writes a new
	// version). Default 7.
	NoncurrentVersionDays int

	TTLMinMs int64
	TTLMaxMs int64
	LogLevel string

	// SweepSchedule is an EventBridge schedule expression (default "rate(1 minute)").
	SweepSchedule string
	// EventBusName names the bus that receives "Lease Expired" events; empty lets
	// CloudFormation generate one.
	EventBusName string

	APIMemoryMB   int
	APITimeout    time.Duration
	SweepMemoryMB int
	SweepTimeout  time.Duration
	// DisableTracing turns off X-Ray active tracing (on by default).
	DisableTracing bool

	// ReservedConcurrency caps a function's concurrency (function name -> limit).
	// Unset means the function shares the account's unreserved pool.
	ReservedConcurrency map[string]int
	// ProvisionedConcurrency keeps instances warm behind a "live" alias (function
	// name -> count). The API routes invoke the alias when set.
	ProvisionedConcurrency map[string]int

	// LogRetention applies to function and access log groups (default one month).
	LogRetention awslogs.RetentionDays

	// ThrottleRateLimit / ThrottleBurstLimit apply to every route of the default stage.
	ThrottleRateLimit  float64
	ThrottleBurstLimit float64

	CustomDomain *CustomDomainProps

	// TenantPrefixes are database-key prefixes (each ending in "/"), one
	// per tenant: for each the stack outputs a managed caller policy that
	// invokes only the routes with the key in the path, only under that
	// prefix.
	TenantPrefixes []string
	// TokenFunctions read the bearer tokens document from the tokens
	// bucket (default BearerFunctions); with none, no tokens bucket is
	// created.
	TokenFunctions []string
	// TokensBucketName pins the tokens bucket's name; empty lets
	// CloudFormation generate one.
	TokensBucketName string
	// RedDBPrefixes are the object key prefixes the RedDB function may
	// read and write data objects under (RED_REMOTE_KEY's directories,
	// e.g. "tenants/a/"); default [""], every key but the lease prefix,
	// which it reaches only through the lease rules.
	RedDBPrefixes []string
	// RedDBRequireLease refuses RedDB data writes to databases that have no
	// lease record (REDLEASE_REDDB_REQUIRE_LEASE).
	RedDBRequireLease bool

	// AlarmTopicArn, if set, receives alarm and OK notifications.
	AlarmTopicArn string
	// ServerErrorRatePercent is the 5xx share of requests that raises the alarm.
	ServerErrorRatePercent float64

	// Emulator, when set, applies that emulator's Deviations (emulator.go)
	// for the end-to-end test. Never set it for AWS.
	Emulator Emulator
}

// withDefaults returns a copy with defaults filled in, or an error for invalid input.
func (p *LeaseStackProps) withDefaults() (LeaseStackProps, error) {
	var out LeaseStackProps
	if p != nil {
		out = *p
	}
	if out.Storage == "" {
		out.Storage = StorageS3
	}
	if out.Storage != StorageS3 && out.Storage != StorageDynamoDB {
		return out, fmt.Errorf("storage must be %q or %q, got %q", StorageS3, StorageDynamoDB, out.Storage)
	}
	if out.LambdaDir == "" {
		return out, fmt.Errorf("LambdaDir is required")
	}
	if out.LeasePrefix == "" {
		out.LeasePrefix = DefaultLeasePrefix
	}
	if !strings.HasSuffix(out.LeasePrefix, "/") || strings.HasPrefix(out.LeasePrefix, "/") || strings.ContainsAny(out.LeasePrefix, "*?") {
		return out, fmt.Errorf("LeasePrefix must end with '/', not start with '/', and contain no wildcards: %q", out.LeasePrefix)
	}
	if out.NoncurrentVersionDays == 0 {
		out.NoncurrentVersionDays = DefaultNoncurrentVersionAge
	}
	if out.TTLMinMs == 0 {
		out.TTLMinMs = DefaultTTLMinMs
	}
	if out.TTLMaxMs == 0 {
		out.TTLMaxMs = DefaultTTLMaxMs
	}
	if out.TTLMinMs <= 0 || out.TTLMaxMs < out.TTLMinMs {
		return out, fmt.Errorf("need 0 < TTLMinMs <= TTLMaxMs, got %d and %d", out.TTLMinMs, out.TTLMaxMs)
	}
	if out.LogLevel == "" {
		out.LogLevel = DefaultLogLevel
	}
	if out.SweepSchedule == "" {
		out.SweepSchedule = DefaultSweepSchedule
	}
	if out.APIMemoryMB == 0 {
		out.APIMemoryMB = DefaultAPIMemoryMB
	}
	if out.APITimeout == 0 {
		out.APITimeout = DefaultAPITimeout
	}
	if out.SweepMemoryMB == 0 {
		out.SweepMemoryMB = DefaultSweepMemoryMB
	}
	if out.SweepTimeout == 0 {
		out.SweepTimeout = DefaultSweepTimeout
	}
	// HTTP API integrations time out after 30 s; a longer function timeout would
	// only keep a function running after the caller already got a 503.
	if out.APITimeout > 29*time.Second {
		return out, fmt.Errorf("APITimeout %s exceeds the HTTP API integration limit (29s)", out.APITimeout)
	}
	if out.APITimeout%time.Second != 0 || out.SweepTimeout%time.Second != 0 {
		return out, fmt.Errorf("timeouts must be whole seconds")
	}
	if out.SweepTimeout > 15*time.Minute {
		return out, fmt.Errorf("SweepTimeout %s exceeds the Lambda maximum of 15m", out.SweepTimeout)
	}
	if out.LogRetention == "" {
		out.LogRetention = awslogs.RetentionDays_ONE_MONTH
	}
	if out.ThrottleRateLimit == 0 {
		out.ThrottleRateLimit = DefaultThrottleRateLimit
	}
	if out.ThrottleBurstLimit == 0 {
		out.ThrottleBurstLimit = DefaultThrottleBurstLimit
	}
	if out.ServerErrorRatePercent == 0 {
		out.ServerErrorRatePercent = Default5xxRatePercent
	}
	for name, n := range out.ReservedConcurrency {
		if !isFunction(name) || n < 0 {
			return out, fmt.Errorf("ReservedConcurrency: bad entry %q=%d", name, n)
		}
	}
	for name, n := range out.ProvisionedConcurrency {
		if !isFunction(name) || n < 0 {
			return out, fmt.Errorf("ProvisionedConcurrency: bad entry %q=%d", name, n)
		}
	}
	if !out.Emulator.valid() {
		return out, fmt.Errorf("emulator must be %q or %q, got %q", EmulatorMiniStack, EmulatorMiniStackIAM, out.Emulator)
	}
	if len(out.RedDBPrefixes) == 0 {
		out.RedDBPrefixes = []string{""}
	}
	for _, p := range out.RedDBPrefixes {
		if strings.HasPrefix(p, "/") || strings.ContainsAny(p, "*?") || (p != "" && !strings.HasSuffix(p, "/")) {
			return out, fmt.Errorf("RedDBPrefixes: %q must end with '/', not start with '/', and contain no wildcards (\"\" for every key)", p)
		}
		if p != "" && strings.HasPrefix(p, out.LeasePrefix) {
			return out, fmt.Errorf("RedDBPrefixes: %q is inside the lease prefix %q", p, out.LeasePrefix)
		}
	}
	if d := out.CustomDomain; d != nil && (d.DomainName == "" || d.CertificateArn == "") {
		return out, fmt.Errorf("CustomDomain needs DomainName and CertificateArn")
	}
	seen := map[string]bool{}
	for _, prefix := range out.TenantPrefixes {
		if err := checkTenantPrefix(prefix); err != nil {
			return out, err
		}
		if seen[prefix] {
			return out, fmt.Errorf("TenantPrefixes: %q listed twice", prefix)
		}
		seen[prefix] = true
	}
	if out.TokenFunctions == nil {
		out.TokenFunctions = BearerFunctions
	}
	for _, name := range out.TokenFunctions {
		if !isFunction(name) || name == FnSweep {
			return out, fmt.Errorf("TokenFunctions: %q is no function that serves requests", name)
		}
	}
	return out, nil
}

// checkTenantPrefix accepts what an execute-api resource ARN matches
// literally: segments of letters, digits and . _ ~ - (no "." or ".."
// segment, no IAM wildcard), each followed by "/". Keys under such a
// prefix may hold any character the service accepts; only the prefix is
// this strict.
func checkTenantPrefix(prefix string) error {
	segs := strings.Split(prefix, "/")
	if len(segs) < 2 || segs[len(segs)-1] != "" {
		return fmt.Errorf("TenantPrefixes: %q must end in \"/\"", prefix)
	}
	for _, seg := range segs[:len(segs)-1] {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("TenantPrefixes: %q has an empty, \".\" or \"..\" segment", prefix)
		}
		for _, c := range seg {
			alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
			if !alnum && !strings.ContainsRune("._~-", c) {
				return fmt.Errorf("TenantPrefixes: %q: only letters, digits and . _ ~ - between the slashes", prefix)
			}
		}
	}
	return nil
}

func isFunction(name string) bool {
	for _, n := range FunctionNames {
		if n == name {
			return true
		}
	}
	return false
}
