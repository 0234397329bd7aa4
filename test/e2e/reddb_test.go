//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/redlease/redlease/internal/reddbtest"
	"github.com/redlease/redlease/pkg/lease"
)

// Outputs of the RedDB face (infra/stack/ops.go).
const (
	outRedDBURL    = "RedDBEndpointUrl"
	outRedDBBucket = "RedDBDataBucketName"
	outTokens      = "TokensDocument"
)

const (
	// redTTL is the stock RedDB's lease TTL: it refreshes every TTL/3, each
	// refresh a few invocations of the deployed function, so the TTL leaves
	// room for a loaded machine.
	redTTL = 15 * time.Second
	// redClockAhead is how far RedDB A's wall clock runs ahead of the
	// service's (libfaketime): the times stored for its lease must still be
	// the service's.
	redClockAhead = 30 * time.Second
	redBoot       = 2 * time.Minute
)

// redToken is one RedDB instance's bearer token, its own principal.
type redToken struct{ name, secret string }

func newRedToken(t *testing.T, name string) redToken {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return redToken{name: name, secret: hex.EncodeToString(b)}
}

func (k redToken) header() string { return "Bearer " + k.secret }

// writeTokens writes the tokens document (docs/api.md: name, SHA-256 of the
// token, prefixes) where the stack's TokensDocument output says, as an
// operator would. It must happen before the RedDB function's first
// invocation: a new instance reads the document at init, a warm one a
// minute later.
func (d *deployment) writeTokens(ctx context.Context, t *testing.T, prefix string, tokens ...redToken) {
	t.Helper()
	loc := d.output(t, outTokens)
	rest, ok := strings.CutPrefix(loc, "s3://")
	bucket, key, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || bucket == "" || key == "" {
		t.Fatalf("%s = %q, want s3://BUCKET/KEY", outTokens, loc)
	}
	type entry struct {
		Name     string   `json:"name"`
		SHA256   string   `json:"sha256"`
		Prefixes []string `json:"prefixes"`
	}
	doc := struct {
		Tokens []entry `json:"tokens"`
	}{}
	for _, k := range tokens {
		sum := sha256.Sum256([]byte(k.secret))
		doc.Tokens = append(doc.Tokens, entry{Name: k.name, SHA256: hex.EncodeToString(sum[:]), Prefixes: []string{prefix}})
	}
	body, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.s3().PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body), ContentType: aws.String("application/json"),
	}); err != nil {
		t.Fatalf("write the tokens document %s: %v", loc, err)
	}
}

func (d *deployment) s3() *s3.Client {
	return s3.NewFromConfig(d.emu.awsConfig(rootCredentials), func(o *s3.Options) { o.UsePathStyle = true })
}

// dataBucket is where the stack keeps RedDB's data objects: the lease
// bucket with S3 storage, the RedDB data bucket beside the table.
func (d *deployment) dataBucket(t *testing.T) string {
	t.Helper()
	if d.storage == "dynamodb" {
		return d.output(t, outRedDBBucket)
	}
	return d.output(t, outBucket)
}

