package faulty_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redlease/redlease/pkg/backend/backendtest"
	"github.com/redlease/redlease/pkg/backend/faulty"
	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/lease"
)

func rec(key, holder string, gen uint64) lease.Record {
	return lease.Record{Lease: lease.Lease{DatabaseKey: key, HolderID: holder, Term: 1, Generation: gen,
		AcquiredAtMs: 1767225600000, ExpiresAtMs: 1767225601000}}
}

// Without rules the wrapper is a faithful store.
func TestConformanceWithoutFaults(t *testing.T) {
	t.Parallel()
	backendtest.Run(t, func(*testing.T) lease.ListingStore {
		return faulty.New(memory.New(memory.Options{}), faulty.Options{Yield: 0.5})
	}, backendtest.Options{})
}

func TestFaultsOnWrites(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind        faulty.Kind
		op          faulty.Op
		wantApplied bool
		wantErr     error
	}{
		{faulty.FailBefore, faulty.OpCreate, false, lease.ErrUnavailable},
		{faulty.FailBefore, faulty.OpReplace, false, lease.ErrUnavailable},
		{faulty.FailAfter, faulty.OpCreate, true, lease.ErrUnavailable},
		{faulty.FailAfter, faulty.OpReplace, true, lease.ErrUnavailable},
		{faulty.Timeout, faulty.OpReplace, false, lease.ErrUnavailable},
		{faulty.TimeoutAfter, faulty.OpReplace, true, lease.ErrUnavailable},
		{faulty.Throttle, faulty.OpCreate, false, lease.ErrUnavailable},
		{faulty.Conflict, faulty.OpCreate, false, lease.ErrPrecondition},
		{faulty.Conflict, faulty.OpReplace, false, lease.ErrPrecondition},
		{faulty.ConflictAfter, faulty.OpReplace, true, lease.ErrPrecondition},
	}
	for _, tc := range tests {
		t.Run(tc.kind.String()+"/"+string(tc.op), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			inner := memory.New(memory.Options{})
			s := faulty.New(inner, faulty.Options{Rules: []faulty.Rule{{Op: tc.op, Nth: 1, Kind: tc.kind}}})
			var before lease.Version
			if tc.op == faulty.OpReplace {
				v, err := inner.Create(ctx, rec("k", "a", 1))
				if err != nil {
					t.Fatal(err)
				}
				before = v
			}
			next := rec("k", "b", 2)
			var err error
			if tc.op == faulty.OpCreate {
				_, err = s.Create(ctx, next)
			} else {
				_, err = s.Replace(ctx, next, before)
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("got %v, want %v", err, tc.wantErr)
			}
			if tc.kind == faulty.Throttle {
				var ue *lease.UnavailableError
				if !errors.As(err, &ue) || ue.RetryAfter != 250*time.Millisecond {
					t.Fatalf("throttle error %v, want a retry hint of 250ms", err)
				}
			}
			got, lerr := inner.Load(ctx, "k")
			applied := lerr == nil && got.Record == next
			if applied != tc.wantApplied {
				t.Fatalf("applied = %v (store holds %+v, %v), want %v", applied, got.Record, lerr, tc.wantApplied)
			}
			if n := len(s.Writes()); (n == 1) != tc.wantApplied {
				t.Fatalf("write log has %d entries, want applied=%v", n, tc.wantApplied)
			}
			if got := s.Fired()[tc.kind]; got != 1 {
				t.Fatalf("Fired()[%v] = %d, want 1", tc.kind, got)
			}
			// The rule fired once; the next call goes through.
			if _, err := s.Load(ctx, "k"); err != nil && !errors.Is(err, lease.ErrNotFound) {
				t.Fatalf("Load after the fault: %v", err)
			}
		})
	}
}

func TestFaultsOnReads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, kind := range []faulty.Kind{faulty.FailBefore, faulty.Timeout, faulty.Throttle} {
		t.Run(kind.String(), func(t *testing.T) {
			inner := memory.New(memory.Options{})
			if _, err := inner.Create(ctx, rec("k", "a", 1)); err != nil {
				t.Fatal(err)
			}
			s := faulty.New(inner, faulty.Options{Rules: []faulty.Rule{{Nth: 1, Kind: kind}, {Op: faulty.OpList, Nth: 1, Kind: kind}}})
			if _, err := s.Load(ctx, "k"); !errors.Is(err, lease.ErrUnavailable) {
				t.Fatalf("Load: got %v, want ErrUnavailable", err)
			}
			if _, err := s.List(ctx, "", 10); !errors.Is(err, lease.ErrUnavailable) {
				t.Fatalf("List: got %v, want ErrUnavailable", err)
			}
			if _, err := s.Load(ctx, "k"); err != nil {
				t.Fatalf("second Load: %v", err)
			}
		})
	}
}

