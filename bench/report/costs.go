package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/redlease/redlease/bench/cost"
	"github.com/redlease/redlease/bench/leaseops"
)

// Names of the cost scenarios.
const (
	ScenarioRedDB           = "RedDB's own S3 lease"
	ScenarioS3Cold          = "redlease on S3 (cold refresh)"
	ScenarioS3Warm          = "redlease on S3 (warm refresh)"
	ScenarioS3Stale         = "redlease on S3 (stale-cache refresh)"
	ScenarioDynamoDBCold    = "redlease on DynamoDB (cold refresh)"
	ScenarioDynamoDBWarm    = "redlease on DynamoDB (warm refresh)"
	ScenarioDynamoDBStale   = "redlease on DynamoDB (stale-cache refresh)"
	ScenarioGatewayS3       = "RedDB via /v1/reddb on S3"
	ScenarioGatewayDynamoDB = "RedDB via /v1/reddb on DynamoDB"
)

// assumedLambdaMs is the handler time used when the Lambda section did not
// run; it is marked as assumed in the report.
const assumedLambdaMs = 10

// BuildCosts prices a database-month for every scenario from this run's
// request counts and Lambda durations.
func (r *Report) BuildCosts() {
	c := &Costs{Prices: cost.ListPrices.List(), Workload: cost.RedDBDefaults}
	r.Cost = c
	if r.LeaseOps == nil {
		c.Assumed = append(c.Assumed, "no lease-operation figures: nothing to price")
		return
	}
	itemBytes := 0
	sweeps := map[string]cost.SweepRun{}
	for _, s := range r.LeaseOps.Sweep {
		msPerRecord := s.RunMs.P50 / float64(max(s.Records, 1))
		switch s.Backend {
		case "S3":
			run := cost.S3Sweep(c.Workload.Databases, s.PageSize, s.Requests["GET"]/float64(max(s.Records, 1)), msPerRecord)
			run.Basis = fmt.Sprintf("measured over %d leases (LIST %.0f + GET %.0f a run), scaled to %d; run time extrapolated linearly",
				s.Records, s.Requests["LIST"], s.Requests["GET"], c.Workload.Databases)
			sweeps["S3"] = run
		case "DynamoDB":
			itemBytes = s.ItemBytes
			run := cost.DynamoDBSweep(c.Workload.Databases, s.PageSize, s.ItemBytes, msPerRecord)
			run.Basis = fmt.Sprintf("measured over %d leases (Scan %.0f a run, %d-byte items), scaled to %d; run time extrapolated linearly",
				s.Records, s.Requests["Scan"], s.ItemBytes, c.Workload.Databases)
			sweeps["DynamoDB"] = run
		}
	}
	if itemBytes == 0 {
		itemBytes = 200
		c.Assumed = append(c.Assumed, "DynamoDB item size assumed 200 bytes (the sweep was not measured)")
	}
	for _, b := range []string{"S3", "DynamoDB"} {
		if s, ok := sweeps[b]; ok {
			c.Sweeps = append(c.Sweeps, s)
		}
	}
	ms := func(fn, backend string) float64 {
		if res, ok := r.lambdaResult(fn, backend); ok && res.WarmInvokeMs.N > 0 {
			return res.WarmInvokeMs.P50
		}
		note := fmt.Sprintf("%s on %s: handler time assumed %d ms (Lambda section not measured)", fn, backend, assumedLambdaMs)
		if !slices.Contains(c.Assumed, note) {
			c.Assumed = append(c.Assumed, note)
		}
		return assumedLambdaMs
	}
	units := func(row string, op leaseops.Op) (cost.Op, bool) {
		cell, ok := r.cell(row, op)
		if !ok || !cell.Measured || cell.StorageTotal.N == 0 {
			return cost.Op{}, false
		}
		return cost.Units(cell.Storage, itemBytes), true
	}
	add := func(s cost.Scenario, ok bool) {
		if ok {
			c.Months = append(c.Months, cost.ListPrices.Month(s, c.Workload, sweeps[s.Backend]))
		}
	}
	ref, okR := units(leaseops.RowRedDB, leaseops.RefreshWarm)
	acq, okA := units(leaseops.RowRedDB, leaseops.AcquireTakeover)
	add(cost.Scenario{Name: ScenarioRedDB, Backend: "S3", Refresh: ref, Acquire: acq,
		Basis: "RedDB's replayed refresh (HEAD, GET, HEAD, PUT, HEAD) and takeover, straight to S3; no sweep"}, okR && okA)

	for _, v := range []struct {
		name, row, backend string
		op                 leaseops.Op
	}{
		{ScenarioS3Cold, leaseops.RowRedleaseS3, "S3", leaseops.RefreshCold},
		{ScenarioS3Warm, leaseops.RowRedleaseS3, "S3", leaseops.RefreshWarm},
		{ScenarioS3Stale, leaseops.RowRedleaseS3, "S3", leaseops.RefreshStale},
		{ScenarioDynamoDBCold, leaseops.RowRedleaseDynamoDB, "DynamoDB", leaseops.RefreshCold},
		{ScenarioDynamoDBWarm, leaseops.RowRedleaseDynamoDB, "DynamoDB", leaseops.RefreshWarm},
		{ScenarioDynamoDBStale, leaseops.RowRedleaseDynamoDB, "DynamoDB", leaseops.RefreshStale},
	} {
		be := backendKey(v.backend)
		ref, okR := units(v.row, v.op)
		acq, okA := units(v.row, leaseops.AcquireTakeover)
		add(cost.Scenario{Name: v.name, Backend: v.backend, Sweep: true,
			Refresh: ref.WithFront(1, ms("refresh", be), cost.APIMemoryMB),
			Acquire: acq.WithFront(1, ms("acquire", be), cost.APIMemoryMB),
			Basis:   fmt.Sprintf("measured %s and cold takeover, one API request each, Lambda handler times from section 2", v.op),
		}, okR && okA)
	}
	c.Months = append(c.Months, r.gatewayMonths(c, itemBytes, sweeps, ms)...)
	c.Savings = savings(c)
}

