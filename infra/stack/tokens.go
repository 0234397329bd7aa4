package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
)

// buildTokens creates the bucket of the bearer tokens document when a
// function reads it, and lets each of Props.TokenFunctions read it.
//
// Why an S3 object (see infra/README.md): its size has no limit that
// matters (an SSM standard parameter holds 4 KB, about 30 tokens, Secrets
// Manager 64 KB); a re-read is a conditional GET that S3 answers 304 while
// the document is unchanged, at S3's request price and throughput instead
// of Secrets Manager's per-call charge or SSM's shared 40 TPS; a rotation
// is one atomic PUT, versioning keeps every earlier document to roll back.
func (s *LeaseStack) buildTokens() {
	p := s.Props
	if len(p.TokenFunctions) == 0 {
		return
	}
	s.TokensBucket = privateBucket(s.Stack, "TokensBucket", p.TokensBucketName, &awss3.LifecycleRule{
		Id: jsii.String("expire-old-token-documents"),
		// Earlier documents stay a while for a rollback, then go: each
		// holds hashes of tokens that may since have been revoked.
		NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(90)),
	})
	skipCheckov(s.TokensBucket,
		check{"CKV_AWS_18", "server access logs would need another bucket; CloudTrail S3 data events audit reads and rotations of the one object"},
	)
	for _, name := range p.TokenFunctions {
		s.UseTokens(name)
	}
}

// UseTokens lets function name read the tokens document, and only that
// object, and tells it where the document is; the function loads it at
// init and checks it again every minute (internal/wire's LoadAuth).
// s3:ListBucket on the tokens bucket (which holds nothing else) is what
// makes S3 answer a missing document with 404, read as "no tokens yet",
// instead of 403, which would fail every cold start of a stack deployed
// before its operator wrote the document.
func (s *LeaseStack) UseTokens(name string) {
	fn := s.Functions[name]
	fn.AddEnvironment(jsii.String(EnvTokensBucket), s.TokensBucket.BucketName(), nil)
	fn.AddEnvironment(jsii.String(EnvTokensKey), jsii.String(TokensKey), nil)
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadTokensDocument"),
		Actions:   jsii.Strings("s3:GetObject"),
		Resources: jsii.Strings(*s.TokensBucket.ArnForObjects(jsii.String(TokensKey))),
	}))
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("TellAMissingTokensDocument"),
		Actions:   jsii.Strings("s3:ListBucket"),
		Resources: jsii.Strings(*s.TokensBucket.BucketArn()),
	}))
}
