//go:build e2e

package e2e

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redlease/redlease/pkg/client"
	"github.com/redlease/redlease/pkg/lease"
)

// tenantPrefix is the one entry of the tenantPrefixes context the IAM
// deployments get: the stack outputs a caller policy scoped to it.
const tenantPrefix = "tenants/a/"

// tenantPolicyArn finds the output of tenantPrefix's caller policy
// (TenantPolicy…Arn: its id hashes the prefix, infra/stack/policies.go);
// the stack has exactly one.
func (d *deployment) tenantPolicyArn(t *testing.T) string {
	t.Helper()
	var found []string
	for name, v := range d.outputs {
		if strings.HasPrefix(name, "TenantPolicy") && strings.HasSuffix(name, "Arn") {
			found = append(found, v)
		}
	}
	if len(found) != 1 {
		t.Fatalf("stack %s: want one TenantPolicy…Arn output (tenantPrefixes=%s), outputs %v", d.stack, tenantPrefix, d.outputs)
	}
	return found[0]
}

// tenantScope (issue #12): an IAM user with only the tenant's caller
// policy runs a whole lease life on a key under the tenant's prefix
// through the path-key routes, and API Gateway refuses it (403, before any
// function) a key under another prefix and the body-key routes, which no
// policy can scope by key. The refused keys are never stored.
func tenantScope(ctx context.Context, t *testing.T, d *deployment) {
	tenant := d.newUser(ctx, t, "tenant-a", d.tenantPolicyArn(t))
	c := d.newClient(t, tenant.creds())
	own := tenantPrefix + d.emu.name + "-" + d.storage + "/data.rdb"
	other := "tenants/b/" + d.emu.name + "-" + d.storage + "/data.rdb"
	outside := "tenants/ab/" + d.emu.name + "-" + d.storage + "/data.rdb" // shares the prefix's characters, not its segment

	g, err := c.Acquire(ctx, client.AcquireRequest{DatabaseKey: own, HolderID: "tenant-a-1", TTL: time.Minute})
	if err != nil || g.Lease.Generation != 1 {
		t.Fatalf("tenant acquire of %s: %+v, %v; want generation 1", own, g.Lease, err)
	}
	if snap, err := c.Get(ctx, own); err != nil || snap.State != lease.StateHeld || snap.Lease != g.Lease {
		t.Errorf("tenant get of %s: %+v, %v; want its held lease", own, snap, err)
	}
	if _, err := c.Refresh(ctx, client.RefreshRequest{DatabaseKey: own, HolderID: "tenant-a-1", Generation: 1, TTL: time.Minute}); err != nil {
		t.Errorf("tenant refresh of %s: %v", own, err)
	}
	if _, err := c.Release(ctx, client.ReleaseRequest{DatabaseKey: own, HolderID: "tenant-a-1", Generation: 1}); err != nil {
		t.Errorf("tenant release of %s: %v", own, err)
	}
	if rec := d.storedRecord(ctx, t, own); !rec.Released() || rec.Generation != 1 || rec.Principal != d.principalOf(ctx, t, tenant.creds()) {
		t.Errorf("stored %s after the tenant's release: %+v, want its released generation 1", own, rec)
	}

	for _, key := range []string{other, outside} {
		_, err := c.Acquire(ctx, client.AcquireRequest{DatabaseKey: key, HolderID: "tenant-a-1", TTL: time.Minute})
		var apiErr *client.APIError
		if !errors.Is(err, client.ErrUnauthorized) || !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusForbidden {
			t.Errorf("tenant acquire of %s: %v, want 403 unauthorized", key, err)
		}
		if _, err := c.Get(ctx, key); !errors.Is(err, client.ErrUnauthorized) {
			t.Errorf("tenant get of %s: %v, want unauthorized", key, err)
		}
		if _, ok := d.storedForm(ctx, t, key); ok {
			t.Errorf("the tenant's refused acquire of %s was stored", key)
		}
	}
	// The body-key route, even for its own prefix: the policy names the
	// path-key routes only.
	s := &signer{tenant.accessKey, tenant.secret}
	bodyKey := tenantPrefix + d.emu.name + "-" + d.storage + "/body.rdb"
	r := d.curl(ctx, t, s, "POST", "/v1/acquire", "application/json", `{"database_key":"`+bodyKey+`","holder_id":"tenant-a-1","ttl_ms":60000}`)
	if r.status != http.StatusForbidden {
		t.Errorf("tenant POST /v1/acquire (body key): %d %s, want 403", r.status, r.body)
	}
	if _, ok := d.storedForm(ctx, t, bodyKey); ok {
		t.Errorf("the tenant's refused body-route acquire of %s was stored", bodyKey)
	}
}
