//go:build e2e

package e2e

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/redlease/redlease/pkg/client"
)

// identity is an IAM user with one access key.
type identity struct {
	name, accessKey, secret string
}

func (i identity) creds() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(i.accessKey, i.secret, "")
}

// newUser creates an IAM user with an access key and the given managed
// policies attached, as an operator would for a RedDB instance.
func (d *deployment) newUser(ctx context.Context, t *testing.T, name string, policies ...string) identity {
	t.Helper()
	c := iam.NewFromConfig(d.emu.awsConfig(rootCredentials))
	user := d.stack + "-" + name
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(user)}); err != nil {
		t.Fatalf("CreateUser %s: %v", user, err)
	}
	for _, p := range policies {
		if _, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(user), PolicyArn: aws.String(p)}); err != nil {
			t.Fatalf("AttachUserPolicy %s %s: %v", user, p, err)
		}
	}
	key, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
	if err != nil {
		t.Fatalf("CreateAccessKey %s: %v", user, err)
	}
	return identity{name: user, accessKey: aws.ToString(key.AccessKey.AccessKeyId), secret: aws.ToString(key.AccessKey.SecretAccessKey)}
}

// iamChecks runs on the emulator with AUTH=true: API Gateway verifies each
// SigV4 signature and evaluates the caller's IAM policies against the
// route's execute-api ARN, and the functions reach storage and the bus
// with their execution roles' policies only.
func iamChecks(ctx context.Context, t *testing.T, d *deployment) {
	policy := d.output(t, outCallerPolicy)
	caller := d.newUser(ctx, t, "caller", policy)
	stranger := d.newUser(ctx, t, "no-policy")

	run(t, d, "refused callers", func() {
		key := d.key("refused")
		body := `{"database_key":"` + key + `","holder_id":"intruder","ttl_ms":60000}`
		if r := d.curl(ctx, t, nil, "POST", "/v1/acquire", "application/json", body); r.status != http.StatusForbidden {
			t.Errorf("unsigned curl acquire: %d %s, want 403", r.status, r.body)
		}
		if r := d.curl(ctx, t, nil, "GET", "/v1/leases/"+key, "", ""); r.status != http.StatusForbidden {
			t.Errorf("unsigned curl get: %d %s, want 403", r.status, r.body)
		}
		wrongSecret := identity{accessKey: caller.accessKey, secret: "not-" + caller.secret}
		for _, c := range []struct {
			name  string
			creds aws.CredentialsProvider
		}{
			{"unsigned Go client", nil},
			{"wrong secret", wrongSecret.creds()},
			{"no policy", stranger.creds()},
		} {
			cl := d.newClient(t, c.creds)
			_, err := cl.Acquire(ctx, client.AcquireRequest{DatabaseKey: key, HolderID: "intruder", TTL: time.Minute})
			var apiErr *client.APIError
			if !errors.Is(err, client.ErrUnauthorized) || !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusForbidden {
				t.Errorf("%s: acquire = %v, want 403 unauthorized", c.name, err)
			}
			if _, err := cl.Get(ctx, key); !errors.Is(err, client.ErrUnauthorized) {
				t.Errorf("%s: get = %v, want unauthorized", c.name, err)
			}
		}
		// None of them reached a function: the key was never written.
		if _, ok := d.storedForm(ctx, t, key); ok {
			t.Errorf("a refused caller's acquire of %s was stored", key)
		}
		cliRefused(ctx, t, d, wrongSecret)
	})

	run(t, d, "go client (policy)", func() { goClientSession(ctx, t, d, caller.creds()) })
	run(t, d, "cli (policy)", func() { cliSession(ctx, t, d, caller.accessKey, caller.secret) })
	run(t, d, "curl (policy)", func() { curlSession(ctx, t, d, &signer{caller.accessKey, caller.secret}) })
	run(t, d, "reddb (function url)", func() { reddbSession(ctx, t, d, caller.creds()) })
	run(t, d, "tenant policy", func() { tenantScope(ctx, t, d) })
	in := d.subscribe(ctx, t)
	invokedSweep(ctx, t, d, in, caller.creds())
}

// cliRefused: the CLI with bad credentials exits 1 (unauthorized) and
// writes nothing.
func cliRefused(ctx context.Context, t *testing.T, d *deployment, id identity) {
	t.Helper()
	code, out := cliExit(ctx, t, d, id.accessKey, id.secret, "acquire", "--key", d.key("refused-cli"), "--holder", "intruder", "--ttl", "30s")
	if code != 1 {
		t.Errorf("cli acquire with a wrong secret: exit %d (%s), want 1", code, out)
	}
}
