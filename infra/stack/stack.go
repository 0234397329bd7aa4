package stack

import (
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Environment variable names read by the functions: internal/config's
// names (config.Vars in the root module), which test/consistency holds
// every REDLEASE_ name in this package to.
const (
	EnvBackend  = "REDLEASE_BACKEND"
	EnvBucket   = "REDLEASE_BUCKET"
	EnvPrefix   = "REDLEASE_PREFIX"
	EnvTable    = "REDLEASE_TABLE"
	EnvTTLMin   = "REDLEASE_TTL_MIN_MS"
	EnvTTLMax   = "REDLEASE_TTL_MAX_MS"
	EnvLogLevel = "REDLEASE_LOG_LEVEL"
	EnvEventBus = "REDLEASE_EVENT_BUS"
	// The bearer tokens document, for TokenFunctions.
	EnvTokensBucket = "REDLEASE_TOKENS_BUCKET" //nolint:gosec // a variable name, not a credential
	EnvTokensKey    = "REDLEASE_TOKENS_KEY"    //nolint:gosec // a variable name, not a credential
	// The RedDB function's (internal/config's REDLEASE_REDDB_*).
	EnvRedDBBucket       = "REDLEASE_REDDB_BUCKET"
	EnvRedDBRequireLease = "REDLEASE_REDDB_REQUIRE_LEASE"
)

// TokensKey is the tokens document's object key in the tokens bucket.
const TokensKey = "tokens.json"

// PartitionKey is the DynamoDB partition key attribute (type S, no sort key).
const PartitionKey = "database_key"

// LeaseStack is the synthesised stack plus handles on its main constructs.
type LeaseStack struct {
	awscdk.Stack

	Props  LeaseStackProps
	Bucket awss3.Bucket      // nil for dynamodb
	Table  awsdynamodb.Table // nil for s3
	// DataBucket holds RedDB's data objects: Bucket with s3, a bucket of
	// its own with dynamodb.
	DataBucket awss3.IBucket
	// RedDBURL is the RedDB function's URL (RED_HTTP_BACKEND_URL is it plus
	// "v1/reddb").
	RedDBURL  awslambda.FunctionUrl
	EventBus  awsevents.EventBus
	Functions map[string]awslambda.Function
	// Targets are what the API routes and the schedule invoke: the function or,
	// with provisioned concurrency, its "live" alias.
	Targets map[string]awslambda.IFunction
	// CallerPolicy invokes every caller route on every key (the policy of
	// a single-tenant deployment); TenantPolicies, one per prefix of
	// Props.TenantPrefixes, invoke only the routes with the key in the
	// path under their prefix; AdminPolicy invokes the break-glass route.
	CallerPolicy   awsiam.ManagedPolicy
	TenantPolicies map[string]awsiam.ManagedPolicy
	AdminPolicy    awsiam.ManagedPolicy
	// TokensBucket holds the bearer tokens document (nil when no function
	// reads one).
	TokensBucket awss3.Bucket
}

// NewLeaseStack builds the whole service. It panics on invalid props (the usual
// CDK convention for construction errors); use ValidateProps to check first.
func NewLeaseStack(scope constructs.Construct, id string, props *LeaseStackProps) *LeaseStack {
	p, err := props.withDefaults()
	if err != nil {
		panic(fmt.Sprintf("redlease: invalid LeaseStackProps: %v", err))
	}
	stackProps := p.StackProps
	if stackProps.Description == nil {
		stackProps.Description = jsii.String("redlease: serverless writer leases for RedDB (" + string(p.Storage) + " storage)")
	}
	s := &LeaseStack{
		Stack:     awscdk.NewStack(scope, jsii.String(id), &stackProps),
		Props:     p,
		Functions: map[string]awslambda.Function{},
		Targets:   map[string]awslambda.IFunction{},
	}

	s.EventBus = awsevents.NewEventBus(s.Stack, jsii.String("LeaseEvents"), &awsevents.EventBusProps{
		EventBusName: optString(p.EventBusName),
		Description:  jsii.String("redlease: Lease Expired events published by the sweep"),
	})

	storageEnv := s.buildStorage()
	s.buildFunctions(storageEnv)
	s.grantStorage()
	s.grantRedDB()
	s.grantEvents()
	s.buildTokens()
	api := s.buildAPI()
	s.buildRedDBEndpoint()
	rule := s.buildSchedule()
	s.buildAlarms(api, rule)
	s.buildOutputs(api)
	s.applyEmulatorDeviations()
	return s
}

// ValidateProps reports whether props would be accepted by NewLeaseStack.
func ValidateProps(props *LeaseStackProps) error {
	_, err := props.withDefaults()
	return err
}

// buildStorage creates the bucket or the table and returns the storage part of the
// functions' environment.
func (s *LeaseStack) buildStorage() map[string]*string {
	p := s.Props
	env := map[string]*string{EnvBackend: jsii.String(string(p.Storage))}
	switch p.Storage {
	case StorageS3:
		s.Bucket = privateBucket(s.Stack, "LeaseBucket", p.BucketName, &awss3.LifecycleRule{
			Id: jsii.String("expire-old-lease-versions"),
			// Every acquire/refresh/release writes a new version of the lease
			// object; old versions are only useful for a short forensic window.
			// This never touches the current version: leases are not deleted.
			NoncurrentVersionExpiration:         awscdk.Duration_Days(jsii.Number(float64(p.NoncurrentVersionDays))),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(1)),
		})
		if !p.DisableConditionalWriteEnforcement {
			// S3 evaluates the s3:if-none-match / s3:if-match condition keys against
			// the request's conditional headers. Both keys absent (Null = true, keys
			// ANDed) means an unconditional overwrite, which could silently clobber
			// another writer's lease: deny it for every principal. Multipart and
			// CopyObject into the prefix are denied as a consequence, which the
			// service never uses.
			s.Bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String(conditionalWriteDenySid),
				Effect:     awsiam.Effect_DENY,
				Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
				Actions:    jsii.Strings("s3:PutObject"),
				Resources:  jsii.Strings(*s.Bucket.ArnForObjects(jsii.String(p.LeasePrefix + "*"))),
				Conditions: &map[string]interface{}{
					"Null": map[string]interface{}{
						"s3:if-none-match": "true",
						"s3:if-match":      "true",
					},
				},
			}))
		}
		skipCheckov(s.Bucket,
			check{"CKV_AWS_18", "server access logs would need a second bucket; use CloudTrail S3 data events for lease audit"},
		)
		env[EnvBucket] = s.Bucket.BucketName()
		env[EnvPrefix] = jsii.String(p.LeasePrefix)
		s.DataBucket = s.Bucket
	case StorageDynamoDB:
		s.Table = awsdynamodb.NewTable(s.Stack, jsii.String("LeaseTable"), &awsdynamodb.TableProps{
			TableName:    optString(p.TableName),
			PartitionKey: &awsdynamodb.Attribute{Name: jsii.String(PartitionKey), Type: awsdynamodb.AttributeType_STRING},
			BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
			PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
				PointInTimeRecoveryEnabled: jsii.Bool(true),
			},
			DeletionProtection: jsii.Bool(true),
			RemovalPolicy:      awscdk.RemovalPolicy_RETAIN,
		})
		skipCheckov(s.Table,
			check{"CKV_AWS_119", "encrypted at rest with the AWS owned key; lease items hold no secrets and a CMK adds KMS cost and key-policy upkeep"},
		)
		env[EnvTable] = s.Table.TableName()
		s.DataBucket = s.newRedDBDataBucket()
	}
	return env
}

