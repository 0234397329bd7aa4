//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/redlease/redlease/pkg/client"
	"github.com/redlease/redlease/pkg/lease"
)

// newClient is the Go client against the deployed API, signing with creds.
func (d *deployment) newClient(t *testing.T, creds aws.CredentialsProvider) *client.Client {
	t.Helper()
	c, err := client.New(client.Options{
		Endpoint: d.api, HTTPClient: d.emu.http, Credentials: creds, Region: region,
		UserAgent: "redlease-e2e",
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// key is a database key of this deployment; keys have slashes, so every
// GET goes through the {database_key+} route's greedy path.
func (d *deployment) key(name string) string {
	return "e2e/" + d.emu.name + "/" + d.storage + "/" + name + "/data.rdb"
}

// goClientSession runs the lease's life through the Go client: acquire,
// held, read, refresh, stale, release, generation after release, fenced,
// not found, and the stored record after each write.
func goClientSession(ctx context.Context, t *testing.T, d *deployment, creds aws.CredentialsProvider) {
	c := d.newClient(t, creds)
	key := d.key("client")
	ttl := 30 * time.Second
	principal := d.principalOf(ctx, t, creds)

	a, err := c.Acquire(ctx, client.AcquireRequest{DatabaseKey: key, HolderID: "reddb-0-1", TTL: ttl})
	if err != nil {
		t.Fatalf("acquire: %v", err)
	}
	if a.Lease.Generation != 1 || a.Lease.Term != 1 || a.Lease.HolderID != "reddb-0-1" || a.Lease.DatabaseKey != key {
		t.Fatalf("acquire = %+v, want generation 1, term 1, holder reddb-0-1", a.Lease)
	}
	if got := a.Lease.ExpiresAtMs - a.Lease.AcquiredAtMs; got != uint64(ttl.Milliseconds()) {
		t.Errorf("expires - acquired = %d ms, want the TTL %d", got, ttl.Milliseconds())
	}
	d.checkStored(ctx, t, key, a.Lease, principal, 0)

	snap, err := c.Get(ctx, key)
	if err != nil || snap.State != lease.StateHeld || snap.Lease != a.Lease {
		t.Fatalf("get = %+v, %v; want held %+v", snap, err, a.Lease)
	}

	_, err = c.Acquire(ctx, client.AcquireRequest{DatabaseKey: key, HolderID: "reddb-1-1", TTL: ttl})
	var held *lease.HeldError
	if !errors.As(err, &held) || held.Current.HolderID != "reddb-0-1" || held.Current.Generation != 1 {
		t.Fatalf("second holder's acquire: %v, want held by reddb-0-1 at generation 1", err)
	}

	r, err := c.Refresh(ctx, client.RefreshRequest{DatabaseKey: key, HolderID: "reddb-0-1", Generation: 1, TTL: ttl})
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if r.Lease.Generation != 1 || r.Lease.AcquiredAtMs != a.Lease.AcquiredAtMs || r.Lease.ExpiresAtMs < a.Lease.ExpiresAtMs {
		t.Errorf("refresh = %+v, want generation 1, same acquired_at, expiry not earlier than %d", r.Lease, a.Lease.ExpiresAtMs)
	}
	// The refresh stamps the service's clock at its decision, which the
	// new expiry is the TTL after.
	d.checkStored(ctx, t, key, r.Lease, principal, r.Lease.ExpiresAtMs-uint64(ttl.Milliseconds()))

	for _, bad := range []client.RefreshRequest{
		{DatabaseKey: key, HolderID: "reddb-0-1", Generation: 2, TTL: ttl}, // a generation it never had
		{DatabaseKey: key, HolderID: "reddb-1-1", Generation: 1, TTL: ttl}, // not the holder
	} {
		if _, err := c.Refresh(ctx, bad); !errors.Is(err, lease.ErrStale) {
			t.Errorf("refresh %+v: %v, want stale", bad, err)
		}
	}

	rel, err := c.Release(ctx, client.ReleaseRequest{DatabaseKey: key, HolderID: "reddb-0-1", Generation: 1})
	if err != nil || !rel.Released() || rel.Generation != 1 {
		t.Fatalf("release = %+v, %v", rel, err)
	}
	if snap, err := c.Get(ctx, key); err != nil || snap.State != lease.StateReleased {
		t.Errorf("get after release = %+v, %v; want released", snap, err)
	}
	if _, err := c.Refresh(ctx, client.RefreshRequest{DatabaseKey: key, HolderID: "reddb-0-1", Generation: 1, TTL: ttl}); !errors.Is(err, lease.ErrStale) {
		t.Errorf("refresh of the released generation: %v, want stale", err)
	}

	next, err := c.Acquire(ctx, client.AcquireRequest{DatabaseKey: key, HolderID: "reddb-1-1", TTL: ttl})
	if err != nil || next.Lease.Generation != 2 || next.Lease.HolderID != "reddb-1-1" {
		t.Fatalf("acquire after release = %+v, %v; want generation 2 for reddb-1-1", next.Lease, err)
	}
	d.checkStored(ctx, t, key, next.Lease, principal, 0)

	// Fenced: a holder at term 2 publishes the term; an acquire at term 1
	// afterwards is refused, whoever holds the lease.
	fkey := d.key("fenced")
	f, err := c.Acquire(ctx, client.AcquireRequest{DatabaseKey: fkey, HolderID: "promoter-1", TTL: ttl, Term: 2})
	if err != nil || f.Lease.Term != 2 {
		t.Fatalf("acquire at term 2 = %+v, %v", f.Lease, err)
	}
	if _, err := c.Release(ctx, client.ReleaseRequest{DatabaseKey: fkey, HolderID: "promoter-1", Generation: f.Lease.Generation}); err != nil {
		t.Fatalf("release: %v", err)
	}
	if _, err := c.Acquire(ctx, client.AcquireRequest{DatabaseKey: fkey, HolderID: "reddb-0-2", TTL: ttl, Term: 1}); !errors.Is(err, lease.ErrFenced) {
		t.Errorf("acquire at term 1 after term 2: %v, want fenced", err)
	}

	if _, err := c.Get(ctx, d.key("never-taken")); !errors.Is(err, lease.ErrNotFound) {
		t.Errorf("get of a key never taken: %v, want not found", err)
	}
}

// cliSession drives the same life through the redlease binary, as an
// operator would, with credentials in the environment.
func cliSession(ctx context.Context, t *testing.T, d *deployment, accessKey, secret string) {
	key := d.key("cli")
	run := func(wantExit int, args ...string) map[string]any {
		t.Helper()
		code, stdout := cliExit(ctx, t, d, accessKey, secret, args...)
		if code != wantExit {
			t.Fatalf("redlease %s: exit %d, want %d\n%s", strings.Join(args, " "), code, wantExit, stdout)
		}
		if code != 0 {
			return nil
		}
		var body map[string]any
		if err := json.Unmarshal([]byte(stdout), &body); err != nil {
			t.Fatalf("redlease %v printed %q: %v", args, stdout, err)
		}
		return body
	}
	field := func(body map[string]any, name string) string {
		l, _ := body["lease"].(map[string]any)
		switch v := l[name].(type) {
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		case string:
			return v
		}
		return ""
	}

	got := run(0, "acquire", "--key", key, "--holder", "cli-1", "--ttl", "30s")
	gen := field(got, "generation")
	if gen != "1" || field(got, "holder_id") != "cli-1" {
		t.Fatalf("cli acquire printed %v", got)
	}
	run(3, "acquire", "--key", key, "--holder", "cli-2", "--ttl", "30s") // held
	if got := run(0, "get", "--key", key); got["state"] != "held" || field(got, "holder_id") != "cli-1" {
		t.Errorf("cli get = %v, want held by cli-1", got)
	}
	run(0, "refresh", "--key", key, "--holder", "cli-1", "--generation", gen, "--ttl", "30s")
	run(5, "refresh", "--key", key, "--holder", "cli-2", "--generation", gen, "--ttl", "30s") // stale
	run(0, "release", "--key", key, "--holder", "cli-1", "--generation", gen)
	if got := run(0, "get", "--key", key); got["state"] != "released" {
		t.Errorf("cli get after release = %v, want released", got)
	}
	if got := run(0, "acquire", "--key", key, "--holder", "cli-2", "--ttl", "30s"); field(got, "generation") != "2" {
		t.Errorf("cli acquire after release = %v, want generation 2", got)
	}
	run(7, "get", "--key", d.key("cli-never-taken")) // not found
}

// cliExit runs the redlease binary against the deployed API with the given
// credentials in its environment; it returns the exit status and what it
// printed (stdout, then stderr).
func cliExit(ctx context.Context, t *testing.T, d *deployment, accessKey, secret string, args ...string) (int, string) {
	t.Helper()
	full := append(args, "--endpoint", d.api, "--sign", "always", "--region", region, "--output", "json", "--timeout", "60s")
	cmd := exec.CommandContext(ctx, harness.cli, full...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+accessKey, "AWS_SECRET_ACCESS_KEY="+secret)
	if d.emu.caFile != "" {
		cmd.Env = append(cmd.Env, "SSL_CERT_FILE="+d.emu.caFile) // Go's roots, for the CLI's HTTPS
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode(), stdout.String() + stderr.String()
	case err != nil:
		t.Fatalf("redlease %v: %v", args, err)
	}
	return 0, stdout.String()
}
