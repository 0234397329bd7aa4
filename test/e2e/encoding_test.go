//go:build e2e

package e2e

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/redlease/redlease/pkg/client"
	"github.com/redlease/redlease/pkg/lease"
)

// encodedKeySession: the literal key ".../a%2Fb.rdb" and the key
// ".../a/b.rdb" are two leases through the deployed HTTP API, whichever
// way the emulator decodes the path (docs/api-gateway.md). The Go client
// sends the first as "a%252Fb.rdb"; curl's "a%2Fb.rdb" is the second.
func encodedKeySession(ctx context.Context, t *testing.T, d *deployment, creds aws.CredentialsProvider) {
	c := d.newClient(t, creds)
	base := "e2e/" + d.emu.name + "/" + d.storage + "/pct/"
	slashed, literal := base+"a/b.rdb", base+"a%2Fb.rdb"
	if _, err := c.Acquire(ctx, client.AcquireRequest{DatabaseKey: slashed, HolderID: "reddb-slash", TTL: time.Minute}); err != nil {
		t.Fatalf("acquire %s: %v", slashed, err)
	}
	if got, err := c.Get(ctx, literal); !errors.Is(err, lease.ErrNotFound) {
		t.Fatalf("get %s = %+v, %v; want not found (it is not %s)", literal, got, err, slashed)
	}
	if _, err := c.Acquire(ctx, client.AcquireRequest{DatabaseKey: literal, HolderID: "reddb-literal", TTL: time.Minute}); err != nil {
		t.Fatalf("acquire %s: %v", literal, err)
	}
	for key, holder := range map[string]string{slashed: "reddb-slash", literal: "reddb-literal"} {
		got, err := c.Get(ctx, key)
		if err != nil || got.Lease.HolderID != holder || got.Lease.DatabaseKey != key {
			t.Errorf("get %s = %+v, %v; want %s's lease", key, got, err, holder)
		}
	}
	s := &signer{"test", "test"}
	for path, holder := range map[string]string{
		"/v1/leases/" + base + "a%252Fb.rdb": "reddb-literal",
		"/v1/leases/" + base + "a%2Fb.rdb":   "reddb-slash",
	} {
		r := d.curl(ctx, t, s, "GET", path, "", "")
		if r.status != 200 || leaseJSON(t, r)["holder_id"] != holder {
			t.Errorf("curl GET %s = %d %s, want %s's lease", path, r.status, r.body, holder)
		}
	}
}