// privateBucket is a bucket as this stack keeps every one: versioned,
// private, TLS 1.2 only, SSE-S3, owner-enforced, retained when the stack
// goes; lifecycle says how its old versions go.
func privateBucket(scope constructs.Construct, id, name string, lifecycle *awss3.LifecycleRule) awss3.Bucket {
	return awss3.NewBucket(scope, jsii.String(id), &awss3.BucketProps{
		BucketName:        optString(name),
		Versioned:         jsii.Bool(true),
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		MinimumTLSVersion: jsii.Number(1.2),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		LifecycleRules:    &[]*awss3.LifecycleRule{lifecycle},
	})
}

// Memory and timeout.
//
// API functions (acquire/refresh/release/lease): each request is one or two small
// storage round trips (GetItem/GetObject then a conditional Put) on a ~1 KiB
// record, so the work is network-bound. 256 MB is plenty for a Go binary (tens of
// MB RSS) and still gets enough CPU share for TLS and JSON; more memory would buy
// CPU the handler does not use. 10 s covers SDK retries with backoff on a throttled
// or slow store while staying well under the 30 s HTTP API integration limit; a
// lease call slower than that is useless to a caller whose TTL may be a few seconds.
//
// sweep: lists the whole lease prefix (or scans the table) and rewrites expired
// records, so it gets more memory (CPU, parallel requests) and a 50 s timeout that
// ends before the next one-minute tick, keeping sweeps from overlapping.
func (s *LeaseStack) sizing(name string) (int, int) {
	if name == FnSweep {
		return s.Props.SweepMemoryMB, int(s.Props.SweepTimeout.Seconds())
	}
	return s.Props.APIMemoryMB, int(s.Props.APITimeout.Seconds())
}

