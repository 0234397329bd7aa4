//go:build reddb

package reddb

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redlease/redlease/internal/reddbtest"
	"github.com/redlease/redlease/pkg/lease"
)

// Each RedDB instance has a token, so a principal, of its own: that is
// what lets the service tell a deposed instance's data writes from the new
// holder's (docs/design-reddb-gateway.md §3).
var (
	tokA   = token{name: "red-a", secret: "token-red-a"}
	tokB   = token{name: "red-b", secret: "token-red-b"}
	tokC   = token{name: "red-c", secret: "token-red-c"}
	tokD   = token{name: "red-d", secret: "token-red-d"}
	tokCLI = token{name: "ops-cli", secret: "token-ops-cli"}
	all    = []token{tokA, tokB, tokC, tokD, tokCLI}
)

// Scenario 1: a RedDB holds its lease through redlease; the JSON API
// serves that very record, with the service's times and the RedDB's
// principal; the CLI (an operator's token) cannot acquire it.
func TestHolderIsTheRecordOfTheJSONAPI(t *testing.T) {
	srv := startServe(t, all...)
	before := nowMs()
	holding(t, srv.backendURL(), tokA, "red-a")
	after := nowMs()

	rec := srv.record(t)
	if rec.HolderID != "red-a" || rec.Generation != 1 || rec.Term != 1 || rec.TTLMs != 3000 || rec.Principal != tokA.name {
		t.Fatalf("stored record %+v, want red-a at generation 1, ttl_ms 3000, principal %s", rec, tokA.name)
	}
	if rec.AcquiredAtMs < before || rec.AcquiredAtMs > after {
		t.Errorf("acquired_at_ms %d outside the service's [%d, %d]", rec.AcquiredAtMs, before, after)
	}
	got := srv.getLease(t, tokCLI)
	if got.Lease.HolderID != "red-a" || got.Lease.Generation != 1 || got.State != "held" ||
		got.Lease.ExpiresAtMs <= nowMs() || got.Lease.ExpiresAtMs > nowMs()+3000 {
		t.Fatalf("GET /v1/leases: %+v, want red-a's held lease expiring within the next 3 s", got)
	}
	if got.Lease.AcquiredAtMs != rec.AcquiredAtMs {
		t.Errorf("the JSON API's lease %+v is not the stored record %+v", got.Lease, rec)
	}
	out, code := cli(t, srv, tokCLI, "acquire", "--key", databaseKey, "--holder", "cli-1", "--ttl", "30s")
	if code != 3 || !strings.Contains(out, `"red-a"`) {
		t.Fatalf("CLI acquire: exit %d, %s; want exit 3 (held) naming red-a", code, out)
	}
	if r := srv.record(t); r.HolderID != "red-a" || r.Generation != 1 {
		t.Errorf("after the CLI's attempt the record is %+v", r)
	}
}

// The CLI and RedDB share the record, in both directions, on an open
// local server too: the lease a RedDB holds blocks the CLI, and the one
// `redlease hold` holds blocks a RedDB.
func TestCLIAndRedDBBlockEachOther(t *testing.T) {
	srv := startServe(t) // open, on loopback
	holding(t, srv.backendURL(), token{}, "red-a")
	out, code := cli(t, srv, token{}, "acquire", "--key", databaseKey, "--holder", "cli-1", "--ttl", "30s")
	if code != 3 || !strings.Contains(out, `"red-a"`) {
		t.Fatalf("CLI acquire of RedDB's lease: exit %d, %s; want exit 3 (held) naming red-a", code, out)
	}
	if r := srv.record(t); r.HolderID != "red-a" || r.Generation != 1 {
		t.Errorf("after the CLI's attempt the record is %+v", r)
	}

	other := startServe(t)
	hold := exec.Command(binary(t), "hold", "--endpoint", other.URL, "--key", databaseKey, "--holder", "cli-hold", "--ttl", "5s", "--", "sleep", "30")
	hold.Env = []string{"PATH=" + pathEnv(), "HOME=" + t.TempDir()}
	if err := hold.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = hold.Process.Kill(); _ = hold.Wait() })
	waitFor(t, "redlease hold to take the lease", 10*time.Second, func() bool {
		b, err := os.ReadFile(filepath.Join(other.DataDir, "leases", filepath.FromSlash(databaseKey)+lease.ObjectSuffix))
		return err == nil && strings.Contains(string(b), `"cli-hold"`)
	})
	red := startRed(t, other.backendURL(), token{}, "red-b")
	if exit := red.MustWait(bootTimeout); exit.Code == 0 || !strings.Contains(exit.Stderr+exit.Stdout, "held by 'cli-hold'") {
		t.Fatalf("RedDB under redlease hold's lease: %s, want refused as held by cli-hold", exit)
	}
}

