package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redlease/redlease/internal/syncbuf"
	"github.com/redlease/redlease/pkg/auth"
	"github.com/redlease/redlease/pkg/lease"
)

// dirHash is a digest of every path and byte under dir.
func dirHash(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		_, _ = io.WriteString(h, rel+"\x00")
		if d.Type().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			_, _ = h.Write(data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func writeTokens(t *testing.T, path string, entries ...string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(`{"tokens":[`+strings.Join(entries, ",")+`]}`), 0o600); err != nil {
		t.Fatal(err)
	}
}

func entry(name, token, prefix string, admin bool) string {
	s := `{"name":"` + name + `","sha256":"` + auth.Hash(token) + `","prefixes":["` + prefix + `"]`
	if admin {
		s += `,"admin":true`
	}
	return s + "}"
}

// redlease serve --tokens FILE, driven through the CLI as each tenant:
// every rule, the data directory hashed around every request, and a
// rotation that takes effect without a restart.
func TestServeWithTokens(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tokens := filepath.Join(t.TempDir(), "tokens.json")
	const (
		tokA, tokA2, tokB, tokOps = "token-a-0123456789", "token-a2-0123456789", "token-b-0123456789", "token-ops-0123456789"
	)
	writeTokens(t, tokens, entry("tenant-a", tokA, "tenants/a/", false), entry("tenant-a-batch", tokA2, "tenants/a/", false),
		entry("tenant-b", tokB, "tenants/b/", false), entry("ops", tokOps, "", true))
	// A record RedDB (or redlease before principals) wrote: no principal.
	legacy := filepath.Join(dir, "leases", "tenants", "a", "legacy.lease.json")
	if err := os.MkdirAll(filepath.Dir(legacy), 0o755); err != nil {
		t.Fatal(err)
	}
	nowMs := uint64(time.Now().UnixMilli())
	if err := os.WriteFile(legacy, lease.EncodeLease(lease.Lease{DatabaseKey: "tenants/a/legacy", HolderID: "reddb-old", Term: 1,
		Generation: 4, AcquiredAtMs: nowMs, ExpiresAtMs: nowMs + 3_600_000}), 0o600); err != nil {
		t.Fatal(err)
	}
	url, _, _ := startServe(t, "--data", dir, "--tokens", tokens)
	ctx := context.Background()
	ep := "--endpoint=" + url
	as := func(token string, args ...string) []string {
		return append(append([]string{args[0], ep, "--token=" + token}, args[1:]...), "--output", "json")
	}
	key := []string{"--key", "tenants/a/db"}
	refresh := append(append([]string{"refresh"}, key...), "--holder", "reddb-a", "--generation", "1")
	release := append(append([]string{"release"}, key...), "--holder", "reddb-a", "--generation", "1")
	steps := []struct {
		name   string
		args   []string
		code   int
		out    string // in stdout (the JSON answer or error)
		writes bool
	}{
		{"tenant a acquires", as(tokA, append(append([]string{"acquire"}, key...), "--holder", "reddb-a")...), exitOK, `"generation":1`, true},
		{"tenant b acquires it", as(tokB, append(append([]string{"acquire"}, key...), "--holder", "reddb-b")...), exitOther, `"code":"forbidden"`, false},
		{"tenant b acquires a free key", as(tokB, "acquire", "--key", "tenants/a/free", "--holder", "reddb-b"), exitOther, `"code":"forbidden"`, false},
		{"tenant b refreshes with a's values", as(tokB, refresh...), exitOther, `"code":"forbidden"`, false},
		{"tenant b releases with a's values", as(tokB, release...), exitOther, `"code":"forbidden"`, false},
		{"tenant b reads", as(tokB, append([]string{"get"}, key...)...), exitOther, `"status":403`, false},
		{"tenant b reads a key without a record", as(tokB, "get", "--key", "tenants/a/none"), exitOther, `"status":403`, false},
		{"another principal of a refreshes", as(tokA2, refresh...), exitOther, `"code":"forbidden"`, false},
		{"another principal of a acquires with a's holder id", as(tokA2, append(append([]string{"acquire"}, key...), "--holder", "reddb-a")...), exitHeld, `"code":"held"`, false},
		{"another principal of a reads", as(tokA2, append([]string{"get"}, key...)...), exitOK, `"state":"held"`, false},
		{"a legacy lease is refreshed as before", as(tokA2, "refresh", "--key", "tenants/a/legacy", "--holder", "reddb-old", "--generation", "4"), exitOK, `"generation":4`, true},
		{"no token", append([]string{"get", ep}, key...), exitOther, "401 unauthorized", false},
		{"an unknown token", as("guessed-0123456789", append([]string{"get"}, key...)...), exitOther, `"code":"unauthorized"`, false},
		{"tenant a refreshes", as(tokA, refresh...), exitOK, `"generation":1`, true},
		{"tenant a breaks glass", as(tokA, "force-release", "--key", "tenants/a/db"), exitOther, `"code":"forbidden"`, false},
		{"ops breaks glass", as(tokOps, "force-release", "--key", "tenants/a/db", "--reason", "INC-7"), exitOK, `"holder_principal":"tenant-a"`, true},
		{"tenant a's refresh after break glass", as(tokA, refresh...), exitStale, `"code":"stale"`, false},
		{"the term may not jump", as(tokA, append(append([]string{"acquire"}, key...), "--holder", "reddb-a", "--term", "5000")...), exitUsage, `"field":"term"`, false},
	}
	for _, s := range steps {
		before := dirHash(t, dir)
		r := cli(ctx, t, s.args...)
		if r.code != s.code || !strings.Contains(r.stdout+r.stderr, s.out) {
			t.Errorf("%s: exit %d, want %d with %s\nstdout: %s\nstderr: %s", s.name, r.code, s.code, s.out, r.stdout, r.stderr)
		}
		if changed := dirHash(t, dir) != before; changed != s.writes {
			t.Errorf("%s: data directory changed = %v, want %v", s.name, changed, s.writes)
		}
	}

	// Rotate tenant a's token; the server re-reads the file within a second.
	writeTokens(t, tokens, entry("tenant-a", "token-a-rotated-0123", "tenants/a/", false), entry("ops", tokOps, "", true))
	deadline := time.Now().Add(10 * time.Second)
	for {
		old := cli(ctx, t, as(tokA, append([]string{"get"}, key...)...)...)
		if strings.Contains(old.stdout, `"code":"unauthorized"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the revoked token still works 10 s after the rotation: %s", old.stdout)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r := cli(ctx, t, as("token-a-rotated-0123", append([]string{"get"}, key...)...)...); r.code != exitOK {
		t.Errorf("the rotated token: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
}

func TestServeRefusesABadTokensDocument(t *testing.T) {
	t.Parallel()
	tokens := filepath.Join(t.TempDir(), "tokens.json")
	writeTokens(t, tokens, entry("tenant-a", "t-0123456789", "tenants/a", false))
	var stderr syncbuf.Buffer
	code := run(context.Background(), env{Stdout: io.Discard, Stderr: &stderr, Getenv: func(string) string { return "" }},
		[]string{"serve", "--addr", "127.0.0.1:0", "--backend", "memory", "--tokens", tokens})
	if code == 0 || !strings.Contains(stderr.String(), `tokens[0] "tenant-a"`) || !strings.Contains(stderr.String(), "must end in") {
		t.Errorf("exit %d, stderr %s: want a start-up error naming the entry", code, stderr.String())
	}
}

func TestServeIsOpenOnlyOnLoopback(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		addr               string
		open, insecureOpen bool
		ok                 bool
	}{
		{"127.0.0.1:8080", true, false, true},
		{"[::1]:8080", true, false, true},
		{"localhost:8080", true, false, true},
		{"0.0.0.0:8080", true, false, false},
		{":8080", true, false, false},
		{"[::]:8080", true, false, false},
		{"192.0.2.10:8080", true, false, false},
		{"lease.example.com:8080", true, false, false},
		{"0.0.0.0:8080", true, true, true},
		{"0.0.0.0:8080", false, false, true},
	} {
		err := checkOpen(tc.addr, tc.open, tc.insecureOpen)
		if (err == nil) != tc.ok {
			t.Errorf("checkOpen(%q, open %v, insecure-open %v) = %v, want ok %v", tc.addr, tc.open, tc.insecureOpen, err, tc.ok)
		}
	}
	var stderr syncbuf.Buffer
	code := run(context.Background(), env{Stdout: io.Discard, Stderr: &stderr, Getenv: func(string) string { return "" }},
		[]string{"serve", "--addr", "0.0.0.0:0", "--backend", "memory"})
	if code != exitUsage || !strings.Contains(stderr.String(), "--tokens") || !strings.Contains(stderr.String(), "--insecure-open") {
		t.Errorf("serve open on 0.0.0.0: exit %d, stderr %s", code, stderr.String())
	}
}
