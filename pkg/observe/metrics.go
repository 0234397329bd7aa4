package observe

import (
	"encoding/json"
	"io"
	"maps"
	"math"
	"slices"
	"sync"
	"time"
)

// DefaultNamespace is the CloudWatch namespace of redlease's metrics.
const DefaultNamespace = "redlease"

// Metrics writes CloudWatch Embedded Metric Format lines. A nil *Metrics
// drops everything, so components can take one optionally.
type Metrics struct {
	namespace string
	now       func() time.Time

	mu sync.Mutex // serialises whole lines on w
	w  io.Writer
}

// NewMetrics writes EMF lines to w under namespace (DefaultNamespace when
// empty).
func NewMetrics(w io.Writer, namespace string) *Metrics {
	if namespace == "" {
		namespace = DefaultNamespace
	}
	return &Metrics{namespace: namespace, now: time.Now, w: w}
}

// WithClock makes the metrics stamp lines with now instead of time.Now, for
// tests. It returns m.
func (m *Metrics) WithClock(now func() time.Time) *Metrics {
	m.now = now
	return m
}

// Emit writes one EMF line: every dimension as one dimension set, every
// value as a metric with its unit from units ("None" when absent; CloudWatch
// units such as "Count" and "Milliseconds"). Values that JSON cannot carry
// (NaN, ±Inf) and metrics named like a dimension or the "_aws" key are
// dropped rather than corrupting the line. Safe for concurrent use.
func (m *Metrics) Emit(dimensions map[string]string, values map[string]float64, units map[string]string) {
	if m == nil || len(values) == 0 {
		return
	}
	type metric struct {
		Name string `json:"Name"`
		Unit string `json:"Unit"`
	}
	type directive struct {
		Namespace  string     `json:"Namespace"`
		Dimensions [][]string `json:"Dimensions"`
		Metrics    []metric   `json:"Metrics"`
	}
	line := make(map[string]any, len(dimensions)+len(values)+1)
	dimNames := slices.Sorted(maps.Keys(dimensions))
	for _, name := range dimNames {
		line[name] = dimensions[name]
	}
	var metrics []metric
	for _, name := range slices.Sorted(maps.Keys(values)) {
		v := values[name]
		if _, clash := line[name]; clash || name == "_aws" || math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		unit := units[name]
		if unit == "" {
			unit = "None"
		}
		metrics = append(metrics, metric{Name: name, Unit: unit})
		line[name] = v
	}
	if len(metrics) == 0 {
		return
	}
	if dimNames == nil {
		dimNames = []string{}
	}
	line["_aws"] = struct {
		Timestamp         int64       `json:"Timestamp"`
		CloudWatchMetrics []directive `json:"CloudWatchMetrics"`
	}{
		Timestamp: m.now().UnixMilli(),
		CloudWatchMetrics: []directive{{
			Namespace:  m.namespace,
			Dimensions: [][]string{dimNames},
			Metrics:    metrics,
		}},
	}
	b, err := json.Marshal(line)
	if err != nil {
		return // cannot happen: strings, finite floats and the directive only
	}
	b = append(b, '\n')
	m.mu.Lock()
	defer m.mu.Unlock()
	_, _ = m.w.Write(b) // telemetry must never fail a request
}
