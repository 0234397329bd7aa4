// Command sweep is the Lambda function behind the EventBridge schedule that
// runs redlease's expiry sweep: it reports every lease that expired without
// release as a "Lease Expired" event on REDLEASE_EVENT_BUS, once, and writes
// one EMF metrics line per run. See pkg/sweep for the guarantees and
// internal/lambdafn/sweepfn for what it wires. Build with -tags lambda.norpc
// for the provided.al2023 runtime (make lambdas).
package main

import (
	"github.com/redlease/redlease/internal/lambdafn"
	"github.com/redlease/redlease/internal/lambdafn/sweepfn"
)

func main() { lambdafn.Start("sweep", sweepfn.Build) }
