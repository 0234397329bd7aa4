package observe

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/lease"
)

var epoch = time.UnixMilli(1767225600000)

func TestEmitWritesOneEMFLine(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	m := NewMetrics(&buf, "").WithClock(func() time.Time { return epoch })
	m.Emit(map[string]string{"Operation": "acquire", "Outcome": "ok"},
		map[string]float64{"Requests": 1, "StorageLatency": 12.5},
		map[string]string{"Requests": "Count", "StorageLatency": "Milliseconds"})
	want := `{"Operation":"acquire","Outcome":"ok","Requests":1,"StorageLatency":12.5,` +
		`"_aws":{"Timestamp":1767225600000,"CloudWatchMetrics":[{"Namespace":"redlease",` +
		`"Dimensions":[["Operation","Outcome"]],"Metrics":[{"Name":"Requests","Unit":"Count"},` +
		`{"Name":"StorageLatency","Unit":"Milliseconds"}]}]}}` + "\n"
	if got := buf.String(); got != want {
		t.Errorf("Emit wrote\n%s\nwant\n%s", got, want)
	}
}

func TestEmitDropsWhatJSONCannotCarry(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	m := NewMetrics(&buf, "ns")
	m.Emit(nil, map[string]float64{"NaN": math.NaN(), "Inf": math.Inf(1)}, nil)
	if buf.Len() != 0 {
		t.Errorf("Emit of only unencodable values wrote %q, want nothing", buf.String())
	}
	m.Emit(map[string]string{"Operation": "x"}, map[string]float64{"Operation": 1, "Good": 2}, nil)
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("line is not JSON: %v: %q", err, buf.String())
	}
	if line["Operation"] != "x" || line["Good"] != 2.0 {
		t.Errorf("line = %v, want dimension kept and metric Good=2", line)
	}
	var nilMetrics *Metrics
	nilMetrics.Emit(nil, map[string]float64{"A": 1}, nil) // must not panic
}

func TestEmitIsSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	m := NewMetrics(&buf, "")
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			m.Emit(map[string]string{"Operation": "get"}, map[string]float64{"Requests": float64(i)}, nil)
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 20 {
		t.Fatalf("got %d lines, want 20", len(lines))
	}
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Errorf("interleaved or broken line: %q", l)
		}
	}
}

func TestNewLoggerWritesJSONAtLevel(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := NewLogger(&buf, slog.LevelWarn)
	log.Info("dropped")
	log.Warn("kept", "request_id", "r1")
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("log output %q is not one JSON object: %v", buf.String(), err)
	}
	if rec["msg"] != "kept" || rec["request_id"] != "r1" {
		t.Errorf("log record = %v", rec)
	}
}

func TestTimedStoreAddsUpCallsOfOneRequest(t *testing.T) {
	t.Parallel()
	clock := epoch
	tick := func() time.Time { clock = clock.Add(3 * time.Millisecond); return clock }
	s := TimedStore(memory.New(memory.Options{}), tick)
	ctx, stats := WithStorageStats(context.Background())
	if _, err := s.Load(ctx, "k"); err == nil {
		t.Fatal("Load of missing key succeeded")
	}
	rec := lease.Record{Lease: lease.Lease{DatabaseKey: "k", HolderID: "h", Term: 1, Generation: 1}}
	if _, err := s.Create(ctx, rec); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if _, err := s.Load(context.Background(), "k"); err != nil { // unmeasured
		t.Fatalf("Load: %v", err)
	}
	calls, total := stats.Totals()
	if calls != 2 || total != 6*time.Millisecond {
		t.Errorf("Totals() = %d, %v; want 2, 6ms", calls, total)
	}
}

func ExampleMetrics_Emit() {
	m := NewMetrics(os.Stdout, "redlease").WithClock(func() time.Time { return epoch })
	m.Emit(map[string]string{"Operation": "release"}, map[string]float64{"Requests": 1},
		map[string]string{"Requests": "Count"})
	// Output:
	// {"Operation":"release","Requests":1,"_aws":{"Timestamp":1767225600000,"CloudWatchMetrics":[{"Namespace":"redlease","Dimensions":[["Operation"]],"Metrics":[{"Name":"Requests","Unit":"Count"}]}]}}
}
