// Package suite runs every section of the benchmark report in order and
// assembles the report: lease operations and the sweep on the emulators,
// Lambda start-up under the RIE, the local server, allocations, then the
// cost model and the goals. cmd/benchreport is its command line; the smoke
// test runs it on in-process fakes with tiny counts.
package suite

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/redlease/redlease/bench/emulators"
	"github.com/redlease/redlease/bench/lambdastart"
	"github.com/redlease/redlease/bench/leaseops"
	"github.com/redlease/redlease/bench/machine"
	"github.com/redlease/redlease/bench/report"
	"github.com/redlease/redlease/bench/serverload"
)

// Config is one run's settings.
type Config struct {
	Mode     string // "full" or "smoke"
	Command  string // how the run was started, for the report
	RepoRoot string
	// Emulators are the storage for sections 1 and 2; nil skips section 1
	// and the S3 and DynamoDB backends of section 2.
	Emulators *emulators.Env
	// StorageNames, when set, names the storage in the report instead of
	// the emulators' versions (the smoke run's fakes).
	StorageNames map[string]string

	LeaseIterations, LeaseWarmup int
	SweepRecords, SweepRuns      int

	// RIE and LambdaDir enable section 2.
	RIE, LambdaDir     string
	Functions          []string
	ColdStarts, Warm   int
	LambdaSweepRecords int

	// Binary is the redlease binary for section 3 (empty: in process).
	Binary       string
	Backends     []string
	Concurrency  []int
	Requests     int
	Rounds       int
	FloorWrites  int
	ServeDataDir string // where the file backend and the floor write; a temporary directory when empty
	// AllocsBenchtime runs `go test -bench` for allocations (e.g. "2000x");
	// empty skips it.
	AllocsBenchtime string

	Progress io.Writer
}

func (c Config) progress(format string, args ...any) {
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, format+"\n", args...)
	}
}

// Run measures every section cfg enables and returns the judged report.
func Run(ctx context.Context, cfg Config) (*report.Report, error) {
	r := &report.Report{Schema: report.Schema, Mode: cfg.Mode, Command: cfg.Command, Started: time.Now().UTC(),
		Machine: machine.Read(ctx), Skipped: map[string]string{}}
	if cfg.ServeDataDir != "" {
		r.Machine.Disk = machine.DiskOf(ctx, cfg.ServeDataDir)
	} else {
		r.Machine.Disk = machine.DiskOf(ctx, os.TempDir())
	}
	if e := cfg.Emulators; e != nil {
		r.Emulators = cfg.StorageNames
		if r.Emulators == nil {
			r.Emulators = emulatorVersions(ctx, cfg.RepoRoot, *e)
		}
		if err := leaseOps(ctx, cfg, r); err != nil {
			return nil, fmt.Errorf("lease operations: %w", err)
		}
	} else {
		r.Skipped["lease operations"] = "no emulators (run under localstack/with-emulators.sh)"
	}
	if cfg.RIE != "" && cfg.LambdaDir != "" {
		cfg.progress("lambda: %d functions, %d cold starts each per backend", len(cfg.Functions), cfg.ColdStarts)
		rep, err := lambdastart.Run(ctx, lambdastart.Config{RIE: cfg.RIE, LambdaDir: cfg.LambdaDir, RepoRoot: cfg.RepoRoot,
			Functions: cfg.Functions, ColdStarts: cfg.ColdStarts, Warm: cfg.Warm, SweepRecords: cfg.LambdaSweepRecords,
			Emulators: cfg.Emulators, Progress: cfg.Progress})
		if err != nil {
			return nil, fmt.Errorf("lambda start-up: %w", err)
		}
		r.Lambda = &rep
	} else {
		r.Skipped["Lambda start-up"] = "no RIE or bootstraps given (-rie, -lambda-dir; make bench-report provides them)"
	}
	cfg.progress("serve: backends %v, concurrency %v", cfg.Backends, cfg.Concurrency)
	srv, err := serverload.Run(ctx, serverload.Config{Binary: cfg.Binary, Backends: cfg.Backends, Concurrency: cfg.Concurrency,
		Requests: cfg.Requests, Rounds: cfg.Rounds, FloorWrites: cfg.FloorWrites, Dir: cfg.ServeDataDir, Progress: cfg.Progress})
	if err != nil {
		return nil, fmt.Errorf("local server: %w", err)
	}
	if cfg.AllocsBenchtime != "" {
		cfg.progress("allocs: go test -bench")
		allocs, err := serverload.MeasureAllocs(ctx, cfg.RepoRoot, cfg.AllocsBenchtime)
		if err != nil {
			return nil, fmt.Errorf("allocations: %w", err)
		}
		srv.Allocs, srv.AllocsCmd = allocs, strings.Join(serverload.AllocsCommand(cfg.AllocsBenchtime), " ")
	} else {
		r.Skipped["allocations"] = "go test -bench not run (smoke)"
	}
	r.Server = &srv
	r.BuildCosts()
	r.Judge()
	r.Machine.LoadEnd = machine.Load()
	r.Finished = time.Now().UTC()
	if len(r.Skipped) == 0 {
		r.Skipped = nil
	}
	return r, nil
}

