// Package report assembles one benchmark run into a single document: the
// measured sections (lease operations, Lambda start-up, the local server),
// the cost model built from them, the goals of issue #14 judged on the
// figures, and the Markdown and JSON renderings of all of it. Runs are
// compared through the JSON (Compare).
package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/redlease/redlease/bench/cost"
	"github.com/redlease/redlease/bench/lambdastart"
	"github.com/redlease/redlease/bench/leaseops"
	"github.com/redlease/redlease/bench/machine"
	"github.com/redlease/redlease/bench/serverload"
)

// Schema is the version of the JSON layout; Compare refuses others.
const Schema = 1

// Report is one run.
type Report struct {
	Schema   int          `json:"schema"`
	Mode     string       `json:"mode"` // "full" or "smoke"
	Started  time.Time    `json:"started"`
	Finished time.Time    `json:"finished"`
	Command  string       `json:"command"`
	Machine  machine.Info `json:"machine"`
	// Emulators names what the storage ran on (versions).
	Emulators map[string]string `json:"emulators,omitempty"`
	// Skipped says why a section has no figures.
	Skipped map[string]string `json:"skipped,omitempty"`

	LeaseOps *LeaseOps           `json:"lease_ops,omitempty"`
	Lambda   *lambdastart.Report `json:"lambda,omitempty"`
	Server   *serverload.Report  `json:"server,omitempty"`
	Cost     *Costs              `json:"cost,omitempty"`
	Goals    []Goal              `json:"goals"`
}

// LeaseOps is section 1.
type LeaseOps struct {
	Iterations int                     `json:"iterations"`
	Warmup     int                     `json:"warmup"`
	Rows       []leaseops.RowInfo      `json:"rows"` // measured and pending, in table order
	Cells      []leaseops.Cell         `json:"cells"`
	Sweep      []leaseops.SweepFigures `json:"sweep"`
}

// Costs is section 4.
type Costs struct {
	Prices   []cost.Price    `json:"prices"`
	Workload cost.Workload   `json:"workload"`
	Months   []cost.Month    `json:"months"`
	Sweeps   []cost.SweepRun `json:"sweeps"`
	Savings  []Saving        `json:"savings"`
	// Assumed lists inputs that were not measured in this run.
	Assumed []string `json:"assumed,omitempty"`
}

// Saving is what one service change would take off a scenario's bill.
type Saving struct {
	Change   string  `json:"change"`
	Scenario string  `json:"scenario"`
	USD      float64 `json:"usd_per_database_month"`
	Percent  float64 `json:"percent"`
}

// Goal is one target of the issue, judged on this run's figures.
type Goal struct {
	ID     string `json:"id"`
	Text   string `json:"text"`
	Target string `json:"target"`
	// Figure is the measured value in words; Value the number judged.
	Figure string   `json:"figure"`
	Value  *float64 `json:"value,omitempty"`
	// Met is nil when the run could not judge it.
	Met *bool `json:"met,omitempty"`
}

// WriteJSON writes r to path, creating its directory.
func (r *Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644) //nolint:gosec // a report for the repository, readable by all
}

// ReadJSON reads a report WriteJSON wrote.
func ReadJSON(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if r.Schema != Schema {
		return nil, fmt.Errorf("%s: report schema %d, this tool reads %d", path, r.Schema, Schema)
	}
	return &r, nil
}
