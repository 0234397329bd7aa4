// Package lambdastart measures the Lambda functions' start-up with their
// real configuration: the deployment's bootstrap binaries under the AWS
// Lambda Runtime Interface Emulator, configured for S3, DynamoDB (the SDK's
// whole configuration chain and clients, pointed at the emulators) and the
// file backend. For each function and backend it runs many cold starts,
// interleaved, and records the init phase, the first invoke (which reaches
// storage on a connection nobody opened yet), warm invokes, the peak
// resident set and the stripped binary sizes.
package lambdastart

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/redlease/redlease/bench/emulators"
	"github.com/redlease/redlease/bench/stats"
)

// Config sets what to measure.
type Config struct {
	RIE       string // the aws-lambda-rie binary
	LambdaDir string // {LambdaDir}/{arch}/{function}/bootstrap, as make lambdas builds them
	RepoRoot  string // for events/
	Functions []string
	// ColdStarts per function and backend; Warm invokes after each.
	ColdStarts, Warm int
	// SweepRecords is how many held leases the sweep lists.
	SweepRecords int
	// Emulators adds the S3 and DynamoDB backends; nil measures the file
	// backend alone.
	Emulators *emulators.Env
	Progress  io.Writer
}

// Result is one function on one backend.
type Result struct {
	Function   string `json:"function"`
	Backend    string `json:"backend"`
	ColdStarts int    `json:"cold_starts"`
	// InitMs is the init phase (INIT REPORT): process start, configuration,
	// SDK clients, store.
	InitMs stats.Summary `json:"init_ms"`
	// FirstInvokeMs is the handler time of the first invoke, which opens
	// the storage connection; FirstRoundTripMs is what the caller waited
	// for it, init included.
	FirstInvokeMs    stats.Summary `json:"first_invoke_ms"`
	FirstRoundTripMs stats.Summary `json:"first_round_trip_ms"`
	// WarmInvokeMs is the handler time of the later invokes, each doing the
	// same storage work as the first.
	WarmInvokeMs stats.Summary `json:"warm_invoke_ms"`
	PeakRSSMiB   stats.Summary `json:"peak_rss_mib"`
	// FirstStorageCalls are the storage calls the first invoke logged.
	FirstStorageCalls stats.Summary `json:"first_storage_calls"`
	Errors            int           `json:"errors"`
	FirstError        string        `json:"first_error,omitempty"`
}

// Size is one stripped bootstrap's size.
type Size struct {
	Function string `json:"function"`
	Arch     string `json:"arch"`
	Bytes    int64  `json:"bytes"`
}

// Report is the whole section.
type Report struct {
	Arch      string   `json:"arch"` // what ran here
	Results   []Result `json:"results"`
	Sizes     []Size   `json:"sizes"`
	Unknown   []string `json:"unknown,omitempty"` // functions without a scenario
	RIE       string   `json:"rie"`
	Skipped   string   `json:"skipped,omitempty"`
	BuildTags string   `json:"build"`
}

// combo is one function on one backend.
type combo struct {
	fn string
	sc scenario
	be backend
	t  *tally
}

type tally struct {
	init, first, firstRT, warm, rss, calls []float64
	errors                                 int
	firstErr                               error
}

// Run measures every function on every backend.
func Run(ctx context.Context, cfg Config) (Report, error) {
	// The RIE runs in the bootstrap's directory: relative paths would break.
	var err error
	if cfg.LambdaDir, err = filepath.Abs(cfg.LambdaDir); err != nil {
		return Report{}, err
	}
	if strings.ContainsRune(cfg.RIE, filepath.Separator) {
		if cfg.RIE, err = filepath.Abs(cfg.RIE); err != nil {
			return Report{}, err
		}
	}
	rep := Report{Arch: runtime.GOARCH, RIE: cfg.RIE, BuildTags: "-tags lambda.norpc -trimpath -ldflags=\"-s -w -buildid=\""}
	rep.Sizes = sizes(cfg.LambdaDir, cfg.Functions)
	tmp, err := os.MkdirTemp("", "redlease-bench-lambda-")
	if err != nil {
		return rep, err
	}
	defer os.RemoveAll(tmp)
	backends, err := buildBackends(ctx, cfg, tmp)
	if err != nil {
		return rep, err
	}
	var combos []*combo
	for _, fn := range cfg.Functions {
		sc, err := scenarioFor(fn)
		if err != nil {
			rep.Unknown = append(rep.Unknown, fn)
			continue
		}
		for _, be := range backends {
			combos = append(combos, &combo{fn: fn, sc: sc, be: be, t: &tally{}})
		}
	}
	for _, be := range backends {
		for i := range cfg.SweepRecords {
			if err := hold(ctx, be.sweep, fmt.Sprintf("sweep/%04d", i)); err != nil {
				return rep, fmt.Errorf("prepare the sweep's leases on %s: %w", be.name, err)
			}
		}
	}
	for round := range cfg.ColdStarts {
		start := time.Now()
		for k := range combos {
			c := combos[(round+k)%len(combos)]
			if err := coldStart(ctx, cfg, c, round, tmp); err != nil {
				c.t.errors++
				if c.t.firstErr == nil {
					c.t.firstErr = err
				}
			}
		}
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "lambda: round %d/%d, %d cold starts in %s\n",
				round+1, cfg.ColdStarts, len(combos), time.Since(start).Round(time.Millisecond))
		}
	}
	for _, c := range combos {
		rep.Results = append(rep.Results, c.result())
	}
	return rep, nil
}