func leaseOps(ctx context.Context, cfg Config, r *report.Report) error {
	subjects, pending, err := leaseops.Rows(ctx, *cfg.Emulators)
	if err != nil {
		return err
	}
	lo := &report.LeaseOps{Iterations: cfg.LeaseIterations, Warmup: cfg.LeaseWarmup}
	for _, s := range subjects {
		lo.Rows = append(lo.Rows, s.Info())
	}
	lo.Rows = append(lo.Rows, pending...)
	cfg.progress("lease ops: %d rows, %d iterations per operation", len(subjects), cfg.LeaseIterations)
	cells, err := leaseops.Run(ctx, subjects, leaseops.Config{Iterations: cfg.LeaseIterations, Warmup: cfg.LeaseWarmup, Progress: cfg.Progress})
	if err != nil {
		return err
	}
	lo.Cells = cells
	cfg.progress("sweep: %d leases, %d runs per backend", cfg.SweepRecords, cfg.SweepRuns)
	if lo.Sweep, err = leaseops.SweepRows(ctx, *cfg.Emulators, cfg.SweepRecords, cfg.SweepRuns); err != nil {
		return err
	}
	r.LeaseOps = lo
	return nil
}

var pinned = regexp.MustCompile(`(?m)^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^\s;#]+)`)

// emulatorVersions names the emulators: LocalStack's own health answer,
// and the pins of localstack/requirements*.txt (what the harness installs).
func emulatorVersions(ctx context.Context, repoRoot string, e emulators.Env) map[string]string {
	out := map[string]string{}
	pins := map[string]string{}
	for _, f := range []string{"requirements.txt", "requirements-moto.txt"} {
		b, err := os.ReadFile(filepath.Join(repoRoot, "localstack", f))
		if err != nil {
			continue
		}
		for _, m := range pinned.FindAllStringSubmatch(string(b), -1) {
			pins[m[1]] = m[2]
		}
	}
	out["S3"] = "LocalStack " + orPin(localStackVersion(ctx, e.S3Endpoint), pins["localstack-core"])
	out["DynamoDB"] = "moto " + orPin("", pins["moto"]) + " (one request at a time, localstack/moto_serial.py)"
	return out
}

func orPin(live, pin string) string {
	switch {
	case live != "":
		return live
	case pin != "":
		return pin
	}
	return "(version unknown)"
}

func localStackVersion(ctx context.Context, endpoint string) string {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/_localstack/health", nil)
	if err != nil {
		return ""
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var h struct {
		Version string `json:"version"`
	}
	if json.NewDecoder(resp.Body).Decode(&h) != nil {
		return ""
	}
	return h.Version
}
