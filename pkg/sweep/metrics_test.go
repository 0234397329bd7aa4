package sweep_test

import (
	"sync"
	"testing"

	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/sweep"
)

type emitted struct {
	dims   map[string]string
	values map[string]float64
	units  map[string]string
}

type fakeSink struct {
	mu      sync.Mutex
	records []emitted
}

func (s *fakeSink) Emit(dims map[string]string, values map[string]float64, units map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records = append(s.records, emitted{dims, values, units})
}

func TestMetricsOfARun(t *testing.T) {
	t.Parallel()
	store := memory.New(memory.Options{})
	seed(t, store,
		rec("held", "h", 1, 1, t0+1),
		rec("expired-1", "h", 1, 1, t0-100),
		rec("expired-2", "h", 1, 1, t0-7_000),
		reported(rec("expired-old", "h", 1, 1, t0-9_000), t0-1),
		released(rec("released", "h", 1, 1, t0-50_000), t0-60_000),
	)
	sink := &fakeSink{}
	run(t, newSweeper(t, sweep.Config{Store: store, Publisher: &fakePublisher{}, Now: newClock(t0).Now, Metrics: sink}))
	if len(sink.records) != 1 {
		t.Fatalf("emitted %d records, want 1", len(sink.records))
	}
	got := sink.records[0]
	if len(got.dims) != 1 || got.dims["Operation"] != "sweep" {
		t.Errorf("dimensions %v, want Operation=sweep", got.dims)
	}
	want := map[string]float64{
		"held": 1, "expired": 3, "released": 1, "already_reported": 1, "reported": 2,
		"skipped": 0, "failed": 0, "deferred": 0, "oldest_expired_age_ms": 9_000, "pages": 1, "truncated": 0,
	}
	for name, v := range want {
		if g, ok := got.values[name]; !ok || g != v {
			t.Errorf("metric %s = %v (present %v), want %v", name, g, ok, v)
		}
	}
	if _, ok := got.values["duration_ms"]; !ok {
		t.Error("duration_ms missing")
	}
	for name := range got.values {
		wantUnit := "Count"
		switch name {
		case "oldest_expired_age_ms", "duration_ms":
			wantUnit = "Milliseconds"
		case "state_bytes":
			wantUnit = "Bytes"
		}
		if got.units[name] != wantUnit {
			t.Errorf("unit of %s = %q, want %q", name, got.units[name], wantUnit)
		}
	}
}
