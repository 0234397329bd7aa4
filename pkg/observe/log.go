package observe

import (
	"io"
	"log/slog"
)

// NewLogger returns a JSON logger writing one object per line at level and
// above.
func NewLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// Discard is a logger that drops everything, for callers that pass none.
func Discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
