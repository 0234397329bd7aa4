//go:build integration

package leaseops

// Against the emulators (make test-integration, or
// bash localstack/with-emulators.sh go test -tags integration ./bench/leaseops/):
// every row's request sequence is exactly what it should be.

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/redlease/redlease/bench/emulators"
)

func TestIntegrationRequestCounts(t *testing.T) {
	if os.Getenv("REDLEASE_IT") != "1" {
		t.Skip("REDLEASE_IT is not 1; run under localstack/with-emulators.sh")
	}
	ctx := context.Background()
	env, err := emulators.EnvFrom(os.Getenv, "it-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	if err != nil {
		t.Fatal(err)
	}
	subjects, pending, err := Rows(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	if Gateway == nil && len(pending) != 2 {
		t.Errorf("pending rows %v, want the two gateway rows", pending)
	}
	cells, err := Run(ctx, subjects, Config{Iterations: 3, Warmup: 1})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, cells, wantCounts, 1)
	for _, c := range cells {
		t.Logf("%-42s %-18s p50 %6.2f ms  %v", c.Row, c.Op, c.LatencyMs.P50, c.Storage)
	}
}
