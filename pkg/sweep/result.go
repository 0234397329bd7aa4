package sweep

import "log/slog"

// Result counts what one run saw and did. Held, Expired and Released
// partition Listed; Reported, Skipped, Failed and Deferred partition the
// candidates (the expired records not yet reported).
type Result struct {
	Listed   int `json:"listed"`
	Held     int `json:"held"`
	Expired  int `json:"expired"` // expired and not released, reported or not
	Released int `json:"released"`
	// AlreadyReported are expired records an earlier run reported.
	AlreadyReported int `json:"already_reported"`
	// Reported were published and marked by this run.
	Reported int `json:"reported"`
	// Skipped changed between listing and marking; they were left untouched.
	Skipped int `json:"skipped"`
	// Failed could not be published, or were published but not marked; the
	// next run publishes them (again).
	Failed int `json:"failed"`
	// Deferred were listed but not attempted for lack of time; the next run
	// does them. Records on pages the run never listed are in no count.
	Deferred int `json:"deferred"`
	// Unreadable are stored objects that are not lease records; they are
	// logged by key and otherwise left alone.
	Unreadable int `json:"unreadable"`
	// OldestExpiredAgeMs is the longest any listed, unreleased lease had
	// been expired (0 when none was).
	OldestExpiredAgeMs uint64 `json:"oldest_expired_age_ms"`
	Pages              int    `json:"pages"`
	// Truncated says the run stopped before the deadline and left work for
	// the next run.
	Truncated  bool   `json:"truncated"`
	DurationMs uint64 `json:"duration_ms"`
}

// add merges a worker's tally.
func (r *Result) add(o Result) {
	r.Listed += o.Listed
	r.Held += o.Held
	r.Expired += o.Expired
	r.Released += o.Released
	r.AlreadyReported += o.AlreadyReported
	r.Reported += o.Reported
	r.Skipped += o.Skipped
	r.Failed += o.Failed
	r.Deferred += o.Deferred
	r.Unreadable += o.Unreadable
	r.OldestExpiredAgeMs = max(r.OldestExpiredAgeMs, o.OldestExpiredAgeMs)
	r.Pages += o.Pages
	r.Truncated = r.Truncated || o.Truncated
}

// Metric names and the dimension of the EMF record.
const (
	MetricHeld               = "held"
	MetricExpired            = "expired"
	MetricReleased           = "released"
	MetricAlreadyReported    = "already_reported"
	MetricReported           = "reported"
	MetricSkipped            = "skipped"
	MetricFailed             = "failed"
	MetricDeferred           = "deferred"
	MetricUnreadable         = "unreadable"
	MetricOldestExpiredAgeMs = "oldest_expired_age_ms"
	MetricPages              = "pages"
	MetricTruncated          = "truncated"
	MetricDurationMs         = "duration_ms"
	DimensionOperation       = "Operation"
	OperationSweep           = "sweep"
)

// Metrics returns the values and units of one run's EMF record.
func (r Result) Metrics() (values map[string]float64, units map[string]string) {
	truncated := 0.0
	if r.Truncated {
		truncated = 1
	}
	values = map[string]float64{
		MetricHeld:               float64(r.Held),
		MetricExpired:            float64(r.Expired),
		MetricReleased:           float64(r.Released),
		MetricAlreadyReported:    float64(r.AlreadyReported),
		MetricReported:           float64(r.Reported),
		MetricSkipped:            float64(r.Skipped),
		MetricFailed:             float64(r.Failed),
		MetricDeferred:           float64(r.Deferred),
		MetricUnreadable:         float64(r.Unreadable),
		MetricOldestExpiredAgeMs: float64(r.OldestExpiredAgeMs),
		MetricPages:              float64(r.Pages),
		MetricTruncated:          truncated,
		MetricDurationMs:         float64(r.DurationMs),
	}
	units = make(map[string]string, len(values))
	for name := range values {
		units[name] = "Count"
	}
	units[MetricOldestExpiredAgeMs] = "Milliseconds"
	units[MetricDurationMs] = "Milliseconds"
	return values, units
}

func (s *Sweeper) emit(r Result) {
	if s.metrics == nil {
		return
	}
	values, units := r.Metrics()
	s.metrics.Emit(map[string]string{DimensionOperation: OperationSweep}, values, units)
}

func (r Result) logAttrs() []slog.Attr {
	return []slog.Attr{
		slog.Int("listed", r.Listed), slog.Int("held", r.Held), slog.Int("expired", r.Expired),
		slog.Int("released", r.Released), slog.Int("already_reported", r.AlreadyReported),
		slog.Int("reported", r.Reported), slog.Int("skipped", r.Skipped), slog.Int("failed", r.Failed),
		slog.Int("deferred", r.Deferred), slog.Int("unreadable", r.Unreadable),
		slog.Uint64("oldest_expired_age_ms", r.OldestExpiredAgeMs),
		slog.Int("pages", r.Pages), slog.Bool("truncated", r.Truncated),
		slog.Uint64("duration_ms", r.DurationMs),
	}
}
