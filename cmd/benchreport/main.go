// Command benchreport runs redlease's benchmark report (make bench-report)
// and prints it as Markdown; it also writes the Markdown and the JSON to
// files. Run it under localstack/with-emulators.sh, which starts the
// emulators it needs and exports where they are.
//
//	benchreport [flags]                  run and report
//	benchreport compare OLD.json NEW.json  compare two runs' figures
//	benchreport render REPORT.json         print a run's Markdown again (after the generator's text changed)
//
// -smoke measures a few iterations of everything, to check the pipeline.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/redlease/redlease/bench/emulators"
	"github.com/redlease/redlease/bench/lambdastart"
	"github.com/redlease/redlease/bench/report"
	"github.com/redlease/redlease/bench/suite"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

// sizes are the iteration counts of a full and a smoke run.
type sizes struct {
	lease, warmup, sweepRecords, sweepRuns int
	coldStarts, warm, lambdaSweep          int
	requests, rounds, floor                int
	allocs                                 string
}

var (
	full  = sizes{500, 20, 200, 5, 15, 5, 20, 3000, 6, 500, "2000x"}
	smoke = sizes{5, 1, 5, 1, 2, 2, 3, 20, 2, 5, ""}
)

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "compare" {
		return compare(args[1:], stdout)
	}
	if len(args) > 0 && args[0] == "render" {
		return render(args[1:], stdout)
	}
	fs := flag.NewFlagSet("benchreport", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		smokeRun   = fs.Bool("smoke", false, "a few iterations of everything, to check the pipeline")
		repo       = fs.String("repo", ".", "repository root (events/, localstack/, bench/)")
		functions  = fs.String("functions", "", "Lambda functions to measure, space-separated; default: every function the project declares (lambdafn.Functions)")
		lambdaDir  = fs.String("lambda-dir", "", "bootstraps as make lambdas builds them ({dir}/{arch}/{function}/bootstrap); empty skips section 2")
		rie        = fs.String("rie", "", "the aws-lambda-rie binary; empty skips section 2")
		binary     = fs.String("redlease", "", "the redlease binary for section 3 (make build); empty serves in process")
		mdPath     = fs.String("md", "", "also write the Markdown here (e.g. docs/performance.md)")
		jsonPath   = fs.String("json", "", "write the JSON here (e.g. docs/performance.json)")
		historyDir = fs.String("history", "", "also keep a timestamped copy of the JSON in this directory")
		iterations = fs.Int("iterations", 0, "lease-operation iterations per row and operation (default 500; smoke 5)")
		coldStarts = fs.Int("cold-starts", 0, "cold starts per function and backend (default 15; smoke 2)")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	sz, mode := full, "full"
	if *smokeRun {
		sz, mode = smoke, "smoke"
	}
	if *iterations > 0 {
		sz.lease = *iterations
	}
	if *coldStarts > 0 {
		sz.coldStarts = *coldStarts
	}
	root, err := filepath.Abs(*repo)
	if err != nil {
		return err
	}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	env, err := emulators.EnvFrom(getenv, run)
	if err != nil {
		return err
	}
	fns := lambdastart.Functions(*functions)
	cfg := suite.Config{
		Mode: mode, Command: commandLine(args), RepoRoot: root, Emulators: &env,
		LeaseIterations: sz.lease, LeaseWarmup: sz.warmup, SweepRecords: sz.sweepRecords, SweepRuns: sz.sweepRuns,
		RIE: *rie, LambdaDir: *lambdaDir, Functions: fns, ColdStarts: sz.coldStarts, Warm: sz.warm, LambdaSweepRecords: sz.lambdaSweep,
		Binary: *binary, Backends: []string{"memory", "file"}, Concurrency: []int{1, 16, 64},
		Requests: sz.requests, Rounds: sz.rounds, FloorWrites: sz.floor, AllocsBenchtime: sz.allocs,
		Progress: stderr,
	}
	if *smokeRun {
		cfg.Concurrency = []int{1, 4}
	}
	r, err := suite.Run(ctx, cfg)
	if err != nil {
		return err
	}
	var md bytes.Buffer
	if err := r.WriteMarkdown(&md); err != nil {
		return err
	}
	if *mdPath != "" {
		if err := os.MkdirAll(filepath.Dir(*mdPath), 0o750); err != nil {
			return err
		}
		if err := os.WriteFile(*mdPath, md.Bytes(), 0o644); err != nil { //nolint:gosec // a document for the repository
			return err
		}
	}
	if *jsonPath != "" {
		if err := r.WriteJSON(*jsonPath); err != nil {
			return err
		}
	}
	if *historyDir != "" {
		name := fmt.Sprintf("report-%s-%s.json", r.Started.Format("20060102T150405Z"), mode)
		if err := r.WriteJSON(filepath.Join(*historyDir, name)); err != nil {
			return err
		}
	}
	_, err = stdout.Write(md.Bytes())
	return err
}

func compare(args []string, stdout io.Writer) error {
	if len(args) != 2 {
		return errors.New("usage: benchreport compare OLD.json NEW.json")
	}
	old, err := report.ReadJSON(args[0])
	if err != nil {
		return err
	}
	cur, err := report.ReadJSON(args[1])
	if err != nil {
		return err
	}
	return report.Compare(stdout, old, cur)
}

func render(args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: benchreport render REPORT.json")
	}
	r, err := report.ReadJSON(args[0])
	if err != nil {
		return err
	}
	return r.WriteMarkdown(stdout)
}

// commandLine is how the report says it was made.
func commandLine(args []string) string {
	for _, a := range args {
		if a == "-smoke" || a == "--smoke" {
			return "make bench-report BENCH_FLAGS=-smoke"
		}
	}
	return "make bench-report"
}
