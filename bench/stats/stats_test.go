package stats

import (
	"math"
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	t.Parallel()
	ten := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	tests := []struct {
		name   string
		sorted []float64
		p      float64
		want   float64
	}{
		{"median of ten is the fifth", ten, 50, 5},
		{"p90 of ten is the ninth", ten, 90, 9},
		{"p99 of ten is the largest", ten, 99, 10},
		{"p100 is the largest", ten, 100, 10},
		{"tiny p is the smallest", ten, 0.1, 1},
		{"one sample", []float64{7}, 99, 7},
		{"median of an odd count", []float64{1, 2, 3}, 50, 2},
	}
	for _, tc := range tests {
		if got := Percentile(tc.sorted, tc.p); got != tc.want {
			t.Errorf("%s: Percentile(%v, %v) = %v, want %v", tc.name, tc.sorted, tc.p, got, tc.want)
		}
	}
}

func TestPercentileOfNothingIsNaN(t *testing.T) {
	t.Parallel()
	for _, p := range []float64{50, 0, -1, 101, math.NaN()} {
		in := []float64{1, 2}
		if p == 50 {
			in = nil
		}
		if got := Percentile(in, p); !math.IsNaN(got) {
			t.Errorf("Percentile(%v, %v) = %v, want NaN", in, p, got)
		}
	}
}

func TestPercentileOf500(t *testing.T) {
	t.Parallel()
	// 1..500: p99 is the 495th sample, so the five slowest are above it.
	s := make([]float64, 500)
	for i := range s {
		s[i] = float64(i + 1)
	}
	if got := Percentile(s, 99); got != 495 {
		t.Errorf("p99 of 1..500 = %v, want 495", got)
	}
	if got := Percentile(s, 50); got != 250 {
		t.Errorf("p50 of 1..500 = %v, want 250", got)
	}
}

func TestSummarizeSortsACopy(t *testing.T) {
	t.Parallel()
	in := []float64{5, 1, 4, 2, 3}
	got := Summarize(in)
	want := Summary{N: 5, Min: 1, P50: 3, P90: 5, P99: 5, Max: 5, Mean: 3}
	if got != want {
		t.Errorf("Summarize(%v) = %+v, want %+v", in, got, want)
	}
	if in[0] != 5 {
		t.Errorf("Summarize reordered its input: %v", in)
	}
}

func TestSummarizeEmpty(t *testing.T) {
	t.Parallel()
	got := Summarize(nil)
	if got != (Summary{}) {
		t.Errorf("Summarize(nil) = %+v, want the zero Summary", got)
	}
	if !math.IsNaN(Median(nil)) {
		t.Error("Median(nil) is a number")
	}
}

func TestMillis(t *testing.T) {
	t.Parallel()
	got := Millis([]time.Duration{1500 * time.Microsecond, 2 * time.Second})
	if got[0] != 1.5 || got[1] != 2000 {
		t.Errorf("Millis = %v, want [1.5 2000]", got)
	}
}

func TestRatio(t *testing.T) {
	t.Parallel()
	if got := Ratio(10, 4); got != 2.5 {
		t.Errorf("Ratio(10, 4) = %v", got)
	}
	for _, tc := range [][2]float64{{1, 0}, {math.NaN(), 1}, {1, math.NaN()}} {
		if got := Ratio(tc[0], tc[1]); !math.IsNaN(got) {
			t.Errorf("Ratio(%v, %v) = %v, want NaN", tc[0], tc[1], got)
		}
	}
}

func TestFinite(t *testing.T) {
	t.Parallel()
	for _, tc := range [][2]float64{{2.5, 2.5}, {math.NaN(), 0}, {math.Inf(1), 0}, {math.Inf(-1), 0}} {
		if got := Finite(tc[0]); got != tc[1] {
			t.Errorf("Finite(%v) = %v, want %v", tc[0], got, tc[1])
		}
	}
}
