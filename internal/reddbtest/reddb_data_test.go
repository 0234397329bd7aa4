//go:build reddb

package reddbtest_test

// What stock RedDB uploads, and what a plain object store lets a deposed
// writer do: the behaviour redlease's data fencing exists to change.

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redlease/redlease/internal/reddbtest"
)

// dataRequests renders the requests since mark that are not for the lease
// object, as "METHOD key" (lists as "LIST prefix").
func dataRequests(s *objectServer, mark int) []string {
	var out []string
	for _, r := range s.requests(mark) {
		switch {
		case r.IsList:
			out = append(out, "LIST "+r.Key+"?list="+r.List)
		case r.Key != leaseKey:
			out = append(out, r.Method+" "+r.Key)
		}
	}
	return out
}

func TestCheckpointAndBackupUploads(t *testing.T) {
	s := newObjectServer(t)
	red := holding(t, s, "red-a")
	red.MustExec("CREATE TABLE t (id INT, v TEXT)")
	red.MustExec("INSERT INTO t (id, v) VALUES (1, 'a')")

	mark := s.mark()
	if code, body, err := red.Checkpoint(t.Context()); err != nil || code != http.StatusOK {
		t.Fatalf("checkpoint: %d %s %v", code, body, err)
	}
	if got := dataRequests(s, mark); !slices.Equal(got, []string{"PUT clusters/dev/data.rdb"}) {
		t.Fatalf("checkpoint requests %q, want one PUT of data.rdb", got)
	}
	for _, r := range s.requests(mark) {
		if r.Method == http.MethodPut && (r.IfMatch != "" || r.IfNoneMatch != "" || r.ContentType != "application/x-www-form-urlencoded") {
			t.Errorf("data PUT %s: If-Match %q If-None-Match %q Content-Type %q, want unconditional with curl's default type",
				r.Key, r.IfMatch, r.IfNoneMatch, r.ContentType)
		}
	}

	mark = s.mark()
	if code, body, err := red.Backup(t.Context()); err != nil || code != http.StatusOK {
		t.Fatalf("backup: %d %s %v", code, body, err)
	}
	got := dataRequests(s, mark)
	t.Logf("backup requests: %q", got)
	var snapshot string
	for _, r := range got {
		if k, ok := strings.CutPrefix(r, "PUT "); ok && strings.HasSuffix(k, ".snapshot") {
			snapshot = k
		}
	}
	if !strings.HasPrefix(snapshot, "clusters/dev/snapshots/") {
		t.Fatalf("backup uploaded no snapshot: %q", got)
	}
	for _, want := range []string{
		"PUT clusters/dev/data.rdb",
		"PUT " + snapshot + ".manifest.json",
		"PUT clusters/dev/manifests/head.json",
		"LIST ?list=clusters/dev/snapshots/",
		// A listed key comes back to GET as is, plus the sidecar suffix.
		"GET " + snapshot + ".manifest.json",
		"LIST ?list=clusters/dev/wal/",
		"PUT clusters/dev/MANIFEST.json",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("backup requests lack %q", want)
		}
	}
}

// Defect 1 of REDDB-INTEROP.md on a plain store: RedDB's curl has no
// timeout, so a refresh that hangs never fails. The instance keeps saying
// "held", another instance takes the lease after it expires, and the old
// one still uploads over the new holder's objects; nothing in the upload
// tells the store which writer it comes from.
func TestHungRefreshKeepsWritingAfterTakeover(t *testing.T) {
	s := newObjectServer(t)
	a := holding(t, s, "red-a")
	a.MustExec("CREATE TABLE t (id INT, v TEXT)")

	s.setHang(func(r request) bool { return r.Key == leaseKey && r.Auth == "Bearer token-red-a" })
	waitFor(t, "a's refresh to hang", 10*time.Second, func() bool {
		return slices.ContainsFunc(leaseRequests(s, 0), func(r request) bool { return r.Status == 0 })
	})
	sleepPastExpiry(t, s)

	next := holding(t, s, "red-b")
	if l := storedLease(t, s); l.HolderID != "red-b" || l.Generation != 2 {
		t.Fatalf("takeover %+v, want red-b at generation 2", l)
	}
	next.MustExec("CREATE TABLE t (id INT, v TEXT)")
	next.MustExec("INSERT INTO t (id, v) VALUES (1, 'written by b')")
	if code, body, err := next.Checkpoint(t.Context()); err != nil || code != http.StatusOK {
		t.Fatalf("b checkpoint: %d %s %v", code, body, err)
	}
	fromB, _ := s.get("clusters/dev/data.rdb")

	if st, err := a.Status(t.Context()); err != nil || st.WriterLease != reddbtest.LeaseHeld {
		t.Fatalf("a: %+v %v, want it still to believe it holds the lease", st, err)
	}
	a.MustExec("INSERT INTO t (id, v) VALUES (1, 'written by a, deposed')")
	if code, body, err := a.Checkpoint(t.Context()); err != nil || code != http.StatusOK {
		t.Fatalf("a checkpoint: %d %s %v", code, body, err)
	}
	fromA, _ := s.get("clusters/dev/data.rdb")
	if bytes.Equal(fromA, fromB) {
		t.Fatal("the deposed writer's upload did not land; the plain store fenced it?")
	}
	t.Logf("deposed red-a replaced red-b's data.rdb (%d bytes) with its own (%d bytes)", len(fromB), len(fromA))
}
