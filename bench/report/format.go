package report

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/redlease/redlease/bench/stats"
)

const dash = "—"

// ms prints a latency in milliseconds, or a dash for none.
func ms(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return dash
	}
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// p50 of a summary, a dash when it has no samples.
func med(s stats.Summary) string {
	if s.N == 0 {
		return dash
	}
	return ms(s.P50)
}

func p99(s stats.Summary) string {
	if s.N == 0 {
		return dash
	}
	return ms(s.P99)
}

// spread is "min–max".
func spread(s stats.Summary) string {
	if s.N == 0 {
		return dash
	}
	return ms(s.Min) + "–" + ms(s.Max)
}

// times prints a ratio as "2.41×".
func times(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return dash
	}
	return fmt.Sprintf("%.2f×", v)
}

// usd prints a small dollar amount with enough digits to compare.
func usd(v float64) string {
	switch {
	case math.IsNaN(v):
		return dash
	case v == 0:
		return "$0"
	case v >= 100:
		return fmt.Sprintf("$%.0f", v)
	case v >= 1:
		return fmt.Sprintf("$%.2f", v)
	case v >= 0.01:
		return fmt.Sprintf("$%.4f", v)
	}
	return fmt.Sprintf("$%.6f", v)
}

// requests prints mean requests per operation by label: "GET 1 + PUT 1".
func requests(m map[string]float64) string {
	if len(m) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(m))
	for _, l := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, l+" "+count(m[l]))
	}
	return strings.Join(parts, " + ")
}

// count prints a mean count: whole numbers plainly, others to 2 places.
func count(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func mib(bytes int64) string { return fmt.Sprintf("%.1f MiB", float64(bytes)/(1<<20)) }

// metYes renders a goal's verdict.
func metYes(g Goal) string {
	switch {
	case g.Met == nil:
		return "not judged"
	case *g.Met:
		return "**met**"
	}
	return "**not met**"
}

// cellText escapes a table cell.
func cellText(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
