package sweepbench

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Table writes rows as a Markdown table with their monthly costs; when
// before holds a row of the same backend, place and key count, the row
// shows what it saves on it. The prices and their sources follow.
func Table(w io.Writer, rows, before []Row) error {
	var b strings.Builder
	b.WriteString("| backend | storage | keys | lists | reads | writes | events | read units | ms | storage $/month | events $/month |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range rows {
		cost := money(StorageCost(r))
		if old, ok := match(r, before); ok {
			cost = fmt.Sprintf("%s (was %s)", cost, money(StorageCost(old)))
		}
		units := "—"
		if r.Backend == "DynamoDB" {
			units = num(r.Metric("rru"))
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			r.Backend, r.Where, num(float64(r.Keys)), num(r.Metric("lists")), num(r.Metric("reads")),
			num(r.Metric("writes")), num(r.Metric("events")), units, num(r.Metric("ms")), cost, money(EventCost(r)))
	}
	fmt.Fprintf(&b, "\nPer run, averaged over the measured runs (ms: wall time on the machine that ran them); a month is %s runs (one a minute, 730 h).\n", num(RunsPerMonth))
	fmt.Fprintf(&b, "Prices, us-east-1, read %s:\n", PricesRead)
	for _, p := range Prices() {
		fmt.Fprintf(&b, "- %s: $%s per %s (%s)\n", p.Item, strconv.FormatFloat(p.USD, 'f', -1, 64), num(p.Per), p.Source)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func match(r Row, rows []Row) (Row, bool) {
	for _, o := range rows {
		if o.Backend == r.Backend && o.Where == r.Where && o.Keys == r.Keys {
			return o, true
		}
	}
	return Row{}, false
}

// num prints a count with thousands separators, and a fraction only when
// it has one.
func num(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if i := strings.IndexByte(s, '.'); i >= 0 {
		s = strconv.FormatFloat(v, 'f', 1, 64)
	}
	whole, frac, _ := strings.Cut(s, ".")
	var out []byte
	for i := 0; i < len(whole); i++ {
		if i > 0 && (len(whole)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, whole[i])
	}
	if frac != "" {
		return string(out) + "." + frac
	}
	return string(out)
}

func money(v float64) string {
	switch {
	case v >= 100:
		return "$" + num(float64(int64(v+0.5)))
	case v >= 1:
		return fmt.Sprintf("$%.2f", v)
	default:
		return fmt.Sprintf("$%.3f", v)
	}
}
