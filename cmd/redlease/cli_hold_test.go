package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redlease/redlease/internal/syncbuf"
	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/client"
	"github.com/redlease/redlease/pkg/client/clienttest"
	"github.com/redlease/redlease/pkg/lease"
)

// The hold tests run real child processes (sh, sleep). Those that drive
// the Keeper with a manual clock swap cliClock and so do not run in
// parallel; no test here waits for a lease to expire.

func stored(t *testing.T, store *memory.Store, key string) lease.Record {
	t.Helper()
	raw, ok := store.Raw(key)
	if !ok {
		t.Fatalf("nothing stored for %q", key)
	}
	rec, err := lease.DecodeRecord(raw)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// waitFor polls cond for up to 10 s of real time: it waits for a child
// process to start, never for lease time to pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for stop := time.Now().Add(10 * time.Second); time.Now().Before(stop); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestHoldPassesTheTokenAndExitsWithTheCommandsStatus(t *testing.T) {
	t.Parallel()
	srv, store := testServer(t)
	r := cli(context.Background(), t, "hold", "--endpoint", srv.URL, "--key", "clusters/dev/data.rdb", "--holder", "reddb-0-1",
		"--term", "3", "--", "sh", "-c",
		`echo "$REDLEASE_DATABASE_KEY|$REDLEASE_HOLDER_ID|$REDLEASE_TERM|$REDLEASE_GENERATION|$REDLEASE_TTL_MS|${REDLEASE_EXPIRES_AT_MS:+set}"; exit 3`)
	if r.code != 3 {
		t.Fatalf("exit %d, want the command's 3; stderr %s", r.code, r.stderr)
	}
	if want := "clusters/dev/data.rdb|reddb-0-1|3|1|60000|set\n"; r.stdout != want {
		t.Errorf("the command saw %q, want %q", r.stdout, want)
	}
	if rec := stored(t, store, "clusters/dev/data.rdb"); !rec.Released() || rec.Generation != 1 {
		t.Errorf("not released after the command exited: %+v", rec.Lease)
	}
}

