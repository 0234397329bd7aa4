package cost

import "math"

// Scenario is one way to hold a database's lease: what a refresh and an
// acquire cost in billable units.
type Scenario struct {
	Name    string `json:"name"`
	Backend string `json:"backend"`
	Refresh Op     `json:"refresh"`
	Acquire Op     `json:"acquire"`
	// Sweep is true when the scenario runs redlease's sweep (RedDB's own
	// lease has none).
	Sweep bool `json:"sweep"`
	// Estimated marks counts that were not measured; Basis says where
	// every count comes from.
	Estimated bool   `json:"estimated"`
	Basis     string `json:"basis"`
}

// Month is one scenario's database-month.
type Month struct {
	Scenario Scenario  `json:"scenario"`
	Lease    Breakdown `json:"lease"` // refreshes and acquires
	Sweep    Breakdown `json:"sweep"` // the database's share of the fleet's sweep
	Total    float64   `json:"total"`
}

// Month prices a database-month of s under w; sweep is the fleet's sweep
// run on s's backend (ignored when s has no sweep).
func (b Book) Month(s Scenario, w Workload, sweep SweepRun) Month {
	m := Month{Scenario: s}
	m.Lease = b.Cost(s.Refresh.Scale(w.Refreshes())).Add(b.Cost(s.Acquire.Scale(w.Acquires)))
	if s.Sweep && w.Databases > 0 {
		m.Sweep = b.Cost(sweep.Op.Scale(w.SweepRuns() / float64(w.Databases)))
	}
	m.Total = m.Lease.Add(m.Sweep).Total()
	return m
}

// SweepRun is one sweep run over the whole fleet.
type SweepRun struct {
	Backend string `json:"backend"`
	Records int    `json:"records"`
	Op      Op     `json:"op"`
	Basis   string `json:"basis"`
}

// S3Sweep scales a measured run to records leases: one listing per page
// (S3 lists at most 1,000 keys a page), getsPerRecord GetObjects per
// record, and a run time of msPerRecord per record at the sweep's memory.
func S3Sweep(records, pageSize int, getsPerRecord, msPerRecord float64) SweepRun {
	pages := math.Ceil(float64(records) / float64(min(max(pageSize, 1), 1000)))
	return SweepRun{Backend: "S3", Records: records, Op: Op{
		Invocations: 1, LambdaMs: msPerRecord * float64(records), LambdaMB: SweepMemoryMB,
		S3ClassA: pages, S3ClassB: getsPerRecord * float64(records),
	}}
}

// DynamoDBSweep scales a run to records leases of itemBytes: one strongly
// consistent Scan per page, whose read units are the page's bytes in 4 KB
// units, rounded up per page.
func DynamoDBSweep(records, pageSize, itemBytes int, msPerRecord float64) SweepRun {
	pageSize = max(pageSize, 1)
	var rru float64
	for left := records; left > 0; left -= pageSize {
		rru += math.Ceil(float64(min(left, pageSize)*itemBytes) / 4096)
	}
	return SweepRun{Backend: "DynamoDB", Records: records, Op: Op{
		Invocations: 1, LambdaMs: msPerRecord * float64(records), LambdaMB: SweepMemoryMB, RRU: rru,
	}}
}
