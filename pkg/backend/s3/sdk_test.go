package s3

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/redlease/redlease/internal/awstest"
	"github.com/redlease/redlease/pkg/backend/backendtest"
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

// http renders the reply as S3 would send it.
func (r reply) http() awstest.Reply {
	h := http.Header{}
	h.Set("x-amz-request-id", "req-1")
	if r.etag != "" {
		h.Set("ETag", r.etag)
	}
	if r.code == "" {
		return awstest.Reply{Status: r.status, Header: h, Body: r.body}
	}
	h.Set("Content-Type", "application/xml")
	return awstest.Reply{Status: r.status, Header: h, Body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>` + r.code +
		`</Code><Message>scripted</Message><RequestId>req-1</RequestId></Error>`}
}

// sdkClient builds a client the way the entry points do (LoadDefaultConfig,
// so the SDK's default checksum behaviour is in force) without reading the
// machine's AWS files, with the SDK's own retries off so each scripted reply
// is one attempt.
func sdkClient(t *testing.T, endpoint string) *awss3.Client {
	t.Helper()
	return NewClient(awstest.Config(t, "us-east-1", awstest.NoRetries), true, func(o *awss3.Options) { o.BaseEndpoint = aws.String(endpoint) })
}

func newScripted(t *testing.T, opts Options, replies ...reply) (*Store, *awstest.Script) {
	t.Helper()
	answers := make([]awstest.Reply, len(replies))
	for i, r := range replies {
		answers[i] = r.http()
	}
	script, url := awstest.Serve(t, answers...)
	if opts.ConflictBackoff == 0 {
		opts.ConflictBackoff = 1
	}
	opts.Bucket = "bkt"
	s, err := New(sdkClient(t, url), opts)
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

	reqs := script.Requests()
	const path = "/bkt/leases/clusters/dev/data.rdb.lease.json"
	for i, want := range []struct{ method, ifNoneMatch, ifMatch string }{
		{"PUT", "*", ""}, {"PUT", "", `"e1"`}, {"GET", "", ""},
	} {
		r := reqs[i]
		if r.Method != want.method || r.Path != path {
			t.Errorf("request %d: %s %s, want %s %s", i, r.Method, r.Path, want.method, path)
		}
		if got := r.Header.Get("If-None-Match"); got != want.ifNoneMatch {
			t.Errorf("request %d: If-None-Match %q, want %q", i, got, want.ifNoneMatch)
		}
		if got := r.Header.Get("If-Match"); got != want.ifMatch {
			t.Errorf("request %d: If-Match %q, want %q", i, got, want.ifMatch)
		}
		if r.Method != "PUT" {
			continue
		}
		if !bytes.Equal(r.Body, body) {
			t.Errorf("request %d: body %q, want %q", i, r.Body, body)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("request %d: Content-Type %q", i, ct)
		}
		// LoadDefaultConfig's default: a CRC32 of the body. Over plain HTTP
		// (LocalStack) it is a header; over TLS it becomes an aws-chunked
		// trailer, which S3 accepts.
		if got := r.Header.Get("X-Amz-Checksum-Crc32"); got != crc32Header(body) {
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
	for name := range script.Requests()[0].Header {
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
		want     backendtest.Want
		requests int
	}{
		{"412", "create", []reply{{status: 412, code: "PreconditionFailed"}}, backendtest.WantPrecondition, 1},
		{"409ThenSuccess", "replace", []reply{{status: 409, code: "ConditionalRequestConflict"}, {status: 200, etag: `"e"`}}, backendtest.WantOK, 2},
		{"409Persistent", "create", []reply{
			{status: 409, code: "ConditionalRequestConflict"}, {status: 409, code: "ConditionalRequestConflict"},
			{status: 409, code: "ConditionalRequestConflict"}, {status: 409, code: "ConditionalRequestConflict"},
		}, backendtest.WantPrecondition, 4},
		{"404OnIfMatch", "replace", []reply{{status: 404, code: "NoSuchKey"}}, backendtest.WantPrecondition, 1},
		{"503SlowDown", "create", []reply{{status: 503, code: "SlowDown"}}, backendtest.WantUnavailable, 1},
		{"500", "replace", []reply{{status: 500, code: "InternalError"}}, backendtest.WantUnavailable, 1},
		{"403", "create", []reply{{status: 403, code: "AccessDenied"}}, backendtest.WantOther, 1},
		{"NoSuchBucket", "create", []reply{{status: 404, code: "NoSuchBucket"}}, backendtest.WantOther, 1},
		{"LoadNoSuchKey", "load", []reply{{status: 404, code: "NoSuchKey"}}, backendtest.WantNotFound, 1},
		{"LoadSlowDown", "load", []reply{{status: 503, code: "SlowDown"}}, backendtest.WantUnavailable, 1},
		{"LoadCorrupt", "load", []reply{{status: 200, etag: `"e"`, body: `{"database_key":"k"}`}}, backendtest.WantCorrupt, 1},
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
			tc.want.Check(t, err)
			if got := len(script.Requests()); got != tc.requests {
				t.Errorf("%d requests, want %d", got, tc.requests)
			}
		})
	}
}

func TestSDKConnectionRefusedIsUnavailable(t *testing.T) {
	t.Parallel()
	s, err := New(sdkClient(t, awstest.RefusingURL(t)), Options{Bucket: "bkt"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Create(context.Background(), record("k", "a", 1))
	backendtest.WantUnavailable.Check(t, err)
	_, err = s.Load(context.Background(), "k")
	backendtest.WantUnavailable.Check(t, err)
}

// TestEndpointFromEnvironment checks what the entry points rely on: the
// SDK's config loader sends S3 requests to AWS_ENDPOINT_URL_S3.
func TestEndpointFromEnvironment(t *testing.T) {
	script, url := awstest.Serve(t, reply{status: 404, code: "NoSuchKey"}.http())
	s, err := New(NewClient(awstest.ConfigFromEnvironment(t, "AWS_ENDPOINT_URL_S3", url), true), Options{Bucket: "bkt"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Load(context.Background(), "main")
	backendtest.WantNotFound.Check(t, err)
	if reqs := script.Requests(); len(reqs) != 1 || reqs[0].Path != "/bkt/leases/main.lease.json" {
		t.Fatalf("requests at the env endpoint: %+v, want one GET of /bkt/leases/main.lease.json", reqs)
	}
}