func (s *LeaseStack) buildFunctions(storageEnv map[string]*string) {
	p := s.Props
	// Active tracing makes CDK grant xray:PutTraceSegments and
	// xray:PutTelemetryRecords on Resource "*": X-Ray defines no resource types for
	// these actions, so "*" is the only valid resource. It is the one wildcard
	// resource in this stack (tests allow exactly these two actions on "*").
	tracing := awslambda.Tracing_ACTIVE
	if p.DisableTracing {
		tracing = awslambda.Tracing_DISABLED
	}
	for _, name := range FunctionNames {
		env := map[string]*string{
			EnvTTLMin:   jsii.String(strconv.FormatInt(p.TTLMinMs, 10)),
			EnvTTLMax:   jsii.String(strconv.FormatInt(p.TTLMaxMs, 10)),
			EnvLogLevel: jsii.String(p.LogLevel),
		}
		for k, v := range storageEnv {
			env[k] = v
		}
		if name == FnSweep {
			env[EnvEventBus] = s.EventBus.EventBusName()
		}
		if name == FnRedDB {
			for k, v := range s.redDBEnv() {
				env[k] = v
			}
		}

		logs := awslogs.NewLogGroup(s.Stack, jsii.String(title(name)+"Logs"), &awslogs.LogGroupProps{
			Retention:     p.LogRetention,
			RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		})
		skipCheckov(logs,
			check{"CKV_AWS_158", "log lines carry lease metadata only, no secrets; CloudWatch Logs' own encryption at rest is sufficient"},
		)

		// A dedicated role per function, without AWSLambdaBasicExecutionRole (whose
		// log permissions apply to every log group): logging is granted on this
		// function's own log group only.
		role := awsiam.NewRole(s.Stack, jsii.String(title(name)+"Role"), &awsiam.RoleProps{
			AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
			Description: jsii.String("redlease " + name + " function"),
		})
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("WriteOwnLogs"),
			Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
			Resources: jsii.Strings(*logs.LogGroupArn()),
		}))

		memory, timeout := s.sizing(name)
		fnProps := &awslambda.FunctionProps{
			Description:  jsii.String("redlease " + name),
			Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
			Architecture: awslambda.Architecture_ARM_64(),
			Handler:      jsii.String("bootstrap"),
			Code:         awslambda.Code_FromAsset(jsii.String(filepath.Join(p.LambdaDir, name)), nil),
			MemorySize:   jsii.Number(float64(memory)),
			Timeout:      awscdk.Duration_Seconds(jsii.Number(float64(timeout))),
			Environment:  &env,
			Role:         role,
			LogGroup:     logs,
			Tracing:      tracing,
		}
		if name == FnSweep {
			// A failed or dropped sweep is repeated by the next tick; retrying an old
			// event would only overlap with it.
			fnProps.RetryAttempts = jsii.Number(0)
			fnProps.MaxEventAge = awscdk.Duration_Seconds(jsii.Number(60))
		}
		if n := p.ReservedConcurrency[name]; n > 0 {
			fnProps.ReservedConcurrentExecutions = jsii.Number(float64(n))
		}
		fn := awslambda.NewFunction(s.Stack, jsii.String(title(name)), fnProps)

		checks := []check{
			{"CKV_AWS_117", "the function only calls AWS APIs over TLS; no VPC resources to reach, and a VPC would add NAT cost and cold-start latency"},
			{"CKV_AWS_173", "environment holds resource names and limits only, no secrets; the AWS-managed Lambda key encrypts it at rest"},
		}
		if name == FnSweep {
			checks = append(checks, check{"CKV_AWS_116", "sweep is stateless and re-runs every schedule tick; failures alarm instead of queueing"})
		} else {
			checks = append(checks, check{"CKV_AWS_116", "invoked synchronously (API Gateway, or its function URL); a DLQ only applies to asynchronous invocations"})
		}
		if p.ReservedConcurrency[name] == 0 {
			checks = append(checks, check{"CKV_AWS_115", "reserved concurrency is opt-in (ReservedConcurrency prop); the default shares the account pool to avoid starving small accounts"})
		}
		skipCheckov(fn, checks...)
		// CDK adds an explicit DependsOn on the role that the Role GetAtt already
		// implies; cfn-lint reports it as W3005. Harmless, so ignored on this resource.
		ignoreCfnLint(fn, "W3005")

		s.Functions[name] = fn
		s.Targets[name] = fn
		if n := p.ProvisionedConcurrency[name]; n > 0 {
			s.Targets[name] = awslambda.NewAlias(s.Stack, jsii.String(title(name)+"Live"), &awslambda.AliasProps{
				AliasName:                       jsii.String("live"),
				Version:                         fn.CurrentVersion(),
				ProvisionedConcurrentExecutions: jsii.Number(float64(n)),
			})
		}
	}
}