func buildBackends(ctx context.Context, cfg Config, tmp string) ([]backend, error) {
	var out []backend
	if e := cfg.Emulators; e != nil {
		s3, err := s3Backend(ctx, *e)
		if err != nil {
			return nil, err
		}
		ddb, err := dynamoDBBackend(ctx, *e)
		if err != nil {
			return nil, err
		}
		out = append(out, s3, ddb)
	}
	file, err := fileBackend(filepath.Join(tmp, "data"))
	if err != nil {
		return nil, err
	}
	return append(out, file), nil
}

// coldStart runs one execution environment: a first invoke, c.Warm more,
// then stops it and reads its log.
func coldStart(ctx context.Context, cfg Config, c *combo, round int, tmp string) error {
	bootstrap := filepath.Join(cfg.LambdaDir, runtime.GOARCH, c.fn, "bootstrap")
	raw, err := loadEvent(cfg.RepoRoot, c.sc.event)
	if err != nil {
		return err
	}
	events := make([][]byte, 1+cfg.Warm)
	store, env := c.be.api, c.be.env
	if !c.sc.perKey {
		store, env = c.be.sweep, c.be.sweepEnv
	}
	for j := range events {
		events[j] = raw
		if !c.sc.perKey {
			continue
		}
		key := fmt.Sprintf("lambda/%s/%d/%d", c.fn, round, j)
		if c.sc.held {
			if err := hold(ctx, store, key); err != nil {
				return fmt.Errorf("prepare %s: %w", key, err)
			}
		}
		if events[j], err = withKey(raw, key); err != nil {
			return err
		}
	}
	home := filepath.Join(tmp, "home")
	if err := os.MkdirAll(home, 0o750); err != nil {
		return err
	}
	emu, err := startRIE(cfg.RIE, bootstrap, append(baseEnv(home, c.fn), env...))
	if err != nil {
		return err
	}
	var firstRT time.Duration
	var invokeErr error
	for j, ev := range events {
		body, took, err := emu.invoke(ctx, ev)
		if err == nil {
			err = checkAnswer(c.fn, body)
		}
		if err != nil {
			invokeErr = fmt.Errorf("invoke %d: %w", j, err)
			break
		}
		if j == 0 {
			firstRT = took
		}
	}
	rss := emu.peakRSSKiB()
	emu.stop()
	log := ParseLog(emu.out.String())
	if invokeErr != nil {
		return fmt.Errorf("%s on %s: %w\n%s", c.fn, c.be.name, invokeErr, tail(emu.out.String(), 2000))
	}
	if len(log.InvokeMs) != len(events) || log.InitMs == 0 {
		return fmt.Errorf("%s on %s: the RIE logged %d invokes and init %v ms, want %d invokes",
			c.fn, c.be.name, len(log.InvokeMs), log.InitMs, len(events))
	}
	if c.sc.perKey && (len(log.StorageCalls) == 0 || log.StorageCalls[0] == 0) {
		return errors.New(c.fn + " on " + c.be.name + ": the first invoke reached no storage")
	}
	t := c.t
	t.init = append(t.init, log.InitMs)
	t.first = append(t.first, log.InvokeMs[0])
	t.firstRT = append(t.firstRT, float64(firstRT)/float64(time.Millisecond))
	t.warm = append(t.warm, log.InvokeMs[1:]...)
	t.rss = append(t.rss, float64(rss)/1024)
	if len(log.StorageCalls) > 0 {
		t.calls = append(t.calls, float64(log.StorageCalls[0]))
	}
	return nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

func (c *combo) result() Result {
	r := Result{
		Function: c.fn, Backend: c.be.name, ColdStarts: len(c.t.init),
		InitMs:            stats.Summarize(c.t.init),
		FirstInvokeMs:     stats.Summarize(c.t.first),
		FirstRoundTripMs:  stats.Summarize(c.t.firstRT),
		WarmInvokeMs:      stats.Summarize(c.t.warm),
		PeakRSSMiB:        stats.Summarize(c.t.rss),
		FirstStorageCalls: stats.Summarize(c.t.calls),
		Errors:            c.t.errors,
	}
	if c.t.firstErr != nil {
		r.FirstError = c.t.firstErr.Error()
	}
	return r
}

// sizes stats every bootstrap make lambdas built, for both architectures.
func sizes(dir string, fns []string) []Size {
	var out []Size
	for _, arch := range []string{"arm64", "amd64"} {
		for _, fn := range fns {
			st, err := os.Stat(filepath.Join(dir, arch, fn, "bootstrap"))
			if err == nil {
				out = append(out, Size{Function: fn, Arch: arch, Bytes: st.Size()})
			}
		}
	}
	return out
}
