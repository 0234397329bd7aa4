package report

import (
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/redlease/redlease/bench/stats"
)

// Figures flattens a report into named numbers, the same names in every
// run, so that two runs can be compared figure by figure.
func (r *Report) Figures() map[string]float64 {
	f := map[string]float64{}
	if lo := r.LeaseOps; lo != nil {
		for _, c := range lo.Cells {
			if !c.Measured || c.LatencyMs.N == 0 {
				continue
			}
			k := "lease/" + c.Row + "/" + string(c.Op)
			f[k+"/p50_ms"] = c.LatencyMs.P50
			f[k+"/p99_ms"] = c.LatencyMs.P99
			f[k+"/storage_requests"] = c.StorageTotal.Mean
		}
	}
	if l := r.Lambda; l != nil {
		for _, res := range l.Results {
			k := "lambda/" + res.Function + "/" + res.Backend
			if res.InitMs.N > 0 {
				f[k+"/init_p50_ms"] = res.InitMs.P50
				f[k+"/first_invoke_p50_ms"] = res.FirstInvokeMs.P50
				f[k+"/warm_invoke_p50_ms"] = res.WarmInvokeMs.P50
				f[k+"/peak_rss_mib"] = res.PeakRSSMiB.Max
			}
		}
		for _, s := range l.Sizes {
			f["lambda/"+s.Function+"/"+s.Arch+"/bytes"] = float64(s.Bytes)
		}
	}
	if s := r.Server; s != nil {
		for _, res := range s.Results {
			k := fmt.Sprintf("serve/%s/c%d/%s", res.Backend, res.Concurrency, res.Op)
			f[k+"/per_second"] = res.PerSecond
			f[k+"/p50_ms"] = res.LatencyMs.P50
		}
		if s.Floor.Writes > 0 {
			f["serve/file/floor_p50_ms"] = s.Floor.LatencyMs.P50
		}
		for _, a := range s.Allocs {
			f["allocs/"+a.Name+"/allocs_per_op"] = a.AllocsPerOp
		}
	}
	if c := r.Cost; c != nil {
		for _, m := range c.Months {
			f["cost/"+m.Scenario.Name+"/usd_per_database_month"] = m.Total
		}
	}
	for _, g := range r.Goals {
		if g.Value != nil {
			f["goal/"+g.ID] = *g.Value
		}
	}
	return f
}

// Compare writes a Markdown table of every figure both runs have: old,
// new and new/old.
func Compare(w io.Writer, old, cur *Report) error {
	a, b := old.Figures(), cur.Figures()
	m := &md{w: w}
	m.f("Comparing %s (%s) with %s (%s).\n\n", old.Started.UTC().Format("2006-01-02 15:04"), old.Mode,
		cur.Started.UTC().Format("2006-01-02 15:04"), cur.Mode)
	m.header("figure", "old", "new", "new / old")
	for _, k := range slices.Sorted(maps.Keys(b)) {
		va, ok := a[k]
		if !ok {
			continue
		}
		m.row(k, fmt.Sprintf("%.4g", va), fmt.Sprintf("%.4g", b[k]), times(stats.Ratio(b[k], va)))
	}
	for _, k := range slices.Sorted(maps.Keys(a)) {
		if _, ok := b[k]; !ok {
			m.row(k, fmt.Sprintf("%.4g", a[k]), "absent", dash)
		}
	}
	return m.err
}