// grantStorage gives each function exactly the storage calls it makes. Explicit
// statements rather than grantRead/grantWrite, which add actions the service does
// not use (s3:GetObject*, s3:List*, s3:DeleteObject*, dynamodb:BatchWriteItem...).
func (s *LeaseStack) grantStorage() {
	p := s.Props
	for _, name := range FunctionNames {
		fn := s.Functions[name]
		if name == FnRedDB {
			continue // grantRedDB
		}
		switch p.Storage {
		case StorageS3:
			objects := s.Bucket.ArnForObjects(jsii.String(p.LeasePrefix + "*"))
			actions := []string{"s3:GetObject"}
			if name != FnLease {
				actions = append(actions, "s3:PutObject")
			}
			fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("LeaseObjects"),
				Actions:   jsii.Strings(actions...),
				Resources: jsii.Strings(*objects),
			}))
			if name == FnSweep {
				fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
					Sid:       jsii.String("ListLeasePrefix"),
					Actions:   jsii.Strings("s3:ListBucket"),
					Resources: jsii.Strings(*s.Bucket.BucketArn()),
					Conditions: &map[string]interface{}{
						"StringLike": map[string]interface{}{
							"s3:prefix": []string{p.LeasePrefix, p.LeasePrefix + "*"},
						},
					},
				}))
			}
		case StorageDynamoDB:
			actions := []string{"dynamodb:GetItem"}
			switch name {
			case FnLease:
			case FnSweep:
				actions = append(actions, "dynamodb:PutItem", "dynamodb:Scan")
			default:
				actions = append(actions, "dynamodb:PutItem")
			}
			fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("LeaseItems"),
				Actions:   jsii.Strings(actions...),
				Resources: jsii.Strings(*s.Table.TableArn()),
			}))
		}
	}
}

// grantEvents lets only the sweep publish, only to this bus, only as source
// "redlease" (events:source is a documented PutEvents condition key).
func (s *LeaseStack) grantEvents() {
	s.Functions[FnSweep].AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String(publishLeaseEventsSid),
		Actions:   jsii.Strings("events:PutEvents"),
		Resources: jsii.Strings(*s.EventBus.EventBusArn()),
		Conditions: &map[string]interface{}{
			"StringEquals": map[string]interface{}{"events:source": DefaultEventSource},
		},
	}))
}

type check struct{ id, comment string }

// skipCheckov records checkov suppressions in the resource's CloudFormation
// metadata (checkov reads Metadata.checkov.skip), each with a one-line reason.
func skipCheckov(c constructs.IConstruct, checks ...check) {
	res, ok := c.Node().DefaultChild().(awscdk.CfnResource)
	if !ok {
		panic("redlease: no CloudFormation resource under " + *c.Node().Path())
	}
	skips := make([]map[string]string, 0, len(checks))
	for _, ch := range checks {
		skips = append(skips, map[string]string{"id": ch.id, "comment": ch.comment})
	}
	res.AddMetadata(jsii.String("checkov"), map[string]interface{}{"skip": skips})
}

// ignoreCfnLint records cfn-lint rules to ignore on one resource (cfn-lint reads
// Metadata.cfn-lint.config.ignore_checks).
func ignoreCfnLint(c constructs.IConstruct, rules ...string) {
	res := c.Node().DefaultChild().(awscdk.CfnResource)
	res.AddMetadata(jsii.String("cfn-lint"), map[string]interface{}{
		"config": map[string]interface{}{"ignore_checks": rules},
	})
}

func optString(v string) *string {
	if v == "" {
		return nil
	}
	return jsii.String(v)
}

func title(name string) string {
	if name == "" {
		return name
	}
	return string(name[0]-'a'+'A') + name[1:]
}
