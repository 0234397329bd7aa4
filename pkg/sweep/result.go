package sweep

import "log/slog"

// Result counts what one run saw and did. Held, Expired and Released
// partition Listed, the records the run classified; Reported, Skipped and
// Failed partition the candidates it attempted (the expired records not yet
// reported).
type Result struct {
	Listed   int `json:"listed"`
	Held     int `json:"held"`
	Expired  int `json:"expired"` // expired and not released, reported or not
	Released int `json:"released"`
	// AlreadyReported are expired records an earlier run reported.
	AlreadyReported int `json:"already_reported"`
	// Reported were published and marked by this run.
	Reported int `json:"reported"`
	// Skipped changed between reading and marking; they were left
	// untouched.
	Skipped int `json:"skipped"`
	// Failed could not be published, or were published but not marked; the
	// next run publishes them (again).
	Failed int `json:"failed"`
	// Deferred are records listed but not read, and candidates not
	// attempted, for lack of time; the run stops on their page, and the
	// next run starts there.
	Deferred int `json:"deferred"`
	// Read are records the run read. The others were classified from the
	// listing alone: Unchanged from what an earlier run learnt of them, the
	// rest from the records a listing returns itself (DynamoDB).
	Read int `json:"read"`
	// Unchanged were classified without a read: their listing tag is the
	// one an earlier read saw.
	Unchanged int `json:"unchanged"`
	// ReadErrors could not be read (access denied, throttled beyond the
	// SDK's retries); logged by key, and read again next run.
	ReadErrors int `json:"read_errors"`
	// Unreadable are stored objects that are not lease records (bytes that
	// do not decode, a symlink or special file in the file backend's tree);
	// logged by key and otherwise left alone.
	Unreadable int `json:"unreadable"`
	// OldestExpiredAgeMs is the longest any listed, unreleased lease had
	// been expired (0 when none was).
	OldestExpiredAgeMs uint64 `json:"oldest_expired_age_ms"`
	Pages              int    `json:"pages"`
	// ReadUnits is the storage read capacity the listing consumed, where
	// the backend reports it (DynamoDB); 0 elsewhere.
	ReadUnits float64 `json:"read_units"`
	// Resumed says the run continued a cycle (a pass over every key) that
	// an earlier run had begun and not finished.
	Resumed bool `json:"resumed"`
	// CyclesCompleted counts the cycles the run finished (0 when it ran
	// out of time first; 2 at most, when it finished an earlier run's
	// cycle and then one of its own).
	CyclesCompleted int `json:"cycles_completed"`
	// Truncated says the run stopped before the deadline and left work for
	// the next run, which continues from the page it stopped on.
	Truncated bool `json:"truncated"`
	// StateLoaded says the run found the previous run's state; StateBytes
	// is the size of the state it saved (0 when it saved none).
	StateLoaded bool   `json:"state_loaded"`
	StateBytes  int    `json:"state_bytes"`
	DurationMs  uint64 `json:"duration_ms"`
}

// add merges a page's tally.
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
	r.Read += o.Read
	r.Unchanged += o.Unchanged
	r.ReadErrors += o.ReadErrors
	r.Unreadable += o.Unreadable
	r.OldestExpiredAgeMs = max(r.OldestExpiredAgeMs, o.OldestExpiredAgeMs)
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
	MetricRead               = "read"
	MetricUnchanged          = "unchanged"
	MetricReadErrors         = "read_errors"
	MetricReadUnits          = "read_units"
	MetricCyclesCompleted    = "cycles_completed"
	MetricStateBytes         = "state_bytes"
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
		MetricRead:               float64(r.Read),
		MetricUnchanged:          float64(r.Unchanged),
		MetricReadErrors:         float64(r.ReadErrors),
		MetricReadUnits:          r.ReadUnits,
		MetricCyclesCompleted:    float64(r.CyclesCompleted),
		MetricStateBytes:         float64(r.StateBytes),
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
	units[MetricStateBytes] = "Bytes"
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
		slog.Int("deferred", r.Deferred), slog.Int("read", r.Read), slog.Int("unchanged", r.Unchanged),
		slog.Int("read_errors", r.ReadErrors), slog.Int("unreadable", r.Unreadable),
		slog.Uint64("oldest_expired_age_ms", r.OldestExpiredAgeMs),
		slog.Int("pages", r.Pages), slog.Float64("read_units", r.ReadUnits), slog.Bool("resumed", r.Resumed),
		slog.Int("cycles_completed", r.CyclesCompleted), slog.Bool("truncated", r.Truncated),
		slog.Bool("state_loaded", r.StateLoaded), slog.Int("state_bytes", r.StateBytes),
		slog.Uint64("duration_ms", r.DurationMs),
	}
}
