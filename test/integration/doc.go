// Package integration runs the lease service end to end on the real AWS SDK
// against the emulators that localstack/with-emulators.sh starts: LocalStack
// for S3 and moto for DynamoDB. The stores are built by internal/wire from
// a config.Config and the SDK's own endpoint variables, exactly as the
// Lambda functions build them.
//
// The tests carry the build tag integration and skip unless REDLEASE_IT=1:
//
//	make test-integration
package integration
