package safety_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/redlease/redlease/pkg/backend/file"
	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/safety"
)

// rawStore is a store whose stored bytes the test can read directly.
type rawStore struct {
	lease.Store
	raw func(key string) []byte
}

// TestRefusalsChangeNothing: one client sends random calls. Around each
// call it reads the raw stored bytes and the version: a refused call (held,
// fenced, stale, and a repeated release) leaves both untouched; a call that
// wrote leaves exactly the bytes of the lease it answered, under a new
// version.
func TestRefusalsChangeNothing(t *testing.T) {
	t.Parallel()
	calls := envInt(t, "REDLEASE_REFUSED_CALLS", 1500, 400)
	stores := map[string]func(t *testing.T) rawStore{
		"memory": func(*testing.T) rawStore {
			m := memory.New(memory.Options{})
			return rawStore{m, func(key string) []byte { b, _ := m.Raw(key); return b }}
		},
		"file": func(t *testing.T) rawStore {
			dir := t.TempDir()
			f, err := file.Open(file.Options{Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			return rawStore{f, func(key string) []byte {
				b, err := os.ReadFile(filepath.Join(dir, "leases", filepath.FromSlash(key)+lease.ObjectSuffix))
				if err != nil && !errors.Is(err, os.ErrNotExist) {
					t.Fatal(err)
				}
				return b
			}}
		},
	}
	base := seed(t)
	for name, newStore := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rs := newStore(t)
			clock := safety.NewClock(epoch)
			svc := newService(t, rs.Store, clock.Now, 0)
			rec := safety.NewRecorder(safety.SeqStamp(), clock.Ms)
			w := safety.Workload{Keys: testKeys[:2], Holders: testHolders, TTLs: tickTTLs, Seed: base}
			refused, wrote := 0, 0
			next := w.Sequential(func(in safety.Input) safety.Op {
				key := in.Key
				before := rs.raw(key)
				v0 := version(t, rs.Store, key)
				op := rec.Do(context.Background(), 0, svc, in)
				after := rs.raw(key)
				v1 := version(t, rs.Store, key)
				out := op.Output
				noop := out.Outcome != safety.OutcomeOK || in.Kind == safety.KindGet ||
					(in.Kind == safety.KindRelease && storedLease(before) == out.Lease)
				switch {
				case out.Outcome == safety.OutcomeUnexpected || out.Outcome == safety.OutcomeUnavailable || out.Outcome == safety.OutcomeLostRace:
					t.Fatalf("single client got %s", op)
				case noop && (!bytes.Equal(before, after) || v0 != v1):
					t.Fatalf("%s changed the store:\n%s (%s)\n->\n%s (%s)", op, before, v0, after, v1)
				case noop:
					refused++
				case v0 == v1 || storedLease(after) != out.Lease:
					t.Fatalf("%s: store holds\n%s (%s, was %s)\nnot the answered lease", op, after, v1, v0)
				default:
					wrote++
				}
				clock.Advance(clockSteps[(refused+wrote)%len(clockSteps)] / 2)
				return op
			})
			n := calls
			if name == "file" {
				n = calls / 3 // every call does several fsyncs
			}
			for range n {
				next()
			}
			ops := rec.Ops()
			requireSafe(t, "refused-"+name, ops, safety.LinOptions{}, safety.InvariantOptions{SharedClock: true})
			if refused < n/4 || wrote < n/10 {
				t.Fatalf("%d refusals and %d writes in %d calls: the mix tested little", refused, wrote, n)
			}
			t.Logf("%s: %d refusals left bytes and version untouched, %d writes stored exactly the answer", name, refused, wrote)
		})
	}
}

func version(t *testing.T, s lease.Store, key string) lease.Version {
	t.Helper()
	v, err := s.Load(context.Background(), key)
	if errors.Is(err, lease.ErrNotFound) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return v.Version
}

// storedLease is the lease a stored object holds (the zero lease for none
// or a corrupt one): a write stores the answered lease, plus the
// bookkeeping a refresh adds (written_at_ms).
func storedLease(data []byte) lease.Lease {
	rec, err := lease.DecodeRecord(data)
	if err != nil {
		return lease.Lease{}
	}
	return rec.Lease
}
