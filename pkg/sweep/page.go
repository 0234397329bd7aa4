package sweep

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/redlease/redlease/pkg/lease"
)

// candidate is an expiry to report: the record at the version it was read
// (or proven to be) at, and the event that reports it.
type candidate struct {
	entry  lease.Entry
	listed lease.Versioned
	event  ExpiredEvent
}

// tally is a page's Result, safe to add to from several goroutines.
type tally struct {
	mu sync.Mutex
	Result
}

func (t *tally) do(f func(r *Result)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f(&t.Result)
}

// sweepPage sweeps one page: it classifies every entry from its record,
// from what the state knows of its unchanged tag, or by reading it; then
// publishes and marks the expiries. It reports whether everything on the
// page was attempted (false when the budget ran out), which is what lets
// the cursor move past it.
func (s *Sweeper) sweepPage(ctx context.Context, b budget, st *state, page lease.Page, res *Result) bool {
	nowMs := lease.UnixMs(s.now())
	t := &tally{}
	for _, u := range page.Unreadable {
		s.unreadable(ctx, t, u.Key, u.Err)
		st.forget(u.Key)
	}
	var (
		cands  []candidate
		toRead []lease.Entry
	)
	for _, e := range page.Entries {
		if e.Record != nil {
			if c, ok := s.classify(lease.Versioned{Record: *e.Record, Version: e.Version}, nowMs, &t.Result); ok {
				c.entry = e
				cands = append(cands, c)
			}
			continue
		}
		k := st.lookup(e.Key, e.Tag)
		switch {
		case k == nil:
			toRead = append(toRead, e)
		case k.kind == kindCorrupt:
			s.unreadable(ctx, t, e.Key, errors.New("not a lease record (unchanged since it was read)"))
		default:
			c, isCand, needRead := s.classifyKnown(e, k, nowMs, &t.Result)
			switch {
			case needRead:
				toRead = append(toRead, e)
			case isCand:
				cands = append(cands, c)
			}
		}
	}
	complete := s.readAll(ctx, b, st, toRead, nowMs, t, &cands)
	if !s.reportAll(ctx, b, st, cands, t) {
		complete = false
	}
	res.add(t.Result)
	return complete
}

// classify counts a record and returns the candidate it is, if it is one.
func (s *Sweeper) classify(v lease.Versioned, nowMs uint64, r *Result) (candidate, bool) {
	r.Listed++
	l := v.Record.Lease
	switch l.StateAt(nowMs) {
	case lease.StateHeld:
		r.Held++
	case lease.StateReleased:
		r.Released++
	case lease.StateExpired:
		r.Expired++
		r.OldestExpiredAgeMs = max(r.OldestExpiredAgeMs, nowMs-l.ExpiresAtMs)
		if v.Record.ExpiryReportedMs != 0 {
			r.AlreadyReported++
			return candidate{}, false
		}
		return candidate{listed: v, event: NewExpiredEvent(l, nowMs)}, true
	}
	return candidate{}, false
}

// classifyKnown counts an unchanged entry from what an earlier read
// showed. An open lease that has expired since is a candidate when the
// store's content hash proves the record is exactly the one learnt, so
// that its report and mark need no read; otherwise it is left uncounted
// for a read to decide (needRead).
func (s *Sweeper) classifyKnown(e lease.Entry, k *known, nowMs uint64, r *Result) (c candidate, isCand, needRead bool) {
	switch k.kind {
	case kindReleased:
		r.Unchanged++
		r.Listed++
		r.Released++
		return candidate{}, false, false
	case kindReported:
		r.Unchanged++
		r.Listed++
		if k.rec.ExpiresAtMs > nowMs {
			// Only a clock that went back makes a marked record live again;
			// count it as held, as a read would.
			r.Held++
			return candidate{}, false, false
		}
		r.Expired++
		r.AlreadyReported++
		r.OldestExpiredAgeMs = max(r.OldestExpiredAgeMs, nowMs-k.rec.ExpiresAtMs)
		return candidate{}, false, false
	}
	v := lease.Versioned{Record: k.rec, Version: k.versionOf()}
	if v.Record.StateAt(nowMs) == lease.StateExpired && (s.hashes == nil || s.hashes.ContentVersion(v.Record) != v.Version) {
		return candidate{}, false, true
	}
	r.Unchanged++
	c, isCand = s.classify(v, nowMs, r)
	c.entry = e
	return c, isCand, false
}

// readAll reads the entries the listing and the state could not settle,
// at most Workers at a time, and adds the expiries they show to cands. It
// reports false when the budget ran out before every read was started.
func (s *Sweeper) readAll(ctx context.Context, b budget, st *state, entries []lease.Entry, nowMs uint64, t *tally, cands *[]candidate) bool {
	var (
		mu       sync.Mutex
		complete = true
		wg       sync.WaitGroup
		slots    = make(chan struct{}, s.workers)
	)
	for _, e := range entries {
		slots <- struct{}{}
		if b.exhausted(ctx) {
			<-slots
			t.do(func(r *Result) { r.Deferred++ })
			complete = false
			continue
		}
		wg.Go(func() {
			defer func() { <-slots }()
			v, err := s.store.Load(ctx, e.Key)
			switch {
			case err == nil && v.Record.DatabaseKey == e.Key:
				st.learn(e, v, nowMs)
				t.do(func(r *Result) {
					r.Read++
					if c, ok := s.classify(v, nowMs, r); ok {
						c.entry = e
						mu.Lock()
						*cands = append(*cands, c)
						mu.Unlock()
					}
				})
			case err == nil:
				st.learnCorrupt(e)
				s.unreadable(ctx, t, e.Key, errors.New("the record names database_key "+v.Record.DatabaseKey))
			case errors.Is(err, lease.ErrNotFound):
				st.forget(e.Key) // gone since the listing; nothing to sweep
			case errors.Is(err, lease.ErrCorrupt):
				st.learnCorrupt(e)
				s.unreadable(ctx, t, e.Key, err)
			default:
				st.forget(e.Key)
				t.do(func(r *Result) { r.ReadErrors++ })
				s.log.LogAttrs(ctx, slog.LevelWarn, "record could not be read; retried next run",
					slog.String("database_key", e.Key), slog.String("error", err.Error()))
			}
		})
	}
	wg.Wait()
	return complete
}

// unreadable counts and logs an object that is not a lease record.
func (s *Sweeper) unreadable(ctx context.Context, t *tally, key string, err error) {
	t.do(func(r *Result) { r.Unreadable++ })
	s.log.LogAttrs(ctx, slog.LevelError, "stored object is not a lease record; skipped",
		slog.String("database_key", key), slog.String("error", err.Error()))
}
