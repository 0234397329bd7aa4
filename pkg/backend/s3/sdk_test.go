package s3

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/redlease/redlease/pkg/lease"
)

// These tests put the real SDK client between the store and a scripted HTTP
// server on 127.0.0.1, so that the error shapes the fake produces are
// checked against what the SDK really returns for S3's XML errors, and the
// headers are checked on the wire.

type reply struct {
	status int
	code   string // S3 error code for the XML body; empty for none
	etag   string
	body   string
}

type seenRequest struct {
	method, path string
	header       http.Header
	body         []byte
}

type scriptedS3 struct {
	t       *testing.T
	mu      sync.Mutex
	replies []reply
	seen    []seenRequest
}

func (s *scriptedS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.seen = append(s.seen, seenRequest{method: r.Method, path: r.URL.Path, header: r.Header.Clone(), body: body})
	if len(s.replies) == 0 {
		s.mu.Unlock()
		s.t.Errorf("unexpected request %s %s", r.Method, r.URL)
		w.WriteHeader(http.StatusTeapot)
		return
	}
	rep := s.replies[0]
	s.replies = s.replies[1:]
	s.mu.Unlock()
	w.Header().Set("x-amz-request-id", "req-1")
	if rep.etag != "" {
		w.Header().Set("ETag", rep.etag)
	}
	if rep.code != "" {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(rep.status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>scripted</Message><RequestId>req-1</RequestId></Error>`, rep.code)
		return
	}
	w.WriteHeader(rep.status)
	io.WriteString(w, rep.body)
}

func (s *scriptedS3) requests() []seenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seenRequest(nil), s.seen...)
}

// sdkClient builds a client the way the entry points do (LoadDefaultConfig,
// so the SDK's default checksum behaviour is in force) without reading the
// machine's AWS files, with the SDK's own retries off so each scripted reply
// is one attempt.
func sdkClient(t *testing.T, endpoint string) *awss3.Client {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
		config.WithRetryMaxAttempts(1),
	)
	if err != nil {
		t.Fatal(err)
	}
	return NewClient(cfg, true, func(o *awss3.Options) { o.BaseEndpoint = aws.String(endpoint) })
}

func newScripted(t *testing.T, opts Options, replies ...reply) (*Store, *scriptedS3) {
	t.Helper()
	script := &scriptedS3{t: t, replies: replies}
	srv := httptest.NewServer(script)
	t.Cleanup(srv.Close)
	if opts.ConflictBackoff == 0 {
		opts.ConflictBackoff = 1
	}
	s, err := New(sdkClient(t, srv.URL), "bkt", opts)
	if err != nil {
		t.Fatal(err)
	}
	return s, script
}

func crc32Header(b []byte) string {
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc32.ChecksumIEEE(b))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func TestSDKWireFormat(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rec := record("clusters/dev/data.rdb", "reddb-0-1", 1)
	body := lease.EncodeRecord(rec)
	s, script := newScripted(t, Options{},
		reply{status: 200, etag: `"e1"`},
		reply{status: 200, etag: `"e2"`},
		reply{status: 200, etag: `"e2"`, body: string(body)},
	)
	v1, err := s.Create(ctx, rec)
	if err != nil || v1 != `"e1"` {
		t.Fatalf("Create = %q, %v; want the quoted ETag \"e1\"", v1, err)
	}
	if v2, err := s.Replace(ctx, rec, v1); err != nil || v2 != `"e2"` {
		t.Fatalf("Replace = %q, %v; want \"e2\"", v2, err)
	}
	got, err := s.Load(ctx, rec.DatabaseKey)
	if err != nil || got.Version != `"e2"` || got.Record != rec {
		t.Fatalf("Load = %+v, %v; want %+v at \"e2\"", got, err, rec)
	}

	reqs := script.requests()
	const path = "/bkt/leases/clusters/dev/data.rdb.lease.json"
	for i, want := range []struct{ method, ifNoneMatch, ifMatch string }{
		{"PUT", "*", ""}, {"PUT", "", `"e1"`}, {"GET", "", ""},
	} {
		r := reqs[i]
		if r.method != want.method || r.path != path {
			t.Errorf("request %d: %s %s, want %s %s", i, r.method, r.path, want.method, path)
		}
		if got := r.header.Get("If-None-Match"); got != want.ifNoneMatch {
			t.Errorf("request %d: If-None-Match %q, want %q", i, got, want.ifNoneMatch)
		}
		if got := r.header.Get("If-Match"); got != want.ifMatch {
			t.Errorf("request %d: If-Match %q, want %q", i, got, want.ifMatch)
		}
		if r.method != "PUT" {
			continue
		}
		if !bytes.Equal(r.body, body) {
			t.Errorf("request %d: body %q, want %q", i, r.body, body)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("request %d: Content-Type %q", i, ct)
		}
		// LoadDefaultConfig's default: a CRC32 of the body. Over plain HTTP
		// (LocalStack) it is a header; over TLS it becomes an aws-chunked
		// trailer, which S3 accepts.
		if got := r.header.Get("X-Amz-Checksum-Crc32"); got != crc32Header(body) {
			t.Errorf("request %d: x-amz-checksum-crc32 %q, want %q", i, got, crc32Header(body))
		}
	}
}

func TestSDKChecksumsCanBeDisabled(t *testing.T) {
	t.Parallel()
	s, script := newScripted(t, Options{DisableRequestChecksums: true}, reply{status: 200, etag: `"e1"`})
	if _, err := s.Create(context.Background(), record("k", "a", 1)); err != nil {
		t.Fatal(err)
	}
	for name := range script.requests()[0].header {
		if len(name) > 15 && http.CanonicalHeaderKey(name[:15]) == "X-Amz-Checksum-" {
			t.Errorf("checksum header %s sent although disabled", name)
		}
	}
}

func TestSDKErrorMapping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		op       string // create, replace, load
		replies  []reply
		want     want
		requests int
	}{
		{"412", "create", []reply{{status: 412, code: "PreconditionFailed"}}, wantPrecondition, 1},
		{"409ThenSuccess", "replace", []reply{{status: 409, code: "ConditionalRequestConflict"}, {status: 200, etag: `"e"`}}, wantOK, 2},
		{"409Persistent", "create", []reply{
			{status: 409, code: "ConditionalRequestConflict"}, {status: 409, code: "ConditionalRequestConflict"},
			{status: 409, code: "ConditionalRequestConflict"}, {status: 409, code: "ConditionalRequestConflict"},
		}, wantPrecondition, 4},
		{"404OnIfMatch", "replace", []reply{{status: 404, code: "NoSuchKey"}}, wantPrecondition, 1},
		{"503SlowDown", "create", []reply{{status: 503, code: "SlowDown"}}, wantUnavailable, 1},
		{"500", "replace", []reply{{status: 500, code: "InternalError"}}, wantUnavailable, 1},
		{"403", "create", []reply{{status: 403, code: "AccessDenied"}}, wantOther, 1},
		{"NoSuchBucket", "create", []reply{{status: 404, code: "NoSuchBucket"}}, wantOther, 1},
		{"LoadNoSuchKey", "load", []reply{{status: 404, code: "NoSuchKey"}}, wantNotFound, 1},
		{"LoadSlowDown", "load", []reply{{status: 503, code: "SlowDown"}}, wantUnavailable, 1},
		{"LoadCorrupt", "load", []reply{{status: 200, etag: `"e"`, body: `{"database_key":"k"}`}}, wantCorrupt, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, script := newScripted(t, Options{}, tc.replies...)
			var err error
			switch tc.op {
			case "create":
				_, err = s.Create(context.Background(), record("k", "a", 1))
			case "replace":
				_, err = s.Replace(context.Background(), record("k", "a", 2), `"e0"`)
			case "load":
				_, err = s.Load(context.Background(), "k")
			}
			tc.want.check(t, err)
			if got := len(script.requests()); got != tc.requests {
				t.Errorf("%d requests, want %d", got, tc.requests)
			}
		})
	}
}

func TestSDKConnectionRefusedIsUnavailable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	s, err := New(sdkClient(t, url), "bkt", Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Create(context.Background(), record("k", "a", 1))
	wantUnavailable.check(t, err)
	_, err = s.Load(context.Background(), "k")
	wantUnavailable.check(t, err)
}

// TestEndpointFromEnvironment checks what the entry points rely on: the
// SDK's config loader sends S3 requests to AWS_ENDPOINT_URL_S3.
func TestEndpointFromEnvironment(t *testing.T) {
	script := &scriptedS3{t: t, replies: []reply{{status: 404, code: "NoSuchKey"}}}
	srv := httptest.NewServer(script)
	defer srv.Close()
	t.Setenv("AWS_ENDPOINT_URL_S3", srv.URL)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithSharedConfigFiles([]string{}), config.WithSharedCredentialsFiles([]string{}))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(NewClient(cfg, true), "bkt", Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Load(context.Background(), "main")
	wantNotFound.check(t, err)
	if reqs := script.requests(); len(reqs) != 1 || reqs[0].path != "/bkt/leases/main.lease.json" {
		t.Fatalf("requests at the env endpoint: %+v, want one GET of /bkt/leases/main.lease.json", reqs)
	}
}
