package sweep

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/redlease/redlease/pkg/lease"
)

// The EventBridge envelope of every event the sweep publishes.
const (
	Source     = "redlease"
	DetailType = "Lease Expired"
)

// expiredAtLayout is RFC 3339 in UTC with exactly three fractional digits.
const expiredAtLayout = "2006-01-02T15:04:05.000Z"

// ExpiredEvent is the detail of one "Lease Expired" event. Its JSON form is
// the event's detail, field for field.
type ExpiredEvent struct {
	DatabaseKey  string `json:"database_key"`
	HolderID     string `json:"holder_id"`
	Term         uint64 `json:"term"`
	Generation   uint64 `json:"generation"`
	AcquiredAtMs uint64 `json:"acquired_at_ms"`
	ExpiresAtMs  uint64 `json:"expires_at_ms"`
	// ExpiredAt is ExpiresAtMs as RFC 3339 UTC with milliseconds.
	ExpiredAt string `json:"expired_at"`
	// ExpiredForMs is how long the lease had been expired when the sweep
	// saw it.
	ExpiredForMs uint64 `json:"expired_for_ms"`
	// EventID is the same for every report of one expiry, so consumers can
	// drop the duplicates that at-least-once delivery allows.
	EventID string `json:"event_id"`
}

// NewExpiredEvent describes the expiry of l as seen at nowMs.
func NewExpiredEvent(l lease.Lease, nowMs uint64) ExpiredEvent {
	var forMs uint64
	if nowMs > l.ExpiresAtMs {
		forMs = nowMs - l.ExpiresAtMs
	}
	return ExpiredEvent{
		DatabaseKey:  l.DatabaseKey,
		HolderID:     l.HolderID,
		Term:         l.Term,
		Generation:   l.Generation,
		AcquiredAtMs: l.AcquiredAtMs,
		ExpiresAtMs:  l.ExpiresAtMs,
		ExpiredAt:    FormatMs(l.ExpiresAtMs),
		ExpiredForMs: forMs,
		EventID:      EventID(l.DatabaseKey, l.Generation, l.ExpiresAtMs),
	}
}

// Detail renders the event detail as EventBridge wants it: one JSON object.
func (e ExpiredEvent) Detail() (string, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// EventID is a deterministic id of one expiry: the first 128 bits of a
// SHA-256 over the key (length-prefixed, so no two inputs share an
// encoding), the generation and expires_at_ms, in hex. The holder and term
// are left out because a generation already names them.
func EventID(key string, generation, expiresAtMs uint64) string {
	buf := make([]byte, 0, 64+len(key))
	buf = append(buf, "redlease/lease-expired/v1|"...)
	buf = strconv.AppendInt(buf, int64(len(key)), 10)
	buf = append(buf, ':')
	buf = append(buf, key...)
	buf = append(buf, '|')
	buf = strconv.AppendUint(buf, generation, 10)
	buf = append(buf, '|')
	buf = strconv.AppendUint(buf, expiresAtMs, 10)
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:16])
}

// FormatMs renders epoch milliseconds as RFC 3339 UTC with milliseconds.
// Values beyond what time.Time can hold are clamped rather than wrapped.
func FormatMs(ms uint64) string {
	const maxMs = math.MaxInt64 / int64(time.Millisecond)
	v := maxMs
	if ms < uint64(maxMs) {
		v = int64(ms) //nolint:gosec // ms < maxMs fits
	}
	return time.UnixMilli(v).UTC().Format(expiredAtLayout)
}