// dataObject reads a RedDB data object straight from the stack's bucket
// (nil when there is none).
func (d *deployment) dataObject(ctx context.Context, t *testing.T, key string) []byte {
	t.Helper()
	out, err := d.s3().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(d.dataBucket(t)), Key: aws.String(key)})
	if err != nil {
		if strings.Contains(err.Error(), "NoSuchKey") {
			return nil
		}
		t.Fatalf("GetObject %s: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// redDBBackendURL checks the RedDBEndpointUrl output's form (what an
// operator pastes into RED_HTTP_BACKEND_URL: the function URL, which ends
// in "/", then "v1/reddb") and maps it to the address MiniStack serves that
// function URL at, as emulatorFunctionURL says.
func (d *deployment) redDBBackendURL(t *testing.T) string {
	t.Helper()
	out := d.output(t, outRedDBURL)
	u, err := emulatorFunctionURL(out, d.emu.endpoint)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// emulatorFunctionURL maps a function URL as the stack outputs it
// (https://{url-id}.lambda-url.{region}.on.aws/PATH) to MiniStack's
// path-style address of the same URL, {endpoint}/_aws/lambda-url/{url-id}/PATH:
// the host-style name does not resolve here, and RedDB's curl cannot be
// told to send another Host. MiniStack hands the function the same payload
// 2.0 event either way (rawPath is PATH).
func emulatorFunctionURL(fnURL, endpoint string) (string, error) {
	u, err := url.Parse(fnURL)
	if err != nil {
		return "", fmt.Errorf("function URL %q: %w", fnURL, err)
	}
	id, rest, ok := strings.Cut(u.Hostname(), ".")
	if u.Scheme != "https" || !ok || len(id) != 32 || !strings.HasPrefix(rest, "lambda-url."+region+".") || !strings.HasSuffix(rest, ".on.aws") {
		return "", fmt.Errorf("function URL %q is not https://{32-char id}.lambda-url.%s.on.aws/...", fnURL, region)
	}
	if u.Path != "/v1/reddb" || u.RawQuery != "" {
		return "", fmt.Errorf("function URL %q: want the path /v1/reddb (RedDB appends /{key}), got %q", fnURL, u.Path)
	}
	return strings.TrimRight(endpoint, "/") + "/_aws/lambda-url/" + id + u.Path, nil
}

// startRed starts a stock RedDB on the deployed function URL with its own
// bearer token, as the issue configures one (RED_BACKEND=http, conditional
// writes, lease required).
func (d *deployment) startRed(t *testing.T, backend, dbKey string, tok redToken, clockAhead time.Duration) *reddbtest.Server {
	t.Helper()
	env := reddbtest.HTTPBackend{
		URL:       backend,
		Auth:      tok.header(),
		RemoteKey: dbKey,
		LeaseTTL:  redTTL,
		HolderID:  tok.name,
	}.Env()
	if d.emu.caFile != "" {
		// RedDB forks curl, which trusts the harness's certificate this way.
		env = append(env, "CURL_CA_BUNDLE="+d.emu.caFile)
	}
	return reddbtest.Start(t, reddbtest.Config{Name: d.scope + "/" + tok.name, Env: env, ClockOffset: clockAhead})
}

// reddbSession is issue #11's scenario 7 through the deployed stack: a
// stock RedDB holds its writer lease through the deployed RedDB function,
// behind its function URL, with a token from the stack's tokens bucket.
// RedDB A (its clock 30 s ahead) holds; the JSON API, through API Gateway
// with SigV4, serves A's lease with the service's times; RedDB B with its
// own token is refused at boot; A's data lands in the stack's bucket byte
// for byte; a data PUT with B's token under A's live lease is 403 and
// changes nothing; without a token, or with an unknown one, a write is 401.
func reddbSession(ctx context.Context, t *testing.T, d *deployment, creds aws.CredentialsProvider) {
	backend := d.redDBBackendURL(t)
	dbKey := d.key("reddb")
	tokA, tokB := newRedToken(t, "red-a"), newRedToken(t, "red-b")
	d.writeTokens(ctx, t, "e2e/", tokA, tokB)

	before := uint64(time.Now().UnixMilli())
	a := d.startRed(t, backend, dbKey, tokA, redClockAhead)
	a.WaitLease(reddbtest.LeaseHeld, redBoot)
	after := uint64(time.Now().UnixMilli())

	// The JSON API serves the very record RedDB holds, restamped by the
	// service's clock although A's runs 30 s ahead.
	snap, err := d.newClient(t, creds).Get(ctx, dbKey)
	if err != nil {
		t.Fatalf("GET /v1/leases/%s: %v", dbKey, err)
	}
	l := snap.Lease
	if snap.State != lease.StateHeld || l.HolderID != tokA.name || l.Generation != 1 || l.Term != 1 {
		t.Fatalf("GET /v1/leases/%s = %+v (%s), want red-a's held lease at generation 1", dbKey, l, snap.State)
	}
	if l.AcquiredAtMs < before || l.AcquiredAtMs > after {
		t.Errorf("acquired_at_ms %d outside the service's [%d, %d] (RedDB's clock is %s ahead)", l.AcquiredAtMs, before, after, redClockAhead)
	}
	// A refresh may have run since the acquire: the expiry is a TTL after
	// the latest, by the service's clock.
	if now := uint64(time.Now().UnixMilli()); l.ExpiresAtMs <= now || l.ExpiresAtMs > now+uint64(redTTL.Milliseconds()) {
		t.Errorf("expires_at_ms %d, want within the TTL %s after now (%d) by the service's clock", l.ExpiresAtMs, redTTL, now)
	}
	rec := d.storedRecord(ctx, t, dbKey)
	if rec.HolderID != tokA.name || rec.Generation != 1 || rec.Principal != tokA.name || rec.TTLMs != uint64(redTTL.Milliseconds()) {
		t.Errorf("stored record %+v, want red-a's generation 1, principal red-a, ttl_ms %d", rec, redTTL.Milliseconds())
	}

	// B, its own principal, is refused at boot with RedDB's own message.
	b := d.startRed(t, backend, dbKey, tokB, 0)
	exit := b.MustWait(redBoot)
	if exit.Code == 0 || !strings.Contains(exit.Stderr+exit.Stdout, "held by 'red-a'") {
		t.Fatalf("red-b: %s, want a non-zero exit with RedDB's \"held by 'red-a'\"; stderr:\n%s", exit, lastLines(exit.Stderr, 10))
	}
	if r := d.storedRecord(ctx, t, dbKey); r.HolderID != tokA.name || r.Generation != 1 || r.Principal != tokA.name {
		t.Errorf("after red-b's boot the record is %+v, want red-a's", r)
	}

	// A's data goes up through the function (base64 events) and lands in
	// the stack's bucket at the key RedDB names, byte for byte.
	a.MustExec("CREATE TABLE t (id INT, v TEXT)")
	a.MustExec("INSERT INTO t (id, v) VALUES (1, 'through the deployed stack')")
	if code, body, err := a.Checkpoint(ctx); err != nil || code != http.StatusOK {
		t.Fatalf("red-a checkpoint: %d %s %v", code, body, err)
	}
	stored := d.dataObject(ctx, t, dbKey)
	local, err := os.ReadFile(a.DataPath)
	if err != nil {
		t.Fatal(err)
	}
	if stored == nil || !bytes.Equal(stored, local) {
		t.Fatalf("stored %s is %d bytes, RedDB's file %d: want them equal", dbKey, len(stored), len(local))
	}

	// B's token under A's live lease: a data PUT, as RedDB's curl sends
	// it, is refused 403 and the object is unchanged.
	status, code := redPut(ctx, t, d.emu.http, backend+"/"+dbKey, tokB.header(), []byte("red-b was here"))
	if status != http.StatusForbidden || code != "held_by_other" {
		t.Errorf("red-b's data PUT under red-a's lease: %d %q, want 403 held_by_other", status, code)
	}
	if after := d.dataObject(ctx, t, dbKey); !bytes.Equal(after, stored) {
		t.Errorf("red-b's refused PUT changed %s (%d bytes, was %d)", dbKey, len(after), len(stored))
	}
	// The function URL has no IAM in front (auth type NONE): without a
	// token, or with one the document does not hold, a write is 401 even
	// where no lease fences it, and stores nothing.
	free := d.key("reddb-unleased")
	for _, c := range []struct{ name, authorization string }{
		{"no token", ""},
		{"unknown token", newRedToken(t, "nobody").header()},
	} {
		if status, code := redPut(ctx, t, d.emu.http, backend+"/"+free, c.authorization, []byte("anyone")); status != http.StatusUnauthorized || code != "unauthorized" {
			t.Errorf("%s: data PUT of %s: %d %q, want 401 unauthorized", c.name, free, status, code)
		}
	}
	if b := d.dataObject(ctx, t, free); b != nil {
		t.Errorf("an unauthenticated PUT stored %s (%d bytes)", free, len(b))
	}
	if st, err := a.Status(ctx); err != nil || st.WriterLease != reddbtest.LeaseHeld {
		t.Errorf("red-a after all this: %+v, %v; want it still holding", st, err)
	}
}

// redPut sends an unconditional PUT the way RedDB's curl does (its default
// form content type), with authorization as the Authorization header (none
// when empty), and returns the status and the error code of a refusal.
func redPut(ctx context.Context, t *testing.T, c *http.Client, objectURL, authorization string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, objectURL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("PUT %s: %v", objectURL, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(raw, &e)
	return resp.StatusCode, e.Error.Code
}

// storedRecord is key's lease record straight from the stack's storage:
// the S3 object decoded, or the DynamoDB item's attributes read as the
// record's fields.
func (d *deployment) storedRecord(ctx context.Context, t *testing.T, key string) lease.Record {
	t.Helper()
	var raw []byte
	switch d.storage {
	case "s3":
		b, ok := d.object(ctx, t, key)
		if !ok {
			t.Fatalf("no lease object for %s", key)
		}
		raw = b
	case "dynamodb":
		raw = d.itemJSON(ctx, t, key)
	}
	rec, err := lease.DecodeRecord(raw)
	if err != nil {
		t.Fatalf("stored record of %s %q: %v", key, raw, err)
	}
	return rec
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
