package sweep_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/observe"
	"github.com/redlease/redlease/pkg/sweep"
)

// TestEMFLine parses the line production writes and checks that CloudWatch
// would read every sweep metric from it under Operation=sweep.
func TestEMFLine(t *testing.T) {
	t.Parallel()
	store := memory.New(memory.Options{})
	seed(t, store, rec("held", "h", 1, 1, t0+1), rec("gone", "h", 1, 1, t0-4_000), rec("gone2", "h", 1, 1, t0-1))
	var buf bytes.Buffer
	metrics := observe.NewMetrics(&buf, "redlease")
	run(t, newSweeper(t, sweep.Config{Store: store, Publisher: &fakePublisher{}, Now: newClock(t0).Now, Metrics: metrics}))

	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d EMF lines, want 1:\n%s", len(lines), buf.String())
	}
	var line struct {
		AWS struct {
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
		t.Fatalf("EMF line is not JSON: %v\n%s", err, lines[0])
	}
	var fields map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &fields); err != nil {
		t.Fatal(err)
	}
	if len(line.AWS.CloudWatchMetrics) != 1 {
		t.Fatalf("directives: %+v", line.AWS.CloudWatchMetrics)
	}
	d := line.AWS.CloudWatchMetrics[0]
	if d.Namespace != "redlease" || len(d.Dimensions) != 1 || len(d.Dimensions[0]) != 1 || d.Dimensions[0][0] != "Operation" {
		t.Errorf("directive %+v, want namespace redlease and dimension set [Operation]", d)
	}
	if fields["Operation"] != "sweep" {
		t.Errorf("Operation = %v, want sweep", fields["Operation"])
	}
	units := map[string]string{}
	for _, m := range d.Metrics {
		units[m.Name] = m.Unit
	}
	want := map[string]float64{"held": 1, "expired": 2, "released": 0, "reported": 2, "skipped": 0, "failed": 0,
		"oldest_expired_age_ms": 4_000, "truncated": 0, "deferred": 0, "pages": 1}
	for name, v := range want {
		if fields[name] != v {
			t.Errorf("%s = %v, want %v", name, fields[name], v)
		}
		if _, ok := units[name]; !ok {
			t.Errorf("%s is not declared as a metric", name)
		}
	}
	if units["oldest_expired_age_ms"] != "Milliseconds" || units["reported"] != "Count" {
		t.Errorf("units %v", units)
	}
}
