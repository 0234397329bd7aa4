// Package stats summarises benchmark samples: nearest-rank percentiles,
// medians and min–max spread, and ratios between summaries. It is pure, so
// the report's arithmetic can be tested without running anything.
package stats

import (
	"math"
	"slices"
	"time"
)

// Summary describes a set of samples in one unit (milliseconds for
// latencies, whatever the caller chose otherwise).
type Summary struct {
	N    int     `json:"n"`
	Min  float64 `json:"min"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// Percentile returns the nearest-rank percentile p (0 < p <= 100) of
// sorted, the smallest sample such that at least p% of the samples are at
// or below it. It returns NaN for no samples. sorted must be ascending.
func Percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 || p <= 0 || p > 100 || math.IsNaN(p) {
		return math.NaN()
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[max(rank, 1)-1]
}

// Median is the nearest-rank 50th percentile of samples (in any order), or
// NaN for none.
func Median(samples []float64) float64 {
	if len(samples) == 0 {
		return math.NaN()
	}
	return Summarize(samples).P50
}

// Summarize sorts a copy of samples and describes them. The zero Summary
// (N == 0) stands for "no samples"; check N before reading the figures.
func Summarize(samples []float64) Summary {
	if len(samples) == 0 {
		return Summary{}
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	var sum float64
	for _, v := range s {
		sum += v
	}
	return Summary{
		N:    len(s),
		Min:  s[0],
		P50:  Percentile(s, 50),
		P90:  Percentile(s, 90),
		P99:  Percentile(s, 99),
		Max:  s[len(s)-1],
		Mean: sum / float64(len(s)),
	}
}

// Millis converts durations to float milliseconds.
func Millis(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = float64(d) / float64(time.Millisecond)
	}
	return out
}

// Ratio is a / b, or NaN when either is missing or b is zero, so that a
// ratio of unmeasured figures never reads as a number.
func Ratio(a, b float64) float64 {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return math.NaN()
	}
	return a / b
}

// Finite returns v, or 0 when v is NaN or infinite, for figures that go
// into JSON (which has neither).
func Finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}
