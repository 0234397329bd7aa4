package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/redlease/redlease/bench/lambdastart"
	"github.com/redlease/redlease/bench/leaseops"
	"github.com/redlease/redlease/bench/stats"
)

// cell finds one row's figures for an operation.
func (r *Report) cell(row string, op leaseops.Op) (leaseops.Cell, bool) {
	if r.LeaseOps == nil {
		return leaseops.Cell{}, false
	}
	for _, c := range r.LeaseOps.Cells {
		if c.Row == row && c.Op == op {
			return c, true
		}
	}
	return leaseops.Cell{}, false
}

// p50 is a measured cell's median latency, NaN otherwise.
func (r *Report) p50(row string, op leaseops.Op) float64 {
	c, ok := r.cell(row, op)
	if !ok || !c.Measured || c.LatencyMs.N == 0 {
		return math.NaN()
	}
	return c.LatencyMs.P50
}

func (r *Report) lambdaResult(fn, backend string) (lambdastart.Result, bool) {
	if r.Lambda == nil {
		return lambdastart.Result{}, false
	}
	for _, res := range r.Lambda.Results {
		if res.Function == fn && res.Backend == backend {
			return res, true
		}
	}
	return lambdastart.Result{}, false
}

// Speedup is how many times faster row is than RedDB's replay on op, by
// median latency.
func (r *Report) Speedup(row string, op leaseops.Op) float64 {
	return stats.Ratio(r.p50(leaseops.RowRedDB, op), r.p50(row, op))
}

func judged(v float64, ok func(float64) bool) (*float64, *bool) {
	if math.IsNaN(v) {
		return nil, nil
	}
	met := ok(v)
	return &v, &met
}

// Judge evaluates every goal of issue #14 on this run's figures.
func (r *Report) Judge() {
	r.Goals = nil
	add := func(id, text, target string, v float64, ok func(float64) bool, figure string) {
		g := Goal{ID: id, Text: text, Target: target, Figure: figure}
		g.Value, g.Met = judged(v, ok)
		if g.Value == nil {
			g.Figure = "not measured in this run"
		}
		r.Goals = append(r.Goals, g)
	}
	atLeast := func(t float64) func(float64) bool { return func(v float64) bool { return v >= t } }
	atMost := func(t float64) func(float64) bool { return func(v float64) bool { return v <= t } }

	for _, op := range []leaseops.Op{leaseops.AcquireNew, leaseops.AcquireTakeover} {
		s := r.Speedup(leaseops.RowRedleaseS3, op)
		add("acquire-speedup-"+slug(op), fmt.Sprintf("redlease's S3 acquire (%s) faster than RedDB's replayed sequence", op),
			"≥ 2.5×", s, atLeast(2.5),
			fmt.Sprintf("%.2f× (RedDB %.2f ms, redlease %.2f ms p50)", s, r.p50(leaseops.RowRedDB, op), r.p50(leaseops.RowRedleaseS3, op)))
	}
	worst, over := math.NaN(), []string{}
	for _, row := range []string{leaseops.RowRedleaseS3, leaseops.RowRedleaseDynamoDB} {
		for _, op := range leaseops.Ops {
			c, ok := r.cell(row, op)
			if !ok || !c.Measured || c.StorageTotal.N == 0 {
				continue
			}
			n := sum(c.Storage)
			if math.IsNaN(worst) || n > worst {
				worst = n
			}
			if n > 2 {
				over = append(over, fmt.Sprintf("%s, %s: %s", row, op, requests(c.Storage)))
			}
		}
	}
	figure := fmt.Sprintf("at most %.0f", worst)
	if len(over) > 0 {
		figure = fmt.Sprintf("%.0f at most: %s; every other operation 2 or fewer", worst, strings.Join(over, "; "))
	}
	add("storage-requests", "storage requests per operation (the typical operation), every operation and instance state of redlease's S3 and DynamoDB stores",
		"≤ 2", worst, atMost(2), figure)

	worstInit, initAt := math.NaN(), ""
	worstRatio, ratioAt := math.NaN(), ""
	if r.Lambda != nil {
		for _, res := range r.Lambda.Results {
			if res.InitMs.N == 0 {
				continue
			}
			if math.IsNaN(worstInit) || res.InitMs.P50 > worstInit {
				worstInit, initAt = res.InitMs.P50, res.Function+" on "+res.Backend
			}
			ratio := stats.Ratio(res.FirstInvokeMs.P50, res.WarmInvokeMs.P50)
			if !math.IsNaN(ratio) && (math.IsNaN(worstRatio) || ratio > worstRatio) {
				worstRatio, ratioAt = ratio, fmt.Sprintf("%s on %s: %.2f ms vs %.2f ms", res.Function, res.Backend,
					res.FirstInvokeMs.P50, res.WarmInvokeMs.P50)
			}
		}
	}
	add("lambda-init", "Lambda init (median of the cold starts), every function on every backend",
		"≤ 25 ms", worstInit, atMost(25), fmt.Sprintf("worst median %.2f ms (%s)", worstInit, initAt))
	add("lambda-first-invoke", "first storage-reaching invoke against a warm one (medians), every function and backend",
		"≤ 3×", worstRatio, atMost(3), fmt.Sprintf("worst %.2f× (%s)", worstRatio, ratioAt))

	// Judged on the dearest instance state: which one a refresh meets
	// depends on how many instances of the refresh function there are.
	reddb, ok := r.Cost.month(ScenarioRedDB)
	worstCost := math.NaN()
	figure = ""
	if ok {
		var parts []string
		for _, s := range []struct{ name, state string }{
			{ScenarioDynamoDBWarm, "warm"}, {ScenarioDynamoDBCold, "cold"}, {ScenarioDynamoDBStale, "stale cache"},
		} {
			m, ok := r.Cost.month(s.name)
			if !ok {
				continue
			}
			ratio := stats.Ratio(m.Total, reddb.Total)
			parts = append(parts, fmt.Sprintf("%s %.3f ($%.4f)", s.state, ratio, m.Total))
			if math.IsNaN(worstCost) || ratio > worstCost {
				worstCost = ratio
			}
		}
		figure = fmt.Sprintf("worst %.3f; by refresh state: %s; RedDB's own S3 lease $%.4f per database-month",
			worstCost, strings.Join(parts, ", "), reddb.Total)
	}
	add("cost-dynamodb", "redlease on DynamoDB against RedDB's own S3 lease, per database-month (every refresh state)",
		"≤ 1/3", worstCost, atMost(1.0/3), figure)
}

// slug makes an id from an operation name: "acquire, new key" -> "new-key".
func slug(op leaseops.Op) string {
	switch op {
	case leaseops.AcquireNew:
		return "new-key"
	case leaseops.AcquireTakeover:
		return "takeover"
	}
	return string(op)
}

func sum(m map[string]float64) float64 {
	n := 0.0
	for _, v := range m {
		n += v
	}
	return n
}
