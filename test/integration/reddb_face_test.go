//go:build integration

package integration

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/redlease/redlease/internal/wire"
	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/api/httpserver"
	s3store "github.com/redlease/redlease/pkg/backend/s3"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/observe"
)

// TestIntegrationRedDBFace serves the RedDB face as the entry points wire
// it (wire.Load, App.Face) on each real backend, the data objects in S3 (the
// lease bucket with s3, the RedDB data bucket beside the DynamoDB table),
// and walks RedDB's requests through it: the lease object, a binary data
// object and one large enough for a multipart upload, a listing, the
// release, and the fence afterwards. The stored objects are read back
// with a plain S3 client: object keys are storage keys.
func TestIntegrationRedDBFace(t *testing.T) {
	skipUnlessEmulators(t)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			cfg := b.config()
			cfg.RedDB.Bucket = os.Getenv("REDLEASE_IT_BUCKET")
			cfg.S3PathStyle = true
			app, err := wire.Load(ctx, cfg, false)
			if err != nil {
				t.Fatal(err)
			}
			app.Auth = api.Open()
			face, err := app.Face(ctx, observe.Discard(), nil, wire.FaceOptions{})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(httpserver.Handler(face))
			t.Cleanup(srv.Close)

			key := uniqueKey("clusters/dev/data.rdb")
			dir := strings.TrimSuffix(key, "data.rdb")
			leaseURL := srv.URL + "/v1/reddb/" + wire.LeasePrefix(cfg) + key + lease.ObjectSuffix
			do := func(method, url string, body []byte, header ...string) *http.Response {
				t.Helper()
				req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i+1 < len(header); i += 2 {
					req.Header.Set(header[i], header[i+1])
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { resp.Body.Close() })
				return resp
			}
			if r := do(http.MethodHead, leaseURL, nil); r.StatusCode != 404 || r.ContentLength != 0 {
				t.Fatalf("HEAD of no lease object: %d, length %d", r.StatusCode, r.ContentLength)
			}
			body := []byte(`{"acquired_at_ms":1,"database_key":"` + key + `","expires_at_ms":60001,"generation":1,"holder_id":"red-a","term":1}`)
			put := do(http.MethodPut, leaseURL, body, "If-None-Match", "*")
			head := do(http.MethodHead, leaseURL, nil)
			if put.StatusCode != 200 || head.Header.Get("ETag") != put.Header.Get("ETag") || head.ContentLength != 0 {
				t.Fatalf("acquire: PUT %d %q, HEAD %d %q", put.StatusCode, put.Header.Get("ETag"), head.StatusCode, head.Header.Get("ETag"))
			}

			small := []byte("\x00\xff\xfe binary page \r\n")
			large := bytes.Repeat([]byte{0xff, 0x00, 0x7f, 0x80}, (9<<20)/4) // over one 8 MiB part: multipart
			for name, data := range map[string][]byte{"data.rdb": small, "snapshots/000000000001-1.snapshot": large} {
				if r := do(http.MethodPut, srv.URL+"/v1/reddb/"+dir+name, data, "Content-Type", "application/x-www-form-urlencoded"); r.StatusCode != 200 {
					b, _ := io.ReadAll(r.Body)
					t.Fatalf("PUT %s: %d %s", name, r.StatusCode, b)
				}
				got := do(http.MethodGet, srv.URL+"/v1/reddb/"+dir+name, nil)
				back, _ := io.ReadAll(got.Body)
				if !bytes.Equal(back, data) {
					t.Fatalf("GET %s: %d bytes back of %d", name, len(back), len(data))
				}
				out, err := s3Client(t).GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(cfg.RedDB.Bucket), Key: aws.String(dir + name)})
				if err != nil {
					t.Fatalf("the data object is not at its own key in the bucket: %v", err)
				}
				stored, _ := io.ReadAll(out.Body)
				out.Body.Close()
				if !bytes.Equal(stored, data) {
					t.Fatalf("stored %s differs", name)
				}
			}
			list := do(http.MethodGet, srv.URL+"/v1/reddb/?list="+dir+"snapshots/", nil)
			if lines, _ := io.ReadAll(list.Body); string(lines) != dir+"snapshots/000000000001-1.snapshot\n" {
				t.Fatalf("listing: %q", lines)
			}

			etag := do(http.MethodHead, leaseURL, nil).Header.Get("ETag")
			if r := do(http.MethodDelete, leaseURL, nil, "If-Match", etag); r.StatusCode != 204 {
				t.Fatalf("release: %d", r.StatusCode)
			}
			if r := do(http.MethodPut, srv.URL+"/v1/reddb/"+dir+"data.rdb", []byte("late")); r.StatusCode != 403 {
				t.Fatalf("data write after the release: %d, want 403", r.StatusCode)
			}
			rec, err := app.Store.Load(ctx, key)
			if err != nil || !rec.Record.Released() || rec.Record.Generation != 1 {
				t.Fatalf("the lease record after the release: %+v, %v", rec.Record, err)
			}
		})
	}
}

func s3Client(t *testing.T) *awss3.Client {
	t.Helper()
	cfg, err := wire.AWSConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s3store.NewClient(cfg, true)
}