// Write-only faults never fire on reads, and do not count them.
func TestWriteFaultsSkipReads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := faulty.New(memory.New(memory.Options{}), faulty.Options{Rules: []faulty.Rule{{Nth: 2, Kind: faulty.FailAfter}}})
	for range 3 {
		if _, err := s.Load(ctx, "k"); !errors.Is(err, lease.ErrNotFound) {
			t.Fatalf("Load: %v, want ErrNotFound", err)
		}
	}
	if _, err := s.Create(ctx, rec("k", "a", 1)); err != nil {
		t.Fatalf("first write: %v (the rule is for the 2nd write)", err)
	}
	v, _ := s.Load(ctx, "k")
	if _, err := s.Replace(ctx, rec("k", "b", 2), v.Version); !errors.Is(err, lease.ErrUnavailable) {
		t.Fatalf("second write: %v, want the injected ErrUnavailable", err)
	}
}

func TestKeyAndLimitSelectCalls(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := faulty.New(memory.New(memory.Options{}), faulty.Options{Rules: []faulty.Rule{{Key: "bad", Rate: 1, Limit: 2, Kind: faulty.FailBefore}}})
	if _, err := s.Create(ctx, rec("good", "a", 1)); err != nil {
		t.Fatalf("write to another key: %v", err)
	}
	for i := range 2 {
		if _, err := s.Create(ctx, rec("bad", "a", 1)); !errors.Is(err, lease.ErrUnavailable) {
			t.Fatalf("write %d to the key: %v, want ErrUnavailable", i, err)
		}
	}
	if _, err := s.Create(ctx, rec("bad", "a", 1)); err != nil {
		t.Fatalf("write after the limit: %v", err)
	}
}

// The same seed injects the same faults into the same sequence of calls.
func TestSeededRatesAreDeterministic(t *testing.T) {
	t.Parallel()
	pattern := func(seed uint64) []bool {
		s := faulty.New(memory.New(memory.Options{}), faulty.Options{Seed: seed, Rules: []faulty.Rule{{Op: faulty.OpLoad, Rate: 0.3, Kind: faulty.FailBefore}}})
		var out []bool
		for range 200 {
			_, err := s.Load(context.Background(), "k")
			out = append(out, errors.Is(err, lease.ErrUnavailable))
		}
		return out
	}
	a, b, c := pattern(7), pattern(7), pattern(8)
	fired := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("call %d: seed 7 gave %v then %v", i, a[i], b[i])
		}
		if a[i] {
			fired++
		}
	}
	if fired < 30 || fired > 90 {
		t.Fatalf("rate 0.3 fired %d times in 200 calls", fired)
	}
	same := true
	for i := range a {
		same = same && a[i] == c[i]
	}
	if same {
		t.Fatal("seeds 7 and 8 injected identical faults")
	}
}

// A Timeout waits for the caller's deadline, as a real slow backend does.
func TestTimeoutWaitsForTheDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		inner := memory.New(memory.Options{})
		s := faulty.New(inner, faulty.Options{Rules: []faulty.Rule{{Op: faulty.OpCreate, Nth: 1, Kind: faulty.TimeoutAfter}}})
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		start := time.Now()
		_, err := s.Create(ctx, rec("k", "a", 1))
		if !errors.Is(err, lease.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want ErrUnavailable wrapping DeadlineExceeded", err)
		}
		if waited := time.Since(start); waited != 3*time.Second {
			t.Fatalf("returned after %s, want the 3s deadline", waited)
		}
		if _, err := inner.Load(context.Background(), "k"); err != nil {
			t.Fatalf("TimeoutAfter must apply the write: %v", err)
		}
	})
}

// Sneak runs another writer between the read and the caller's write; its
// own calls are quiet, so they neither fail nor sneak again.
func TestSneakRunsBetweenReadAndWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var s *faulty.Store
	calls := 0
	s = faulty.New(memory.New(memory.Options{}), faulty.Options{
		Rules: []faulty.Rule{{Op: faulty.OpLoad, Rate: 1, Kind: faulty.Sneak}, {Rate: 1, Kind: faulty.FailBefore}},
		Sneak: func(ctx context.Context, key string) {
			calls++
			v, err := s.Load(ctx, key)
			if err != nil {
				t.Errorf("quiet Load in the hook: %v", err)
				return
			}
			if _, err := s.Replace(ctx, rec(key, "sneaker", v.Record.Generation+1), v.Version); err != nil {
				t.Errorf("quiet Replace in the hook: %v", err)
			}
		},
	})
	if _, err := s.Inner().Create(ctx, rec("k", "a", 1)); err != nil {
		t.Fatal(err)
	}
	v, err := s.Load(ctx, "k")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if calls != 1 {
		t.Fatalf("hook ran %d times, want 1", calls)
	}
	if v.Record.HolderID != "a" {
		t.Fatalf("Load returned %+v, want what it read before the sneak", v.Record)
	}
	_, err = s.Replace(faulty.Quiet(ctx), rec("k", "b", 2), v.Version)
	if !errors.Is(err, lease.ErrPrecondition) {
		t.Fatalf("write after the sneak: %v, want a precondition failure", err)
	}
	if w := s.Writes(); len(w) != 1 || w[0].Record.HolderID != "sneaker" {
		t.Fatalf("write log %+v, want only the sneaker's write", w)
	}
}