func TestHoldRefusesWhenHeldAndStartsNothing(t *testing.T) {
	t.Parallel()
	srv, _ := testServer(t)
	ctx := context.Background()
	if r := cli(ctx, t, "acquire", "--endpoint", srv.URL, "--key", "k", "--holder", "other"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	r := cli(ctx, t, "hold", "--endpoint", srv.URL, "--key", "k", "--holder", "me", "--", "sh", "-c", "echo ran")
	if r.code != exitHeld || strings.Contains(r.stdout, "ran") {
		t.Errorf("exit %d stdout %q, want %d and no command run", r.code, r.stdout, exitHeld)
	}
	if r := cli(ctx, t, "hold", "--endpoint", srv.URL, "--key", "k2", "--holder", "me", "--", "/nonexistent/cmd"); r.code != 127 {
		t.Errorf("missing command: exit %d, want 127", r.code)
	}
	if r := cli(ctx, t, "hold", "--endpoint", srv.URL, "--key", "k2", "--holder", "me"); r.code != exitUsage {
		t.Errorf("no command: exit %d, want 2", r.code)
	}
}

// useClock makes the client subcommands run on a manual clock.
func useClock(t *testing.T) *clienttest.Clock {
	clk := clienttest.NewClock(time.Now())
	prev := cliClock
	cliClock = clk
	t.Cleanup(func() { cliClock = prev })
	return clk
}

type holdRun struct {
	stdout, stderr *syncbuf.Buffer
	done           chan cliResult
	start          time.Time
}

func startHold(ctx context.Context, t *testing.T, args ...string) *holdRun {
	h := &holdRun{stdout: &syncbuf.Buffer{}, stderr: &syncbuf.Buffer{}, done: make(chan cliResult, 1), start: time.Now()}
	go func() { h.done <- cliWith(ctx, t, h.stdout, h.stderr, append([]string{"hold"}, args...)...) }()
	waitFor(t, "the command to start", func() bool { return strings.Contains(h.stdout.String(), "started") })
	return h
}

func (h *holdRun) result(t *testing.T) cliResult {
	t.Helper()
	select {
	case r := <-h.done:
		return r
	case <-time.After(10 * time.Second):
		t.Fatalf("hold did not return; stderr so far: %s", h.stderr.String())
		return cliResult{}
	}
}

// TestHoldStopsTheCommandWhenTheLeaseIsLost: the lease goes stale while
// `sleep 30` runs; the next refresh finds out, hold sends SIGTERM, and
// exits 8 at once instead of letting the command run on.
func TestHoldStopsTheCommandWhenTheLeaseIsLost(t *testing.T) {
	clk := useClock(t)
	srv, store := testServer(t)
	h := startHold(context.Background(), t, "--endpoint", srv.URL, "--key", "db", "--holder", "reddb-0-1", "--ttl", "3s",
		"--", "sh", "-c", "echo started; exec sleep 30")

	// Another incarnation of the same holder re-acquires: generation 2.
	c, _ := client.New(client.Options{Endpoint: srv.URL})
	if _, err := c.Acquire(context.Background(), client.AcquireRequest{DatabaseKey: "db", HolderID: "reddb-0-1", TTL: 3 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if !clk.WaitForTimer(10*time.Second, time.Second) { // the refresh, at max(ttl/3, 1 s)
		t.Fatalf("no refresh scheduled in 1s; pending %v", clk.Pending())
	}
	clk.Advance(time.Second)
	r := h.result(t)
	if r.code != exitLost {
		t.Fatalf("exit %d, want %d; stderr %s", r.code, exitLost, r.stderr)
	}
	for _, want := range []string{"(stale)", "stopping the command", "ended by signal terminated"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if took := time.Since(h.start); took > 8*time.Second {
		t.Errorf("took %v: the command was not stopped promptly", took)
	}
	if rec := stored(t, store, "db"); rec.Released() || rec.Generation != 2 {
		t.Errorf("hold touched generation 2: %+v", rec.Lease)
	}
}

// TestHoldKillsACommandThatIgnoresSIGTERM: the lease is fenced (this
// holder learnt of term 2 while its lease is at term 1), the command
// ignores SIGTERM, and after --grace SIGKILL goes to its whole process
// group.
func TestHoldKillsACommandThatIgnoresSIGTERM(t *testing.T) {
	clk := useClock(t)
	srv, store := testServer(t)
	h := startHold(context.Background(), t, "--endpoint", srv.URL, "--key", "db", "--holder", "h", "--ttl", "3s",
		"--term", "1", "--current-term", "2", "--grace", "300ms",
		"--", "sh", "-c", `trap "" TERM; echo started; sleep 30; echo survived`)
	if !clk.WaitForTimer(10*time.Second, time.Second) {
		t.Fatalf("no refresh scheduled in 1s; pending %v", clk.Pending())
	}
	clk.Advance(time.Second)
	r := h.result(t)
	for _, want := range []string{"(fenced)", "killing it", "signal killed"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if r.code != exitLost || strings.Contains(r.stdout, "survived") {
		t.Errorf("exit %d stdout %q, want %d and the command gone", r.code, r.stdout, exitLost)
	}
	if rec := stored(t, store, "db"); !rec.Released() {
		t.Errorf("a fenced lease is still this holder's record; hold should release it: %+v", rec.Lease)
	}
}

// TestHoldForwardsAnInterruptAndReleases: SIGINT/SIGTERM to redlease (its
// context) stops the command, and the lease is released after it exits.
func TestHoldForwardsAnInterruptAndReleases(t *testing.T) {
	t.Parallel()
	srv, store := testServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	h := startHold(ctx, t, "--endpoint", srv.URL, "--key", "db", "--holder", "h", "--", "sh", "-c", "echo started; exec sleep 30")
	cancel()
	r := h.result(t)
	if r.code != 128+15 {
		t.Errorf("exit %d, want 143 (the command ended by SIGTERM); stderr %s", r.code, r.stderr)
	}
	if rec := stored(t, store, "db"); !rec.Released() {
		t.Errorf("not released: %+v", rec.Lease)
	}
}
