// Command release is the Lambda function behind POST /v1/release (API Gateway HTTP
// API payload 2.0 or REST proxy 1.0). Build with -tags lambda.norpc for the
// provided.al2023 runtime; see pkg/api/lambdafn for what it wires.
package main

import (
	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/api/lambdafn"
)

func main() { lambdafn.Main(api.OpRelease) }
