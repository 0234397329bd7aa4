package sweep

import (
	"context"
	"errors"
	"log/slog"

	"github.com/redlease/redlease/pkg/lease"
)

// loadState reads the previous run's state. Without one (the first run, or
// one that cannot be read or decoded) the run starts a new cycle with
// nothing known: it reads every record once, and the marks in the records
// keep it from reporting anything twice. Only a transient failure stops the
// run, since the next one, a minute later, will most likely read the state
// and need no such full read.
func (s *Sweeper) loadState(ctx context.Context, b budget, res *Result) (*state, lease.Version, error) {
	if b.exhausted(ctx) {
		return newState(), "", nil // nothing will be done, so nothing will be saved either
	}
	data, version, err := s.store.LoadState(ctx)
	switch {
	case err == nil:
		st, derr := decodeState(data)
		if derr == nil {
			res.StateLoaded = true
			return st, version, nil
		}
		s.log.LogAttrs(ctx, slog.LevelError, "sweep state does not decode; starting afresh, every record is read once",
			slog.String("error", derr.Error()), slog.Int("bytes", len(data)))
		return newState(), version, nil
	case errors.Is(err, lease.ErrNotFound):
		s.log.LogAttrs(ctx, slog.LevelInfo, "no sweep state yet; this run reads every record once")
		return newState(), "", nil
	case errors.Is(err, lease.ErrUnavailable):
		return nil, "", err
	default:
		// Access denied, most likely: on S3 also what a missing object
		// looks like to a role without s3:ListBucket on it. Saving with
		// "create" tells the two apart (see saveState).
		s.log.LogAttrs(ctx, slog.LevelWarn, "sweep state cannot be read; running without it",
			slog.String("error", err.Error()))
		return newState(), "", nil
	}
}

// saveState writes the state for the next run, conditionally on the
// version loaded. A lost race means another sweep ran at the same time and
// saved first; its state is as good as this one's, so it is kept.
func (s *Sweeper) saveState(ctx context.Context, st *state, version lease.Version, res *Result) {
	if res.Pages == 0 && !res.StateLoaded && version == "" {
		return // nothing listed, nothing learnt
	}
	data := encodeState(st)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stateSaveTimeout)
	defer cancel()
	_, err := s.store.SaveState(ctx, data, version)
	switch {
	case err == nil:
		res.StateBytes = len(data)
	case errors.Is(err, lease.ErrPrecondition) && version == "" && !res.StateLoaded:
		s.log.LogAttrs(ctx, slog.LevelError,
			"sweep state exists but cannot be read: every run reads every record and cannot continue where the last stopped; check the sweep's access to it",
			slog.String("error", err.Error()))
	case errors.Is(err, lease.ErrPrecondition):
		s.log.LogAttrs(ctx, slog.LevelWarn, "another sweep saved its state first; this run's is dropped",
			slog.String("error", err.Error()))
	default:
		s.log.LogAttrs(ctx, slog.LevelError, "sweep state not saved; the next run reads what this one learnt again",
			slog.String("error", err.Error()), slog.Int("bytes", len(data)))
	}
}
