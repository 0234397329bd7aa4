// Command reddb is the Lambda function behind the stack's RedDB endpoint
// (a function URL; payload 2.0 events, as API Gateway's HTTP API sends
// too): it serves RedDB's object protocol under /v1/reddb/, the routes
// that api.Routes assigns to function "reddb", with objects up to
// lambdafn.MaxObjectBytes. Build with -tags lambda.norpc for the
// provided.al2023 runtime (make lambdas); internal/lambdafn is what it
// wires.
package main

import "github.com/redlease/redlease/internal/lambdafn"

func main() { lambdafn.Start("reddb", lambdafn.API) }
