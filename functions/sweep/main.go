// Command sweep is the Lambda function behind the EventBridge schedule that
// runs redlease's expiry sweep: it reports every lease that expired without
// release as a "Lease Expired" event on REDLEASE_EVENT_BUS, once, and writes
// one EMF metrics line per run. See pkg/sweep for the guarantees.
//
// Build: CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -tags lambda.norpc
// -trimpath -ldflags="-s -w" -o bootstrap ./functions/sweep
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	h, err := setup(context.Background(), os.Getenv, os.Stdout)
	if err != nil {
		// Failing the init phase makes the misconfiguration visible on the
		// first invocation instead of sweeping with defaults.
		fmt.Fprintln(os.Stderr, "redlease sweep:", err)
		os.Exit(1)
	}
	lambda.Start(h)
}