// gatewayMonths prices RedDB through /v1/reddb: measured when the gateway
// rows ran, else estimated from RedDB's own request counts.
func (r *Report) gatewayMonths(c *Costs, itemBytes int, sweeps map[string]cost.SweepRun, ms func(string, string) float64) []cost.Month {
	var out []cost.Month
	for _, g := range []struct{ name, row, backend, read, write string }{
		{ScenarioGatewayS3, leaseops.RowGatewayS3, "S3", "GET", "PUT"},
		{ScenarioGatewayDynamoDB, leaseops.RowGatewayDynamoDB, "DynamoDB", "GetItem", "PutItem"},
	} {
		lambda := ms("refresh", backendKey(g.backend))
		s := cost.Scenario{Name: g.name, Backend: g.backend, Sweep: true}
		ref, okR := r.cell(g.row, leaseops.RefreshWarm)
		acq, okA := r.cell(g.row, leaseops.AcquireTakeover)
		if okR && okA && ref.Measured && ref.StorageTotal.N > 0 {
			s.Refresh = cost.Units(ref.Storage, itemBytes).WithFront(sum(ref.Front), lambda, cost.APIMemoryMB)
			s.Acquire = cost.Units(acq.Storage, itemBytes).WithFront(sum(acq.Front), lambda, cost.APIMemoryMB)
			s.Basis = "measured: RedDB's requests to the gateway and the storage requests behind them"
			out = append(out, cost.ListPrices.Month(s, c.Workload, sweeps[g.backend]))
			continue
		}
		// Estimate, as docs/design-reddb-gateway.md (section 7) counts it:
		// every request RedDB sends is one API request and one invocation;
		// behind it a HEAD or GET is one read, a conditional PUT or DELETE a
		// read and a write.
		refresh, okR2 := r.cell(leaseops.RowRedDB, leaseops.RefreshWarm)
		takeover, okA2 := r.cell(leaseops.RowRedDB, leaseops.AcquireTakeover)
		if !okR2 || !okA2 || !refresh.Measured {
			continue
		}
		behind := func(front map[string]float64) map[string]float64 {
			return map[string]float64{
				g.read:  front["HEAD"] + front["GET"] + front["PUT"] + front["DELETE"],
				g.write: front["PUT"] + front["DELETE"],
			}
		}
		s.Estimated = true
		s.Refresh = cost.Units(behind(refresh.Storage), itemBytes).WithFront(sum(refresh.Storage), lambda, cost.APIMemoryMB)
		s.Acquire = cost.Units(behind(takeover.Storage), itemBytes).WithFront(sum(takeover.Storage), lambda, cost.APIMemoryMB)
		s.Basis = fmt.Sprintf("estimated (the face is not built yet): RedDB's %.0f requests per refresh, each an API request "+
			"and an invocation of %.1f ms (the refresh function's); behind each HEAD or GET one read, behind the PUT a read and a write, "+
			"as docs/design-reddb-gateway.md counts them (6 storage requests per refresh), which recommends a function URL for this face", sum(refresh.Storage), lambda)
		out = append(out, cost.ListPrices.Month(s, c.Workload, sweeps[g.backend]))
	}
	return out
}

