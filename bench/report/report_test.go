package report

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/redlease/redlease/bench/lambdastart"
	"github.com/redlease/redlease/bench/leaseops"
	"github.com/redlease/redlease/bench/stats"
)

// fixture is a small report with round figures, so that the goals and
// the rendering can be checked by hand.
func fixture() *Report {
	lat := func(p50 float64) stats.Summary {
		return stats.Summary{N: 500, Min: p50 / 2, P50: p50, P90: p50 * 1.5, P99: p50 * 2, Max: p50 * 3, Mean: p50}
	}
	reqs := func(n float64) stats.Summary {
		return stats.Summary{N: 500, Min: n, P50: n, P90: n, P99: n, Max: n, Mean: n}
	}
	cell := func(row string, op leaseops.Op, p50 float64, storage map[string]float64) leaseops.Cell {
		total := 0.0
		for _, v := range storage {
			total += v
		}
		return leaseops.Cell{Row: row, Op: op, Measured: true, LatencyMs: lat(p50), Storage: storage, StorageTotal: reqs(total)}
	}
	r := &Report{Schema: Schema, Mode: "full", LeaseOps: &LeaseOps{Iterations: 500, Warmup: 20,
		Rows: []leaseops.RowInfo{
			{Name: leaseops.RowRedDB, Backend: "S3", Kind: leaseops.KindRedDB},
			{Name: leaseops.RowRedleaseS3, Backend: "S3", Kind: leaseops.KindRedlease},
			{Name: leaseops.RowRedleaseDynamoDB, Backend: "DynamoDB", Kind: leaseops.KindRedlease},
			{Name: leaseops.RowGatewayS3, Backend: "S3", Kind: leaseops.KindGateway, Pending: "not built"},
		},
		Cells: []leaseops.Cell{
			cell(leaseops.RowRedDB, leaseops.AcquireNew, 10, map[string]float64{"HEAD": 2, "PUT": 1, "GET": 1}),
			cell(leaseops.RowRedDB, leaseops.AcquireTakeover, 15, map[string]float64{"HEAD": 3, "GET": 2, "PUT": 1}),
			cell(leaseops.RowRedDB, leaseops.RefreshWarm, 12, map[string]float64{"HEAD": 3, "GET": 1, "PUT": 1}),
			cell(leaseops.RowRedleaseS3, leaseops.AcquireNew, 5, map[string]float64{"GET": 1, "PUT": 1}),
			cell(leaseops.RowRedleaseS3, leaseops.AcquireTakeover, 5, map[string]float64{"GET": 1, "PUT": 1}),
			cell(leaseops.RowRedleaseS3, leaseops.RefreshCold, 5, map[string]float64{"GET": 1, "PUT": 1}),
			cell(leaseops.RowRedleaseS3, leaseops.RefreshWarm, 3, map[string]float64{"PUT": 1}),
			cell(leaseops.RowRedleaseDynamoDB, leaseops.AcquireTakeover, 4, map[string]float64{"GetItem": 1, "PutItem": 1}),
			cell(leaseops.RowRedleaseDynamoDB, leaseops.RefreshCold, 4, map[string]float64{"GetItem": 1, "PutItem": 1}),
			cell(leaseops.RowRedleaseDynamoDB, leaseops.RefreshWarm, 2, map[string]float64{"PutItem": 1}),
		},
		Sweep: []leaseops.SweepFigures{
			{Backend: "DynamoDB", Records: 100, Runs: 1, Requests: map[string]float64{"Scan": 1}, PageSize: 500, ItemBytes: 200, RunMs: lat(10)},
		},
	}}
	r.Lambda = &lambdastart.Report{Arch: "amd64", Results: []lambdastart.Result{
		{Function: "refresh", Backend: "dynamodb", ColdStarts: 10, InitMs: lat(8), FirstInvokeMs: lat(12), WarmInvokeMs: lat(6.5)},
		{Function: "acquire", Backend: "dynamodb", ColdStarts: 10, InitMs: lat(30), FirstInvokeMs: lat(40), WarmInvokeMs: lat(10)},
	}}
	r.BuildCosts()
	r.Judge()
	return r
}

func goal(t *testing.T, r *Report, id string) Goal {
	t.Helper()
	for _, g := range r.Goals {
		if g.ID == id {
			return g
		}
	}
	t.Fatalf("no goal %s in %+v", id, r.Goals)
	return Goal{}
}

