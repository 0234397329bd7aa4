//go:build integration

package integration

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/redlease/redlease/internal/config"
	"github.com/redlease/redlease/internal/wire"
	"github.com/redlease/redlease/pkg/auth"
	s3store "github.com/redlease/redlease/pkg/backend/s3"
	"github.com/redlease/redlease/pkg/lease"
)

// The deployed stack's tokens document, an S3 object, against LocalStack:
// a missing object is no tokens, a conditional GET of an unchanged one is
// 304 (ErrUnchanged), and a rotation is seen on the next check.
func TestTokensDocumentInS3(t *testing.T) {
	skipUnlessEmulators(t)
	ctx := context.Background()
	bucket, key := os.Getenv("REDLEASE_IT_BUCKET"), "it-"+run+"/tokens.json"
	cfg := config.Config{Backend: config.BackendMemory, S3PathStyle: true, Limits: lease.DefaultLimits(),
		Tokens: config.Tokens{Bucket: bucket, Key: key}}
	app, err := wire.Load(ctx, cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	client := s3store.NewClient(app.AWS, true)
	put := func(doc string) {
		t.Helper()
		if _, err := client.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
			Body: strings.NewReader(doc), ContentType: aws.String("application/json")}); err != nil {
			t.Fatal(err)
		}
	}
	bearer := func(token string) http.Header { return http.Header{"Authorization": {"Bearer " + token}} }

	// Before the operator writes a document: no token, no failure.
	if err := app.LoadAuth(ctx, nil); err != nil {
		t.Fatalf("LoadAuth without a document: %v", err)
	}
	if _, err := app.Auth.Authenticate(ctx, bearer("token-a-0123456789")); !errors.Is(err, lease.ErrUnauthorized) {
		t.Fatalf("without a document: %v, want unauthorized", err)
	}

	put(`{"tokens":[{"name":"tenant-a","sha256":"` + auth.Hash("token-a-0123456789") + `","prefixes":["tenants/a/"]}]}`)
	reloading := app.Auth.(*auth.Reloading)
	if err := reloading.Reload(ctx); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	p, err := app.Auth.Authenticate(ctx, bearer("token-a-0123456789"))
	if err != nil || p.Name != "tenant-a" || !p.Allows("tenants/a/db") {
		t.Fatalf("after the document was written: %+v, %v", p, err)
	}

	src := wire.S3TokensSource(client, bucket, key)
	_, version, err := src.Fetch(ctx, "")
	if err != nil || version == "" {
		t.Fatalf("Fetch = %q, %v", version, err)
	}
	if _, _, err := src.Fetch(ctx, version); !errors.Is(err, auth.ErrUnchanged) {
		t.Fatalf("conditional GET of the unchanged document: %v, want ErrUnchanged (304)", err)
	}

	// Rotate: a new token under the same name, the old one gone.
	put(`{"tokens":[{"name":"tenant-a","sha256":"` + auth.Hash("token-a-rotated-0123") + `","prefixes":["tenants/a/"]}]}`)
	if err := reloading.Reload(ctx); err != nil {
		t.Fatalf("Reload after the rotation: %v", err)
	}
	if _, err := app.Auth.Authenticate(ctx, bearer("token-a-0123456789")); !errors.Is(err, lease.ErrUnauthorized) {
		t.Errorf("the revoked token: %v, want unauthorized", err)
	}
	if p, err := app.Auth.Authenticate(ctx, bearer("token-a-rotated-0123")); err != nil || p.Name != "tenant-a" {
		t.Errorf("the rotated token: %+v, %v", p, err)
	}

	// A broken upload keeps the tokens in force.
	put(`{"tokens":[{"name":"tenant-a","sha256":"oops","prefixes":["tenants/a/"]}]}`)
	if err := reloading.Reload(ctx); err == nil || !strings.Contains(err.Error(), `tokens[0] "tenant-a"`) {
		t.Errorf("Reload of a bad document: %v, want the entry named", err)
	}
	if _, err := app.Auth.Authenticate(ctx, bearer("token-a-rotated-0123")); err != nil {
		t.Errorf("a bad document replaced a good one: %v", err)
	}
}
