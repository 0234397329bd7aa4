package sweep_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redlease/redlease/internal/testclock"
	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/sweep"
)

// t0 is the tests' epoch: 2026-01-01T00:00:00Z.
const t0 = uint64(1767225600000)

// newClock is the tests' settable clock, reading ms.
func newClock(ms uint64) *testclock.Clock { return testclock.New(time.UnixMilli(int64(ms))) }

// fakePublisher records what it accepted. fail, when set, decides per event.
type fakePublisher struct {
	mu     sync.Mutex
	events []sweep.ExpiredEvent
	calls  int
	fail   func(sweep.ExpiredEvent) error
}

func (p *fakePublisher) Publish(_ context.Context, events []sweep.ExpiredEvent) []error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	errs := make([]error, len(events))
	for i, e := range events {
		if p.fail != nil {
			if errs[i] = p.fail(e); errs[i] != nil {
				continue
			}
		}
		p.events = append(p.events, e)
	}
	return errs
}

func (p *fakePublisher) take() []sweep.ExpiredEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.events
	p.events = nil
	return out
}

func keysOf(events []sweep.ExpiredEvent) map[string]int {
	m := make(map[string]int)
	for _, e := range events {
		m[e.DatabaseKey]++
	}
	return m
}

// rec builds a lease record; expiresIn is relative to t0 and may be
// negative.
func rec(key, holder string, term, generation uint64, expiresAtMs uint64) lease.Record {
	return lease.Record{Lease: lease.Lease{
		DatabaseKey:  key,
		HolderID:     holder,
		Term:         term,
		Generation:   generation,
		AcquiredAtMs: expiresAtMs - 60_000,
		ExpiresAtMs:  expiresAtMs,
	}}
}

func released(r lease.Record, atMs uint64) lease.Record {
	r.ReleasedAtMs = atMs
	r.ExpiresAtMs = min(r.ExpiresAtMs, atMs)
	return r
}

func reported(r lease.Record, atMs uint64) lease.Record {
	r.ExpiryReportedMs = atMs
	return r
}

func seed(t testing.TB, s lease.Store, recs ...lease.Record) {
	t.Helper()
	for _, r := range recs {
		if _, err := s.Create(context.Background(), r); err != nil {
			t.Fatalf("seed %q: %v", r.DatabaseKey, err)
		}
	}
}

func newSweeper(t testing.TB, cfg sweep.Config) *sweep.Sweeper {
	t.Helper()
	s, err := sweep.New(cfg)
	if err != nil {
		t.Fatalf("sweep.New: %v", err)
	}
	return s
}

func run(t testing.TB, s *sweep.Sweeper) sweep.Result {
	t.Helper()
	res, err := s.Run(context.Background())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}

// snapshot returns every stored object's bytes by key, through the listing
// (so a deleted record would be missing) and through Raw.
func snapshot(t testing.TB, s *memory.Store) map[string]string {
	t.Helper()
	out := make(map[string]string)
	cursor := ""
	for {
		page, err := s.List(context.Background(), cursor, 1000)
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		for _, e := range page.Entries {
			raw, ok := s.Raw(e.Key)
			if !ok {
				t.Fatalf("Raw(%q) missing", e.Key)
			}
			out[e.Key] = string(raw)
		}
		if page.Next == "" {
			return out
		}
		cursor = page.Next
	}
}

func mustLoad(t testing.TB, s lease.Store, key string) lease.Versioned {
	t.Helper()
	v, err := s.Load(context.Background(), key)
	if err != nil {
		t.Fatalf("Load(%q): %v", key, err)
	}
	return v
}

// changingStore runs change once, right after the first List call that
// returned key, to simulate a writer that beats the sweep's mark.
type changingStore struct {
	*memory.Store
	key    string
	change func(cur lease.Versioned) lease.Record
	once   sync.Once
	wrote  lease.Record
}

func (s *changingStore) List(ctx context.Context, cursor string, limit int) (lease.Page, error) {
	page, err := s.Store.List(ctx, cursor, limit)
	if err != nil {
		return page, err
	}
	for _, e := range page.Entries {
		if e.Key != s.key || e.Record == nil {
			continue
		}
		v := lease.Versioned{Record: *e.Record, Version: e.Version}
		s.once.Do(func() {
			s.wrote = s.change(v)
			if _, err := s.Replace(ctx, s.wrote, v.Version); err != nil {
				panic(fmt.Sprintf("changingStore replace: %v", err))
			}
		})
	}
	return page, nil
}

// failingLister fails List after n successful pages.
type failingLister struct {
	*memory.Store
	okPages int
	calls   int
}

var errListBroken = errors.New("list broken")

func (s *failingLister) List(ctx context.Context, cursor string, limit int) (lease.Page, error) {
	s.calls++
	if s.calls > s.okPages {
		return lease.Page{}, lease.Unavailable(errListBroken, time.Second)
	}
	return s.Store.List(ctx, cursor, limit)
}

func decode(raw string) (lease.Record, error) { return lease.DecodeRecord([]byte(raw)) }

// copyTree copies the directory tree at src to a new temporary directory,
// leaving out the top-level entries named in skip, and returns it.
func copyTree(t *testing.T, src string, skip ...string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if slices.Contains(skip, strings.Split(rel, string(filepath.Separator))[0]) {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func removeFile(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}
