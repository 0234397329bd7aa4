package suite

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redlease/redlease/bench/emulators"
	"github.com/redlease/redlease/bench/internal/fakeaws"
	"github.com/redlease/redlease/bench/report"
)

// TestSmokeReport runs the whole report on in-process fakes of S3 and
// DynamoDB with tiny counts, the way make bench-report runs it on the
// emulators, so that the report code cannot rot unnoticed: every section
// that can run here runs, the report renders, its JSON round-trips and
// compares. It checks structure and request counts, never a time.
func TestSmokeReport(t *testing.T) {
	t.Parallel()
	s3, s3URL := fakeaws.NewS3(t)
	s3.ConditionalDelete501 = true
	_, ddbURL := fakeaws.NewDynamoDB(t)
	vars := map[string]string{
		"REDLEASE_IT_S3_ENDPOINT": s3URL, "REDLEASE_IT_DYNAMODB_ENDPOINT": ddbURL,
		"REDLEASE_IT_BUCKET": "bench", "REDLEASE_IT_TABLE": "bench",
	}
	env, err := emulators.EnvFrom(func(k string) string { return vars[k] }, "smoke")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Run(context.Background(), Config{
		Mode: "smoke", Command: "go test ./bench/suite", RepoRoot: filepath.Join("..", ".."), Emulators: &env,
		StorageNames:    map[string]string{"S3": "in-process fake", "DynamoDB": "in-process fake"},
		LeaseIterations: 3, LeaseWarmup: 1, SweepRecords: 4, SweepRuns: 1,
		Backends: []string{"memory", "file"}, Concurrency: []int{1, 4}, Requests: 4, Rounds: 2, FloorWrites: 2,
		ServeDataDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}

	var md bytes.Buffer
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	out := md.String()
	for _, want := range []string{
		"# redlease performance", "## Goals of issue #14", "## 1. Lease operations", "### One conditional write",
		"## 2. Lambda start-up", "Not measured in this run.", "## 3. The local server", "## 4. Cost per database-month",
		"## Adding the /v1/reddb gateway row", "RedDB via /v1/reddb, S3", "pending", "501 Not Implemented",
		"GET 1 + HEAD 3 + PUT 1", // RedDB's refresh
		"RedDB's own S3 lease", "redlease on DynamoDB (cold refresh)", "RedDB via /v1/reddb on DynamoDB (estimated)",
		"$1 per million requests", "What would cut the bill", "The file backend's floor",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if strings.Contains(out, "NaN") || strings.Contains(out, "%!") {
		t.Errorf("the report has a broken figure:\n%s", out)
	}

	judged := map[string]bool{}
	for _, g := range r.Goals {
		judged[g.ID] = g.Met != nil
	}
	for _, id := range []string{"acquire-speedup-new-key", "acquire-speedup-takeover", "storage-requests", "cost-dynamodb"} {
		if !judged[id] {
			t.Errorf("goal %s was not judged (goals %+v)", id, r.Goals)
		}
	}
	if judged["lambda-init"] {
		t.Error("the Lambda goal was judged without a Lambda section")
	}
	for _, g := range r.Goals {
		// S3's stale-cache refresh: the refused PUT, the GET, the PUT.
		if g.ID == "storage-requests" && (g.Value == nil || *g.Value != 3 || *g.Met) {
			t.Errorf("most storage requests per operation: %+v, want 3 and not met", g)
		}
	}

	path := filepath.Join(t.TempDir(), "report.json")
	if err := r.WriteJSON(path); err != nil {
		t.Fatal(err)
	}
	back, err := report.ReadJSON(path)
	if err != nil {
		t.Fatal(err)
	}
	var cmp bytes.Buffer
	if err := report.Compare(&cmp, back, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cmp.String(), "goal/storage-requests | 3 | 3 | 1.00×") {
		t.Errorf("comparing a run with itself:\n%s", cmp.String())
	}
	if os.Getenv("REDLEASE_BENCH_SMOKE_OUT") != "" { // to look at the rendering
		_ = os.WriteFile(os.Getenv("REDLEASE_BENCH_SMOKE_OUT"), md.Bytes(), 0o644)
	}
}
