//go:build integration

package s3

// Integration tests against a real S3 API (LocalStack in CI):
//
//	bash localstack/with-emulators.sh env GOWORK=off \
//	    go test -tags integration -race -count=1 ./pkg/backend/s3/
//
// They need REDLEASE_IT=1, REDLEASE_IT_S3_ENDPOINT, REDLEASE_IT_BUCKET (an
// existing bucket) and AWS_REGION; credentials are test/test. Every store
// gets its own prefix under redlease-it/<run>/, deleted afterwards.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/redlease/redlease/internal/awstest"
	"github.com/redlease/redlease/pkg/backend/backendtest"
	"github.com/redlease/redlease/pkg/lease"
)

// itClient is a client for the harness's S3 endpoint, built as the entry
// points build theirs, and the bucket; calls, when not nil, counts its
// requests.
func itClient(tb testing.TB, calls *awstest.Calls) (*awss3.Client, string) {
	em := awstest.Emulated(tb, "REDLEASE_IT_S3_ENDPOINT", "REDLEASE_IT_BUCKET", calls)
	return NewClient(em.Config, true, func(o *awss3.Options) { o.BaseEndpoint = aws.String(em.Endpoint) }), em.Resource
}

// itPrefix is a fresh prefix; its objects are deleted when tb ends.
func itPrefix(tb testing.TB, client *awss3.Client, bucket string) string {
	prefix := "redlease-it/" + awstest.Unique() + "/leases/"
	tb.Cleanup(func() {
		ctx := context.Background()
		pages := awss3.NewListObjectsV2Paginator(client, &awss3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				tb.Logf("cleanup of %s: %v", prefix, err)
				return
			}
			for _, obj := range page.Contents {
				if _, err := client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(bucket), Key: obj.Key}); err != nil {
					tb.Logf("cleanup of %s: %v", aws.ToString(obj.Key), err)
				}
			}
		}
	})
	return prefix
}

// itStore is a store on a fresh prefix; calls, when not nil, counts its
// client's requests.
func itStore(tb testing.TB, opts Options, calls *awstest.Calls) (*Store, *awss3.Client, string) {
	client, bucket := itClient(tb, calls)
	opts.Bucket, opts.Prefix = bucket, itPrefix(tb, client, bucket)
	s, err := New(client, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return s, client, bucket
}

func TestIntegrationConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"DefaultChecksums", Options{}},
		{"ChecksumsDisabled", Options{DisableRequestChecksums: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			backendtest.Run(t, func(t *testing.T) lease.ListingStore {
				s, _, _ := itStore(t, tc.opts, nil)
				return s
			}, backendtest.Options{})
		})
	}
}

// TestIntegrationStoredObject reads the object back without the store: the
// exact bytes RedDB reads, the content type, the ETag as the version.
func TestIntegrationStoredObject(t *testing.T) {
	ctx := context.Background()
	s, client, bucket := itStore(t, Options{}, nil)
	rec := record("clusters/dev/data.rdb", "reddb-0-1", 1)
	v, err := s.Create(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	out, err := client.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(s.ObjectKey(rec.DatabaseKey))})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(body, lease.EncodeRecord(rec)) {
		t.Errorf("stored %q, want %q", body, lease.EncodeRecord(rec))
	}
	if ct := aws.ToString(out.ContentType); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	if aws.ToString(out.ETag) != string(v) {
		t.Errorf("ETag %s, Create returned %s", aws.ToString(out.ETag), v)
	}
}

// TestIntegrationReplaceMissingIsPrecondition: what the emulator answers to
// If-Match on a missing object (S3 says 404 NoSuchKey) still maps right.
func TestIntegrationReplaceMissingIsPrecondition(t *testing.T) {
	s, _, _ := itStore(t, Options{}, nil)
	_, err := s.Replace(context.Background(), record("missing", "a", 1), `"d41d8cd98f00b204e9800998ecf8427e"`)
	backendtest.WantPrecondition.Check(t, err)
}

func TestIntegrationListManyKeys(t *testing.T) {
	ctx := context.Background()
	s, _, _ := itStore(t, Options{}, nil)
	const n = 150
	for i := range n {
		if _, err := s.Create(ctx, record(fmt.Sprintf("many/%03d", i), "h", 1)); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	got, pages := listAll(t, s, 1000)
	t.Logf("listed %d records in %d page(s) in %v", len(got), pages, time.Since(start))
	if len(got) != n {
		t.Fatalf("listed %d records, want %d", len(got), n)
	}
}

func TestIntegrationServiceCallCounts(t *testing.T) {
	var calls awstest.Calls
	s, _, _ := itStore(t, Options{}, &calls)
	backendtest.CheckServiceCallCounts(t, s, calls.Counter(t, "GetObject", "PutObject"), "clusters/dev/data.rdb", staleRefresh)
}

// BenchmarkStoreOps measures acquire, refresh and release through
// lease.Service against the emulator, for the latency table.
func BenchmarkStoreOps(b *testing.B) {
	var calls awstest.Calls
	s, _, _ := itStore(b, Options{}, &calls)
	backendtest.BenchmarkService(b, s, calls.Counter(b, "GetObject", "PutObject"))
}

// outcomeAPI tallies what S3 answered to each PutObject.
type outcomeAPI struct {
	API
	mu    sync.Mutex
	tally map[string]int
}

func (o *outcomeAPI) PutObject(ctx context.Context, in *awss3.PutObjectInput, f ...func(*awss3.Options)) (*awss3.PutObjectOutput, error) {
	out, err := o.API.PutObject(ctx, in, f...)
	name := "ok"
	if err != nil {
		name = [...]string{"other", "404", "412", "409", "unavailable"}[classify(err)]
	}
	o.mu.Lock()
	o.tally[name]++
	o.mu.Unlock()
	return out, err
}

// TestIntegrationRaceAnswers records how the emulator answers racing
// conditional writes (412 only, or 409 too), so the 409 path's relevance to
// the emulator is known; correctness is the conformance suite's job.
func TestIntegrationRaceAnswers(t *testing.T) {
	client, bucket := itClient(t, nil)
	api := &outcomeAPI{API: client, tally: map[string]int{}}
	s, err := New(api, Options{Bucket: bucket, Prefix: itPrefix(t, client, bucket)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for round := range 10 {
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Go(func() {
				_, _ = s.Create(ctx, record(fmt.Sprintf("race/%d", round), fmt.Sprintf("r%d", i), 1))
			})
		}
		wg.Wait()
	}
	t.Logf("PutObject answers to 10 rounds of 16 racing creates: %v", api.tally)
	if api.tally["ok"] != 10 {
		t.Errorf("%d creates won, want 10 (one per round)", api.tally["ok"])
	}
}
