//go:build integration

package s3

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/redlease/redlease/internal/awstest"
	"github.com/redlease/redlease/pkg/objects/objectstest"
)

// itBucket creates a bucket of its own for one test (object keys are
// bucket keys, with no prefix to keep tests apart) and empties and deletes
// it afterwards.
func itBucket(tb testing.TB, client *awss3.Client) string {
	tb.Helper()
	ctx := context.Background()
	name := "redlease-objects-" + strings.ToLower(strings.NewReplacer("_", "-", ".", "-").Replace(awstest.Unique()))
	if len(name) > 63 {
		name = name[:63]
	}
	if _, err := client.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		tb.Fatalf("create bucket %s: %v", name, err)
	}
	tb.Cleanup(func() {
		pages := awss3.NewListObjectsV2Paginator(client, &awss3.ListObjectsV2Input{Bucket: aws.String(name)})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				tb.Logf("cleanup of %s: %v", name, err)
				return
			}
			for _, obj := range page.Contents {
				_, _ = client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(name), Key: obj.Key})
			}
		}
		if _, err := client.DeleteBucket(ctx, &awss3.DeleteBucketInput{Bucket: aws.String(name)}); err != nil {
			tb.Logf("delete bucket %s: %v", name, err)
		}
	})
	return name
}

// The object store's conformance against the emulator, with S3's minimum
// part size, so the large object is a real three-part multipart upload.
func TestIntegrationObjectsConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts ObjectsOptions
	}{
		{"DefaultChecksums", ObjectsOptions{}},
		{"ChecksumsDisabled", ObjectsOptions{DisableRequestChecksums: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client, _ := itClient(t, nil)
			objectstest.Run(t, func(t *testing.T) objectstest.Store {
				opts := tc.opts
				opts.Bucket, opts.Reserved, opts.PartSize = itBucket(t, client), DefaultPrefix, MinPartSize
				s, err := NewObjects(client, opts)
				if err != nil {
					t.Fatal(err)
				}
				return s
			}, objectstest.Options{Reserved: DefaultPrefix, LargeSize: 2*MinPartSize + 12345,
				// LocalStack 4.14 answers DeleteObject If-Match with 501
				// NotImplemented; S3 supports it. RedDB never sends one
				// (its only conditional delete is the lease object's,
				// which the lease service turns into a write).
				NoConditionalDelete: true})
		})
	}
}
