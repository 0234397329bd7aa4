// Command admin is a Lambda function behind API Gateway (HTTP API payload
// 2.0 or REST proxy 1.0): it serves the routes that api.Routes assigns to
// function "admin", the break-glass release, whose IAM policy is apart from
// every caller's. Build with -tags lambda.norpc for the provided.al2023
// runtime (make lambdas); internal/lambdafn is what it wires.
package main

import "github.com/redlease/redlease/internal/lambdafn"

func main() { lambdafn.Start("admin", lambdafn.API) }
