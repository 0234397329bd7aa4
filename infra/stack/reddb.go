package stack

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
)

// The RedDB face: a stock RedDB's remote backend (RED_BACKEND=http). Its
// function is reached through a Lambda function URL, not API Gateway:
// RedDB makes 4 to 6 requests per lease operation and refreshes every
// TTL/3, so API Gateway's per-request charge would be the face's largest
// cost, while a function URL has none; RedDB cannot sign SigV4 anyway, so
// the URL's auth type is NONE and the function authenticates every request
// by its bearer token. docs/design-reddb-gateway.md weighs the choice.

// newRedDBDataBucket is the bucket of RedDB's data objects when the lease
// records live in DynamoDB: the same protections as the lease bucket,
// with old versions kept for the same window (each checkpoint rewrites
// data.rdb whole; a noncurrent version is the previous checkpoint).
func (s *LeaseStack) newRedDBDataBucket() awss3.Bucket {
	b := privateBucket(s.Stack, "RedDBDataBucket", "", &awss3.LifecycleRule{
		Id:                                  jsii.String("expire-old-data-versions"),
		NoncurrentVersionExpiration:         awscdk.Duration_Days(jsii.Number(float64(s.Props.NoncurrentVersionDays))),
		AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(1)),
	})
	skipCheckov(b,
		check{"CKV_AWS_18", "server access logs would need a second bucket; use CloudTrail S3 data events for audit"},
	)
	return b
}

// redDBEnv is the RedDB function's own environment.
func (s *LeaseStack) redDBEnv() map[string]*string {
	env := map[string]*string{}
	if s.Props.Storage == StorageDynamoDB {
		env[EnvRedDBBucket] = s.DataBucket.BucketName()
	}
	if s.Props.RedDBRequireLease {
		env[EnvRedDBRequireLease] = jsii.String(strconv.FormatBool(true))
	}
	return env
}

// grantRedDB gives the RedDB function what the face does, no more:
//
//   - lease records only as the lease service uses them: read and
//     conditional write (the bucket policy refuses unconditional writes
//     under the lease prefix), never delete (RedDB's DELETE of its lease
//     object becomes the released marker, a write);
//   - RedDB's data objects under RedDBPrefixes: read, write (PutObject
//     only: the function's 4 MiB limit is below the part size, so no
//     multipart upload), delete (WAL retention) and list.
//
// With the default prefix "" the data grant covers the whole bucket, the
// lease prefix included, so the role also denies deletes there outright.
func (s *LeaseStack) grantRedDB() {
	p := s.Props
	fn := s.Functions[FnRedDB]
	switch p.Storage {
	case StorageS3:
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("LeaseObjects"),
			Actions:   jsii.Strings("s3:GetObject", "s3:PutObject"),
			Resources: jsii.Strings(*s.Bucket.ArnForObjects(jsii.String(p.LeasePrefix + "*"))),
		}))
	case StorageDynamoDB:
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("LeaseItems"),
			Actions:   jsii.Strings("dynamodb:GetItem", "dynamodb:PutItem"),
			Resources: jsii.Strings(*s.Table.TableArn()),
		}))
	}
	objects := make([]*string, 0, len(p.RedDBPrefixes))
	listed := make([]string, 0, 2*len(p.RedDBPrefixes))
	wholeBucket := false
	for _, prefix := range p.RedDBPrefixes {
		objects = append(objects, s.DataBucket.ArnForObjects(jsii.String(prefix+"*")))
		listed = append(listed, prefix+"*")
		wholeBucket = wholeBucket || prefix == ""
	}
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("RedDBDataObjects"),
		Actions:   jsii.Strings("s3:GetObject", "s3:PutObject", "s3:DeleteObject"),
		Resources: &objects,
	}))
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ListRedDBData"),
		Actions:   jsii.Strings("s3:ListBucket"),
		Resources: jsii.Strings(*s.DataBucket.BucketArn()),
		Conditions: &map[string]interface{}{
			"StringLike": map[string]interface{}{"s3:prefix": listed},
		},
	}))
	if wholeBucket && p.Storage == StorageS3 {
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("NoLeaseDeletes"),
			Effect:    awsiam.Effect_DENY,
			Actions:   jsii.Strings("s3:DeleteObject"),
			Resources: jsii.Strings(*s.Bucket.ArnForObjects(jsii.String(p.LeasePrefix + "*"))),
		}))
	}
}

// buildRedDBEndpoint gives the RedDB function (or its provisioned alias)
// its URL: auth type NONE, since RedDB sends one static Authorization
// header and cannot sign SigV4; the function checks the bearer token of
// every request. BUFFERED, not RESPONSE_STREAM: uploads are limited to one
// 6 MB payload either way, so a database too large to upload through the
// function is served by `redlease serve`, and streaming downloads alone
// would not make it usable here.
func (s *LeaseStack) buildRedDBEndpoint() {
	s.RedDBURL = s.Targets[FnRedDB].AddFunctionUrl(&awslambda.FunctionUrlOptions{
		AuthType:   awslambda.FunctionUrlAuthType_NONE,
		InvokeMode: awslambda.InvokeMode_BUFFERED,
	})
	skipCheckov(s.RedDBURL,
		check{"CKV_AWS_258", "RedDB cannot sign SigV4 (it sends one static Authorization header): the function authenticates every request by its bearer token"},
	)
}

// redDBEndpoint is the value of RED_HTTP_BACKEND_URL: the URL (which ends
// in "/") plus the face's path.
func (s *LeaseStack) redDBEndpoint() *string {
	return awscdk.Fn_Join(jsii.String(""), &[]*string{s.RedDBURL.Url(), jsii.String("v1/reddb")})
}