// cli runs the redlease CLI against srv, with tk's bearer token (none when
// empty), and returns its output and exit status.
func cli(t *testing.T, srv *server, tk token, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binary(t), append(args, "--endpoint", srv.URL)...)
	cmd.Env = []string{"PATH=" + pathEnv(), "HOME=" + t.TempDir(), "REDLEASE_TOKEN=" + tk.secret}
	out, err := cmd.CombinedOutput()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run redlease %v: %v", args, err)
	}
	return string(out), code
}

// Scenario 2: a second RedDB, with its own token, is refused at boot with
// RedDB's own message and exits non-zero; nothing changes.
func TestSecondInstanceIsRefusedAtBoot(t *testing.T) {
	srv := startServe(t, all...)
	holding(t, srv.backendURL(), tokA, "red-a")
	held := srv.record(t)
	b := startRed(t, srv.backendURL(), tokB, "red-b")
	exit := b.MustWait(bootTimeout)
	if exit.Code == 0 || !strings.Contains(exit.Stderr+exit.Stdout, "held by 'red-a'") {
		t.Fatalf("red-b: %s, want a non-zero exit with RedDB's \"held by 'red-a'\"; stderr:\n%s", exit, lastLines(exit.Stderr, 10))
	}
	if r := srv.record(t); r.HolderID != "red-a" || r.Generation != held.Generation || r.Principal != tokA.name {
		t.Errorf("after red-b's attempt the record is %+v, want red-a's", r)
	}
}

// Scenario 3 (defect 3 fixed): a drained RedDB releases by DELETE, which
// becomes the released marker; the generation survives, and the next
// RedDB takes generation 2, not 1 as on a plain store
// (internal/reddbtest's TestDrainReleasesByDelete).
func TestDrainKeepsTheGeneration(t *testing.T) {
	srv := startServe(t, all...)
	a := holding(t, srv.backendURL(), tokA, "red-a")
	a.Drain()
	waitFor(t, "the released marker", 15*time.Second, func() bool { return srv.record(t).Released() })
	if r := srv.record(t); r.Generation != 1 || r.HolderID != "red-a" {
		t.Fatalf("released record %+v, want red-a's generation 1 kept", r)
	}
	if got := srv.getLease(t, tokCLI); got.State != "released" || got.Lease.Generation != 1 {
		t.Fatalf("GET /v1/leases after the drain: %+v, want released at generation 1", got)
	}
	a.WaitLease(reddbtest.LeaseNotHeld, 10*time.Second)
	holding(t, srv.backendURL(), tokC, "red-c")
	if r := srv.record(t); r.HolderID != "red-c" || r.Generation != 2 || r.Principal != tokC.name {
		t.Fatalf("after the release red-c holds %+v, want generation 2", r)
	}
}