func TestJudge(t *testing.T) {
	t.Parallel()
	r := fixture()
	tests := []struct {
		id    string
		value float64
		met   bool
	}{
		{"acquire-speedup-new-key", 2, false}, // 10 ms / 5 ms
		{"acquire-speedup-takeover", 3, true}, // 15 ms / 5 ms
		{"storage-requests", 2, true},         // GET + PUT at most
		{"lambda-init", 30, false},            // acquire's 30 ms median
		{"lambda-first-invoke", 4, false},     // acquire: 40 ms against 10 ms
	}
	for _, tc := range tests {
		g := goal(t, r, tc.id)
		if g.Value == nil || math.Abs(*g.Value-tc.value) > 1e-9 || g.Met == nil || *g.Met != tc.met {
			t.Errorf("%s: value %v met %v, want %v and %v (%s)", tc.id, deref(g.Value), g.Met, tc.value, tc.met, g.Figure)
		}
	}
	cost := goal(t, r, "cost-dynamodb")
	if cost.Value == nil || *cost.Value <= 0 || *cost.Value >= 1 {
		t.Errorf("cost ratio %v, want a fraction", deref(cost.Value))
	}
}

func deref(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

func TestJudgeWithoutFigures(t *testing.T) {
	t.Parallel()
	r := &Report{Schema: Schema}
	r.BuildCosts()
	r.Judge()
	for _, g := range r.Goals {
		if g.Met != nil || g.Value != nil || g.Figure != "not measured in this run" {
			t.Errorf("goal %s judged without figures: %+v", g.ID, g)
		}
	}
	var b bytes.Buffer
	if err := r.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	if strings.Count(b.String(), "Not measured in this run.") < 3 {
		t.Errorf("empty report:\n%s", b.String())
	}
}

func TestCostsFromFigures(t *testing.T) {
	t.Parallel()
	r := fixture()
	ddb, ok := r.Cost.month(ScenarioDynamoDBCold)
	if !ok {
		t.Fatal("no DynamoDB month")
	}
	// The refresh function's warm median (6.5 ms) bills 7 ms; one RRU and one WRU.
	if ddb.Scenario.Refresh.LambdaMs != 6.5 || ddb.Scenario.Refresh.RRU != 1 || ddb.Scenario.Refresh.WRU != 1 {
		t.Errorf("DynamoDB cold refresh = %+v", ddb.Scenario.Refresh)
	}
	gw, ok := r.Cost.month(ScenarioGatewayDynamoDB)
	if !ok || !gw.Scenario.Estimated || gw.Scenario.Refresh.APIRequests != 5 {
		t.Errorf("gateway month %+v, want an estimate from RedDB's 5 requests", gw.Scenario)
	}
	// behind HEAD 3 + GET 1 + PUT 1: five reads (the PUT reads first) and one write.
	if gw.Scenario.Refresh.RRU != 5 || gw.Scenario.Refresh.WRU != 1 {
		t.Errorf("gateway refresh units %+v", gw.Scenario.Refresh)
	}
	if _, ok := r.Cost.month(ScenarioS3Cold); !ok {
		t.Error("no S3 month")
	}
	found := false
	for _, a := range r.Cost.Assumed {
		found = found || strings.Contains(a, "acquire on s3")
	}
	if !found {
		t.Errorf("the S3 handler times were not marked assumed: %v", r.Cost.Assumed)
	}
}

func TestMarkdownRows(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := fixture().WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"| acquire, new key | redlease, S3 store | GET 1 + PUT 1 | 5.00 | 10.0 | 2.50–15.0 | 2.00× |",
		"| every operation | RedDB via /v1/reddb, S3 | pending (see below) |",
		"| refresh | dynamodb | 8.00 | 4.00–24.0 | 12.0 | 6.50 | 1.85× |",
		"| redlease's S3 acquire (acquire, new key) faster than RedDB's replayed sequence | ≥ 2.5× | 2.00× (RedDB 10.00 ms, redlease 5.00 ms p50) | **not met** |",
		"RedDB via /v1/reddb on DynamoDB (estimated)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the Markdown lacks\n%s\n--- got:\n%s", want, out)
		}
	}
}

func TestFormatting(t *testing.T) {
	t.Parallel()
	tests := []struct{ got, want string }{
		{ms(1234.5), "1234"}, {ms(12.34), "12.3"}, {ms(1.234), "1.23"}, {ms(math.NaN()), dash},
		{times(2.456), "2.46×"}, {times(math.Inf(1)), dash},
		{usd(0.25617), "$0.2562"}, {usd(1.5), "$1.50"}, {usd(0.0001234), "$0.000123"}, {usd(0), "$0"},
		{requests(map[string]float64{"PUT": 1, "GET": 1.5}), "GET 1.50 + PUT 1"}, {requests(nil), "none"},
		{perText(1e6), "million "}, {perText(1), ""},
		{cellText("a|b"), `a\|b`},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