// staleToCold pairs each stale-cache scenario with the cold one it would
// become if a cached version were trusted only within one refresh interval.
var staleToCold = [][2]string{{ScenarioS3Stale, ScenarioS3Cold}, {ScenarioDynamoDBStale, ScenarioDynamoDBCold}}

// savings prices the service changes that would cut the bill.
func savings(c *Costs) []Saving {
	var out []Saving
	w := c.Workload
	for _, pair := range staleToCold {
		s, ok1 := c.month(pair[0])
		k, ok2 := c.month(pair[1])
		if ok1 && ok2 && s.Total > k.Total {
			out = append(out, Saving{Change: "trust a cached version only within one refresh interval of writing it (a stale-cache refresh reads first, as a cold one does)",
				Scenario: pair[0], USD: s.Total - k.Total, Percent: 100 * (s.Total - k.Total) / s.Total})
		}
	}
	for _, m := range c.Months {
		if m.Scenario.Refresh.APIRequests == 0 || m.Total == 0 {
			continue
		}
		add := func(change string, usd float64) {
			if usd > 0 {
				out = append(out, Saving{Change: change, Scenario: m.Scenario.Name, USD: usd, Percent: 100 * usd / m.Total})
			}
		}
		change := "a Lambda function URL instead of the API Gateway HTTP API"
		if !strings.HasPrefix(m.Scenario.Name, "RedDB via") {
			change += " (the JSON face: only if #10's authorisation moves into the function)"
		}
		add(change, m.Lease.APIGateway)
		add("128 MB instead of 256 MB for the API functions", m.Lease.LambdaDuration/2)
		if m.Scenario.Backend == "DynamoDB" && m.Scenario.Refresh.RRU > 0 && !m.Scenario.Estimated {
			rru := m.Scenario.Refresh.RRU * w.Refreshes() * cost.ListPrices.DynamoDBRead.Each()
			add("cold refresh as one conditional write (no GetItem; the refusal returns ALL_OLD)", rru)
		}
	}
	return out
}

func backendKey(b string) string {
	if b == "DynamoDB" {
		return "dynamodb"
	}
	return "s3"
}

// month finds a priced scenario.
func (c *Costs) month(name string) (cost.Month, bool) {
	if c == nil {
		return cost.Month{}, false
	}
	for _, m := range c.Months {
		if m.Scenario.Name == name {
			return m, true
		}
	}
	return cost.Month{}, false
}
