package lambdastart

import (
	"context"
	"os"
	"testing"
)

// TestRunUnderRIE runs the section for real on the file backend: it needs
// the emulator and prebuilt bootstraps (REDLEASE_RIE, REDLEASE_LAMBDA_DIR,
// as scripts/rie-smoke.sh and make bench-report provide), else it skips.
func TestRunUnderRIE(t *testing.T) {
	rie, dir := os.Getenv("REDLEASE_RIE"), os.Getenv("REDLEASE_LAMBDA_DIR")
	if rie == "" || dir == "" {
		t.Skip("set REDLEASE_RIE and REDLEASE_LAMBDA_DIR to run the bootstraps")
	}
	fns := Functions("")
	rep, err := Run(context.Background(), Config{RIE: rie, LambdaDir: dir, RepoRoot: repoRoot,
		Functions: fns, ColdStarts: 2, Warm: 2, SweepRecords: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != len(fns) {
		t.Fatalf("%d results for %d functions", len(rep.Results), len(fns))
	}
	for _, r := range rep.Results {
		if r.Errors != 0 || r.ColdStarts != 2 || r.WarmInvokeMs.N != 4 {
			t.Errorf("%s on %s: %d errors (%s), %d cold starts, %d warm invokes", r.Function, r.Backend,
				r.Errors, r.FirstError, r.ColdStarts, r.WarmInvokeMs.N)
		}
		t.Logf("%-8s %-8s init p50 %.1f ms, first %.1f ms, warm %.1f ms, rss %.1f MiB, storage calls %v",
			r.Function, r.Backend, r.InitMs.P50, r.FirstInvokeMs.P50, r.WarmInvokeMs.P50, r.PeakRSSMiB.Max, r.FirstStorageCalls.P50)
	}
}