// Scenario 4 (defect 1 mitigated): RedDB C is frozen (SIGSTOP) while an
// upload of its data file is on the wire and stays frozen past its TTL; D
// takes generation + 1 and writes; C is resumed: its upload lands with the
// service after D's, and is refused (403) without changing D's data; its
// refresh fails and it stops uploading.
func TestPausedWriterIsFenced(t *testing.T) {
	srv := startServe(t, all...)
	px := newProxy(t, srv.URL)
	c := holding(t, px.backendURL(), tokC, "red-c")
	c.MustExec("CREATE TABLE t (id INT, who TEXT)")
	c.MustExec("INSERT INTO t (id, who) VALUES (1, 'c')")

	// C's next data upload is held on the wire; C freezes with it.
	px.holdWhere(isDataUpload)
	checkpointed := make(chan int, 1)
	go func() {
		code, _, _ := c.Checkpoint(context.Background())
		checkpointed <- code
	}()
	waitFor(t, "C's upload on the wire", 30*time.Second, func() bool { return px.heldCount() > 0 })
	c.Freeze()
	waitFor(t, "C's lease to expire by the service's clock", 2*ttl, func() bool { return srv.record(t).ExpiresAtMs < nowMs() })

	d := holding(t, srv.backendURL(), tokD, "red-d")
	if r := srv.record(t); r.HolderID != "red-d" || r.Generation != 2 {
		t.Fatalf("D holds %+v, want generation 2", r)
	}
	d.MustExec("CREATE TABLE t (id INT, who TEXT)")
	d.MustExec("INSERT INTO t (id, who) VALUES (2, 'd')")
	if code, body, err := d.Checkpoint(context.Background()); err != nil || code != http.StatusOK {
		t.Fatalf("D's checkpoint: %d %s %v", code, body, err)
	}
	dData := srv.object(t, "clusters/dev/data.rdb")
	if len(dData) == 0 {
		t.Fatal("D's checkpoint uploaded no data.rdb")
	}

	// C resumes; its held upload goes on to the service.
	c.Thaw()
	px.releaseAll()
	<-checkpointed
	c.WaitLease(reddbtest.LeaseNotHeld, 15*time.Second)
	uploads := statusesOf(px.requests(), "PUT /v1/reddb/clusters/dev/")
	if len(uploads) == 0 {
		t.Fatalf("C's upload never reached the service: %q", px.requests())
	}
	for _, s := range uploads {
		if s != "403" {
			t.Fatalf("C's data uploads after the takeover were answered %q, want every one 403", uploads)
		}
	}
	if got := srv.object(t, "clusters/dev/data.rdb"); !bytes.Equal(got, dData) {
		t.Fatalf("D's data.rdb changed (%d bytes, was %d): a deposed writer's upload landed", len(got), len(dData))
	}
	t.Logf("deposed C's uploads: %q; D's data.rdb (%d bytes) intact", uploads, len(dData))
}

// Defect 1 again, as RedDB's own harness shows it on a plain store
// (TestHungRefreshKeepsWritingAfterTakeover): C's lease requests are held
// for ever, so C never learns it lost the lease and keeps uploading after
// D took over. Every one of those uploads is refused, and D's data stays.
func TestHungRefreshCannotOverwrite(t *testing.T) {
	srv := startServe(t, all...)
	px := newProxy(t, srv.URL)
	c := holding(t, px.backendURL(), tokC, "red-c")
	px.holdWhere(isLeaseRequest)
	waitFor(t, "C's lease to expire by the service's clock", 3*ttl, func() bool { return srv.record(t).ExpiresAtMs < nowMs() })
	d := holding(t, srv.backendURL(), tokD, "red-d")
	d.MustExec("CREATE TABLE t (id INT)")
	d.MustExec("INSERT INTO t (id) VALUES (2)")
	if code, body, err := d.Checkpoint(context.Background()); err != nil || code != http.StatusOK {
		t.Fatalf("D's checkpoint: %d %s %v", code, body, err)
	}
	dData := srv.object(t, "clusters/dev/data.rdb")

	if st, err := c.Status(context.Background()); err != nil || st.WriterLease != reddbtest.LeaseHeld {
		t.Fatalf("C: %+v %v; want it still believing it holds the lease (its refresh hangs)", st, err)
	}
	c.MustExec("CREATE TABLE t (id INT)")
	c.MustExec("INSERT INTO t (id) VALUES (1)")
	_, _, _ = c.Checkpoint(context.Background())
	_, _, _ = c.Backup(context.Background())
	uploads := statusesOf(px.requests(), "PUT /v1/reddb/clusters/dev/")
	if len(uploads) == 0 {
		t.Fatal("C uploaded nothing")
	}
	for _, s := range uploads {
		if s != "403" {
			t.Fatalf("C's uploads were answered %q, want every one 403", uploads)
		}
	}
	if got := srv.object(t, "clusters/dev/data.rdb"); !bytes.Equal(got, dData) {
		t.Fatalf("D's data.rdb changed under a deposed writer")
	}
	t.Logf("deposed C (refresh hung, still %q) had %d uploads refused: %q", reddbtest.LeaseHeld, len(uploads), uploads)
	px.releaseAll()
}

