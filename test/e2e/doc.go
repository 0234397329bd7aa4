// Package e2e deploys the real synthesised CDK stack on MiniStack, a local
// AWS emulator that runs the Lambda bootstraps as processes and serves the
// API Gateway HTTP API, S3, DynamoDB, EventBridge, SQS, IAM and
// CloudFormation, and drives it only through its public faces: the Go
// client, the redlease CLI and curl --aws-sigv4 against the stack's API URL,
// a stock RedDB (internal/reddbtest) against the RedDB function's URL with
// a bearer token from the stack's tokens bucket, the stack's event bus, and
// its storage.
//
// localstack/with-ministack.sh starts two MiniStack instances (one without
// IAM enforcement, one with AUTH=true behind HTTPS) and hands their
// endpoints to the tests, which bootstrap, deploy both storage variants on
// each and tear them down. The template deviations the emulator forces are
// listed, with their reasons, in infra/stack/emulator.go.
//
// The tests carry the build tag e2e and skip unless REDLEASE_E2E=1:
//
//	make test-e2e
package e2e
