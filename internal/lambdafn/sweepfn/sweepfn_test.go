package sweepfn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/redlease/redlease/pkg/observe"
	"github.com/redlease/redlease/pkg/sweep"
)

func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

func TestBuildSweepRunsASweepAndEmitsMetrics(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	var out bytes.Buffer
	h, err := BuildSweep(context.Background(), env(map[string]string{"REDLEASE_BACKEND": "memory", "REDLEASE_EVENT_BUS": "bus"}), &out)
	if err != nil {
		t.Fatalf("BuildSweep: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := h(ctx, events.CloudWatchEvent{ID: "e1", Source: "aws.events", DetailType: "Scheduled Event"})
	if err != nil || res.Listed != 0 || res.Truncated {
		t.Fatalf("handler = %+v, %v; want an empty, complete sweep", res, err)
	}
	var sawEMF, sawSummary bool
	for line := range strings.Lines(out.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("output line is not JSON: %q", line)
			continue
		}
		if _, ok := m["_aws"]; ok && m["Operation"] == "sweep" {
			sawEMF = true
		}
		if m["msg"] == "sweep finished" {
			sawSummary = true
		}
	}
	if !sawEMF || !sawSummary {
		t.Errorf("output lacks the EMF line (%v) or the summary log (%v):\n%s", sawEMF, sawSummary, out.String())
	}
}

func TestBuildSweepRefusesBadConfig(t *testing.T) {
	t.Parallel()
	if _, err := BuildSweep(context.Background(), env(map[string]string{"REDLEASE_BACKEND": "tape"}), &bytes.Buffer{}); err == nil {
		t.Error("BuildSweep with an unknown backend: nil error")
	}
}

type fakeRunner struct {
	res      sweep.Result
	err      error
	deadline bool
}

func (f *fakeRunner) Run(ctx context.Context) (sweep.Result, error) {
	_, f.deadline = ctx.Deadline()
	return f.res, f.err
}

func TestHandlerPassesDeadlineAndErrors(t *testing.T) {
	t.Parallel()
	broken := errors.New("list broken")
	r := &fakeRunner{res: sweep.Result{Pages: 1}, err: broken}
	h := newSweepHandler(r, observe.Discard())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := h(ctx, events.CloudWatchEvent{})
	if !errors.Is(err, broken) || res.Pages != 1 {
		t.Errorf("handler = %+v, %v; want the run's result and error", res, err)
	}
	if !r.deadline {
		t.Error("the sweep did not get the invocation's deadline")
	}
}

func TestBuildIsTheSweepsOnly(t *testing.T) {
	t.Parallel()
	if _, err := Build(context.Background(), "acquire", env(nil), &bytes.Buffer{}); err == nil {
		t.Error("Build(acquire): nil error, want a refusal")
	}
}
