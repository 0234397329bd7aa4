// Command infra is the CDK app for redlease. The CDK CLI runs it (see cdk.json);
// configuration comes from context values (-c key=value), see README.md.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/redlease/redlease/infra/stack"
)

func main() {
	defer jsii.Close()

	app := awscdk.NewApp(nil)
	props, stackName, err := propsFromContext(func(key string) string {
		if v, ok := app.Node().TryGetContext(jsii.String(key)).(string); ok {
			return strings.TrimSpace(v)
		}
		return ""
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "redlease infra:", err)
		os.Exit(2)
	}
	stack.NewLeaseStack(app, stackName, props)
	app.Synth(nil)
}

// propsFromContext maps context values onto LeaseStackProps. Unset values keep the
// stack defaults.
func propsFromContext(ctx func(string) string) (*stack.LeaseStackProps, string, error) {
	p := &stack.LeaseStackProps{
		Storage:    stack.Storage(ctx("storage")),
		LambdaDir:  ctx("lambdaDir"),
		BucketName: ctx("bucketName"),
		TableName:  ctx("tableName"),
		// The tokens bucket exists only when a function reads tokens.
		TokensBucketName: ctx("tokensBucketName"),
		LeasePrefix:      ctx("leasePrefix"),
		LogLevel:         ctx("logLevel"),
		SweepSchedule:    ctx("sweepSchedule"),
		EventBusName:     ctx("eventBusName"),
		AlarmTopicArn:    ctx("alarmTopicArn"),
		Emulator:         stack.Emulator(ctx("emulator")),
	}
	if p.Storage == "" {
		p.Storage = stack.StorageS3
	}
	if p.LambdaDir == "" {
		p.LambdaDir = filepath.Join("..", "build", "lambda", "arm64")
	}
	abs, err := filepath.Abs(p.LambdaDir)
	if err != nil {
		return nil, "", err
	}
	p.LambdaDir = abs
	for _, name := range stack.FunctionNames {
		bin := filepath.Join(abs, name, "bootstrap")
		if _, err := os.Stat(bin); err != nil {
			return nil, "", fmt.Errorf("missing %s (run the lambdas-arm64 make target, or pass -c lambdaDir=...)", bin)
		}
	}
	p.DisableConditionalWriteEnforcement = ctx("enforceConditionalWrites") == "false"
	if v := ctx("reddbPrefixes"); v != "" {
		for _, prefix := range strings.Split(v, ",") {
			p.RedDBPrefixes = append(p.RedDBPrefixes, strings.TrimSpace(prefix))
		}
	}
	p.RedDBRequireLease = ctx("reddbRequireLease") == "true"
	p.DisableTracing = ctx("tracing") == "false"

	ints := []struct {
		key string
		dst *int64
	}{{"ttlMinMs", &p.TTLMinMs}, {"ttlMaxMs", &p.TTLMaxMs}}
	for _, f := range ints {
		if v := ctx(f.key); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, "", fmt.Errorf("context %s: %w", f.key, err)
			}
			*f.dst = n
		}
	}
	smallInts := []struct {
		key string
		dst *int
	}{{"apiMemoryMb", &p.APIMemoryMB}, {"sweepMemoryMb", &p.SweepMemoryMB}, {"noncurrentVersionDays", &p.NoncurrentVersionDays}}
	for _, f := range smallInts {
		if v := ctx(f.key); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, "", fmt.Errorf("context %s: %w", f.key, err)
			}
			*f.dst = n
		}
	}
	durations := []struct {
		key string
		dst *time.Duration
	}{{"apiTimeout", &p.APITimeout}, {"sweepTimeout", &p.SweepTimeout}}
	for _, f := range durations {
		if v := ctx(f.key); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				return nil, "", fmt.Errorf("context %s (e.g. 10s): %w", f.key, err)
			}
			*f.dst = d
		}
	}
	floats := []struct {
		key string
		dst *float64
	}{{"throttleRate", &p.ThrottleRateLimit}, {"throttleBurst", &p.ThrottleBurstLimit}, {"serverErrorRatePercent", &p.ServerErrorRatePercent}}
	for _, f := range floats {
		if v := ctx(f.key); v != "" {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return nil, "", fmt.Errorf("context %s: %w", f.key, err)
			}
			*f.dst = n
		}
	}
	if v := ctx("logRetention"); v != "" {
		// awslogs.RetentionDays member name, e.g. TWO_WEEKS, ONE_YEAR.
		p.LogRetention = awslogs.RetentionDays(strings.ToUpper(v))
	}
	if p.ReservedConcurrency, err = parseCounts(ctx("reservedConcurrency")); err != nil {
		return nil, "", fmt.Errorf("context reservedConcurrency: %w", err)
	}
	if p.ProvisionedConcurrency, err = parseCounts(ctx("provisionedConcurrency")); err != nil {
		return nil, "", fmt.Errorf("context provisionedConcurrency: %w", err)
	}
	if d := ctx("domainName"); d != "" {
		p.CustomDomain = &stack.CustomDomainProps{
			DomainName:             d,
			CertificateArn:         ctx("certificateArn"),
			DisableDefaultEndpoint: ctx("disableDefaultEndpoint") == "true",
		}
	}
	// tenantPrefixes: "tenants/a/,tenants/b/", one caller policy each.
	p.TenantPrefixes = list(ctx("tenantPrefixes"))
	// tokenFunctions: the functions that read the bearer tokens document
	// (default: those that take bearer tokens, stack.BearerFunctions).
	p.TokenFunctions = list(ctx("tokenFunctions"))
	if acct, region := ctx("account"), ctx("region"); acct != "" || region != "" {
		p.Env = &awscdk.Environment{Account: optional(acct), Region: optional(region)}
	}
	if err := stack.ValidateProps(p); err != nil {
		return nil, "", err
	}

	stackName := ctx("stackName")
	if stackName == "" {
		stackName = "redlease-" + string(p.Storage)
	}
	return p, stackName, nil
}

// parseCounts reads "sweep=1,acquire=20".
func parseCounts(v string) (map[string]int, error) {
	if v == "" {
		return nil, nil
	}
	out := map[string]int{}
	for _, part := range strings.Split(v, ",") {
		name, num, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, fmt.Errorf("want name=count, got %q", part)
		}
		n, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[name] = n
	}
	return out, nil
}

// list reads "a, b," as [a b]; nil when there is nothing.
func list(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func optional(v string) *string {
	if v == "" {
		return nil
	}
	return jsii.String(v)
}
