package client_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/client"
	"github.com/redlease/redlease/pkg/lease"
)

// verifySigV4 recomputes, on the receiving side, the signature a request
// should carry: it rebuilds the request from what arrived (method, the raw
// request URI, the headers the signature names, the body), signs it with
// the SDK's v4 signer at the time in X-Amz-Date, and compares the
// Authorization headers. This is what API Gateway checks.
func verifySigV4(r *http.Request, body []byte, creds aws.Credentials, region string) error {
	got := r.Header.Get("Authorization")
	if got == "" {
		return fmt.Errorf("no Authorization header")
	}
	_, signedList, ok := strings.Cut(got, "SignedHeaders=")
	if !ok {
		return fmt.Errorf("no SignedHeaders in %q", got)
	}
	signedList, _, _ = strings.Cut(signedList, ",")
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return fmt.Errorf("X-Amz-Date: %w", err)
	}
	req, err := http.NewRequest(r.Method, "http://"+r.Host+r.RequestURI, bytes.NewReader(body))
	if err != nil {
		return err
	}
	// The signer signs content-length whenever ContentLength > 0; follow
	// the signed list instead (curl, for one, does not sign it).
	req.ContentLength = 0
	for _, h := range strings.Split(signedList, ";") {
		switch h {
		case "host": // the signer takes it from req.Host
		case "content-length":
			req.ContentLength = int64(len(body))
		default:
			if vs := r.Header.Values(h); len(vs) > 0 {
				req.Header[http.CanonicalHeaderKey(h)] = vs
			}
		}
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "execute-api", region, at); err != nil {
		return err
	}
	if want := req.Header.Get("Authorization"); want != got {
		return fmt.Errorf("signature mismatch:\n got  %s\n want %s", got, want)
	}
	return nil
}

// signedServer serves the contract and verifies every request's signature
// with creds, recording the failures.
type signedServer struct {
	srv      *httptest.Server
	mu       sync.Mutex
	verified int
	failures []string
	headers  []http.Header
}

func newSignedServer(t *testing.T, creds aws.Credentials, region string) *signedServer {
	t.Helper()
	svc, err := lease.New(lease.Config{Store: memory.New(memory.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	inner := newContractHandler(svc)
	s := &signedServer{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		err := verifySigV4(r, body, creds, region)
		s.mu.Lock()
		s.headers = append(s.headers, r.Header.Clone())
		if err != nil {
			s.failures = append(s.failures, r.Method+" "+r.RequestURI+": "+err.Error())
		} else {
			s.verified++
		}
		s.mu.Unlock()
		if err != nil {
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"message":"The request signature we calculated does not match the signature you provided."}`)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// exercise calls every operation, with a key that needs escaping in the
// read route's path.
func exercise(t *testing.T, c *client.Client) error {
	t.Helper()
	ctx := context.Background()
	const k = "clusters/dev/data set+é.rdb"
	g, err := c.Acquire(ctx, client.AcquireRequest{DatabaseKey: k, HolderID: "reddb-0-1", TTL: time.Minute, Term: 2})
	if err != nil {
		return err
	}
	if _, err := c.Refresh(ctx, client.RefreshRequest{DatabaseKey: k, HolderID: "reddb-0-1", Generation: g.Lease.Generation, TTL: time.Minute, CurrentTerm: 2, Term: 2}); err != nil {
		return err
	}
	if _, err := c.Get(ctx, k); err != nil {
		return err
	}
	_, err = c.Release(ctx, client.ReleaseRequest{DatabaseKey: k, HolderID: "reddb-0-1", Generation: g.Lease.Generation})
	return err
}

func TestSigV4SignatureVerifies(t *testing.T) {
	t.Parallel()
	creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", SessionToken: "session-token-1"}
	s := newSignedServer(t, creds, "eu-west-1")
	c, err := client.New(client.Options{
		Endpoint:    s.srv.URL,
		Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken),
		Region:      "eu-west-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := exercise(t, c); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failures) > 0 || s.verified != 4 {
		t.Fatalf("verified %d of 4; failures: %v", s.verified, s.failures)
	}
	for _, h := range s.headers {
		auth := h.Get("Authorization")
		if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") || !strings.Contains(auth, "/eu-west-1/execute-api/aws4_request") {
			t.Errorf("Authorization %q: want AKIDEXAMPLE's key scoped to eu-west-1/execute-api", auth)
		}
		if got := h.Get("X-Amz-Security-Token"); got != "session-token-1" {
			t.Errorf("X-Amz-Security-Token: got %q, want the session token", got)
		}
	}
}

// TestSigV4VerifierCanFail keeps the check above honest: a client with
// another secret key must not pass it.
func TestSigV4VerifierCanFail(t *testing.T) {
	t.Parallel()
	s := newSignedServer(t, aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "right"}, "eu-west-1")
	c, err := client.New(client.Options{
		Endpoint:    s.srv.URL,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wrong", ""),
		Region:      "eu-west-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	err = exercise(t, c)
	if err == nil || !strings.Contains(err.Error(), "signature") {
		t.Fatalf("got %v, want the 403 signature refusal", err)
	}
	if !errors.Is(err, client.ErrUnauthorized) {
		t.Errorf("got %v, want ErrUnauthorized", err)
	}
}

// TestNewAWSUsesTheDefaultCredentialChain signs with credentials that only
// the standard chain (here the environment) provides.
func TestNewAWSUsesTheDefaultCredentialChain(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENV")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret-from-env")
	t.Setenv("AWS_SESSION_TOKEN", "token-from-env")
	t.Setenv("AWS_REGION", "ap-southeast-2")
	t.Setenv("AWS_PROFILE", "")
	s := newSignedServer(t, aws.Credentials{AccessKeyID: "AKIDFROMENV", SecretAccessKey: "secret-from-env", SessionToken: "token-from-env"}, "ap-southeast-2")
	c, err := client.NewAWS(context.Background(), client.Options{Endpoint: s.srv.URL}, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Signed() {
		t.Fatal("NewAWS returned an unsigned client")
	}
	if err := exercise(t, c); err != nil {
		t.Fatal(err)
	}
	if len(s.failures) > 0 {
		t.Fatal(s.failures)
	}
}

func TestRegionFromEndpoint(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ endpoint, want string }{
		{"https://abc123.execute-api.eu-west-1.amazonaws.com/prod", "eu-west-1"},
		{"https://abc123.execute-api.cn-north-1.amazonaws.com.cn", "cn-north-1"},
		{"https://leases.example.com", ""},
		{"http://127.0.0.1:8080", ""},
	} {
		if got := client.RegionFromEndpoint(tc.endpoint); got != tc.want {
			t.Errorf("RegionFromEndpoint(%q) = %q, want %q", tc.endpoint, got, tc.want)
		}
	}
	if _, err := client.New(client.Options{Endpoint: "https://leases.example.com", Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")}); err == nil {
		t.Error("a signing client without a region was accepted")
	}
}