// Scenario 5: kill -9 of the holder leaves its lease to expire; another
// RedDB is refused until then, and takes generation + 1 after.
func TestKilledHolderIsTakenOverAfterExpiry(t *testing.T) {
	srv := startServe(t, all...)
	a := holding(t, srv.backendURL(), tokA, "red-a")
	a.Kill()
	held := srv.record(t)
	if held.ExpiresAtMs > nowMs()+500 {
		early := startRed(t, srv.backendURL(), tokB, "red-b")
		if exit := early.MustWait(bootTimeout); exit.Code == 0 || !strings.Contains(exit.Stderr+exit.Stdout, "held by 'red-a'") {
			t.Fatalf("red-b before the expiry: %s, want refused as held by red-a", exit)
		}
	}
	waitFor(t, "the killed holder's lease to expire", 2*ttl, func() bool { return srv.record(t).ExpiresAtMs < nowMs() })
	holding(t, srv.backendURL(), tokB, "red-b-2")
	if r := srv.record(t); r.HolderID != "red-b-2" || r.Generation != held.Generation+1 {
		t.Fatalf("after the expiry: %+v, want red-b-2 at generation %d", r, held.Generation+1)
	}
}

// Scenario 6 (defect 4 fixed): a RedDB whose clock runs 30 s ahead sees a
// live lease as expired and tries to take it; the service, by its own
// clock, refuses, and the lease stays its holder's. Once the lease is
// free, the fast clock's RedDB takes it, and the times stored are the
// service's, not its own.
func TestClockAheadIsHeldToTheServiceClock(t *testing.T) {
	srv := startServe(t, all...)
	a := holding(t, srv.backendURL(), tokA, "red-a")
	ahead := func(c *reddbtest.Config) { c.ClockOffset = 30 * time.Second }
	fast := startRed(t, srv.backendURL(), tokB, "red-fast", ahead)
	exit := fast.MustWait(bootTimeout)
	if exit.Code == 0 {
		t.Fatal("the fast-clock RedDB started while red-a held a live lease")
	}
	t.Logf("fast-clock RedDB refused: %s", lastLines(exit.Stderr, 1))
	if r := srv.record(t); r.HolderID != "red-a" || r.Generation != 1 {
		t.Fatalf("after the fast clock's attempt the record is %+v, want red-a's generation 1", r)
	}
	a.Drain()
	waitFor(t, "the released marker", 15*time.Second, func() bool { return srv.record(t).Released() })
	before := nowMs()
	holding(t, srv.backendURL(), tokB, "red-fast-2", ahead)
	after := nowMs()
	r := srv.record(t)
	if r.HolderID != "red-fast-2" || r.Generation != 2 {
		t.Fatalf("the fast clock's acquire stored %+v, want generation 2", r)
	}
	if r.AcquiredAtMs < before || r.AcquiredAtMs > after || r.ExpiresAtMs != r.AcquiredAtMs+3000 {
		t.Fatalf("stored times %d..%d, want the service's: acquired within [%d, %d], expires 3 s later (RedDB's own were 30 s ahead)",
			r.AcquiredAtMs, r.ExpiresAtMs, before, after)
	}
}
