package stack

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"
)

func (s *LeaseStack) buildSchedule() awsevents.Rule {
	return awsevents.NewRule(s.Stack, jsii.String("SweepSchedule"), &awsevents.RuleProps{
		Description: jsii.String("redlease: run the lease sweep"),
		Schedule:    awsevents.Schedule_Expression(jsii.String(s.Props.SweepSchedule)),
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(s.Targets[FnSweep], &awseventstargets.LambdaFunctionProps{
			// The next tick is a retry; an old tick delivered late would overlap it.
			RetryAttempts: jsii.Number(0),
			MaxEventAge:   awscdk.Duration_Seconds(jsii.Number(60)),
		})},
	})
}

// Alarm ids, also used as construct ids (tests look them up by these names).
const (
	AlarmServerErrorRate = "Api5xxRate"
	AlarmSweepFailedRuns = "SweepFailedInvocations"
)

func (s *LeaseStack) buildAlarms(a *api, rule awsevents.Rule) {
	var topic awssns.ITopic
	if s.Props.AlarmTopicArn != "" {
		topic = awssns.Topic_FromTopicArn(s.Stack, jsii.String("AlarmTopic"), jsii.String(s.Props.AlarmTopicArn))
	}
	add := func(id string, props *awscloudwatch.AlarmProps) {
		alarm := awscloudwatch.NewAlarm(s.Stack, jsii.String(id), props)
		if topic != nil {
			alarm.AddAlarmAction(awscloudwatchactions.NewSnsAction(topic))
			alarm.AddOkAction(awscloudwatchactions.NewSnsAction(topic))
		}
	}
	fiveMin := awscdk.Duration_Minutes(jsii.Number(5))
	sum := &awscloudwatch.MetricOptions{Period: fiveMin, Statistic: jsii.String("Sum")}

	for _, name := range FunctionNames {
		fn := s.Functions[name]
		// Client mistakes are 4xx responses, not function errors, so any error is
		// a bug or a storage failure worth a look.
		add(title(name)+"Errors", &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String(fmt.Sprintf("redlease %s: function errors in the last 5 minutes", name)),
			Metric:             fn.MetricErrors(sum),
			Threshold:          jsii.Number(1),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		add(title(name)+"Throttles", &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String(fmt.Sprintf("redlease %s: throttled invocations (concurrency limit reached)", name)),
			Metric:             fn.MetricThrottles(sum),
			Threshold:          jsii.Number(1),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
	}

	// 5xx share of all requests; ignored below 20 requests per 5 minutes so a
	// single failure on an idle API does not page.
	rate := awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression: jsii.String("IF(requests >= 20, 100 * errors / requests, 0)"),
		UsingMetrics: &map[string]awscloudwatch.IMetric{
			"errors":   a.http.MetricServerError(sum),
			"requests": a.http.MetricCount(sum),
		},
		Label:  jsii.String("5xx rate (%)"),
		Period: fiveMin,
	})
	add(AlarmServerErrorRate, &awscloudwatch.AlarmProps{
		AlarmDescription:   jsii.String(fmt.Sprintf("redlease API: more than %.1f%% of requests returned 5xx for 10 minutes", s.Props.ServerErrorRatePercent)),
		Metric:             rate,
		Threshold:          jsii.Number(s.Props.ServerErrorRatePercent),
		EvaluationPeriods:  jsii.Number(2),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})

	// Sweep errors are covered by SweepErrors above; this catches EventBridge
	// failing to invoke the sweep at all (permissions, throttling).
	add(AlarmSweepFailedRuns, &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String("redlease sweep: the schedule failed to invoke the sweep function"),
		Metric: awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace:     jsii.String("AWS/Events"),
			MetricName:    jsii.String("FailedInvocations"),
			DimensionsMap: &map[string]*string{"RuleName": rule.RuleName()},
			Period:        fiveMin,
			Statistic:     jsii.String("Sum"),
		}),
		Threshold:          jsii.Number(1),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
}

// Output names.
const (
	OutputAPIURL       = "ApiUrl"
	OutputBucketName   = "LeaseBucketName"
	OutputTableName    = "LeaseTableName"
	OutputEventBusName = "EventBusName"
	OutputCallerPolicy = "CallerPolicyArn"
	OutputAdminPolicy  = "AdminPolicyArn"
	OutputTokens       = "TokensDocument"
	OutputDomainTarget = "CustomDomainTarget"
	OutputRedDBURL     = "RedDBEndpointUrl"
	OutputRedDBBucket  = "RedDBDataBucketName"
)

func (s *LeaseStack) buildOutputs(a *api) {
	out := func(id string, value *string, desc string) {
		awscdk.NewCfnOutput(s.Stack, jsii.String(id), &awscdk.CfnOutputProps{Value: value, Description: jsii.String(desc)})
	}
	if a.domain != nil {
		out(OutputAPIURL, jsii.String("https://"+s.Props.CustomDomain.DomainName+"/"), "Base URL of the lease API (custom domain)")
		out(OutputDomainTarget, a.domain.RegionalDomainName(), "Point the custom domain's DNS (CNAME/alias) here")
	} else {
		out(OutputAPIURL, a.stage.Url(), "Base URL of the lease API (SigV4, service execute-api)")
	}
	if s.Bucket != nil {
		out(OutputBucketName, s.Bucket.BucketName(), "S3 bucket holding lease objects")
	} else {
		out(OutputTableName, s.Table.TableName(), "DynamoDB table holding lease items")
	}
	out(OutputEventBusName, s.EventBus.EventBusName(), "Event bus receiving 'Lease Expired' events (source redlease)")
	out(OutputCallerPolicy, s.CallerPolicy.ManagedPolicyArn(),
		"All-keys caller policy: every lease route on every key (attach to RedDB instance roles of a single-tenant deployment)")
	out(OutputAdminPolicy, s.AdminPolicy.ManagedPolicyArn(), "Break-glass policy: the admin release route only (attach to operators' roles)")
	for _, prefix := range s.Props.TenantPrefixes {
		out(TenantPolicyID(prefix)+"Arn", s.TenantPolicies[prefix].ManagedPolicyArn(),
			"Caller policy of tenant prefix "+prefix+": the path-key lease routes under it only")
	}
	if s.TokensBucket != nil {
		out(OutputTokens, jsii.String("s3://"+*s.TokensBucket.BucketName()+"/"+TokensKey),
			"Where to write the bearer tokens document (functions re-read it every minute)")
	}
	out(OutputRedDBURL, s.redDBEndpoint(), "RED_HTTP_BACKEND_URL for stock RedDB (RED_BACKEND=http, bearer token in RED_HTTP_BACKEND_AUTH_HEADER)")
	if s.Props.Storage == StorageDynamoDB {
		out(OutputRedDBBucket, s.DataBucket.BucketName(), "S3 bucket holding RedDB's data objects")
	}
}
