package s3

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// The fake's object-store operations, beside its lease-store ones
// (fake_test.go): HEAD, DELETE and multipart uploads, with S3's
// conditional semantics on DeleteObject and CompleteMultipartUpload.

var _ ObjectsAPI = (*fakeS3)(nil)

type fakeUpload struct {
	key   string
	parts map[int32][]byte
}

func (f *fakeS3) HeadObject(ctx context.Context, in *awss3.HeadObjectInput, _ ...func(*awss3.Options)) (*awss3.HeadObjectOutput, error) {
	if err := f.Begin("HeadObject"); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	obj, ok := f.objects[aws.ToString(in.Key)]
	if !ok {
		return nil, s3Error("HeadObject", http.StatusNotFound, "NotFound")
	}
	return &awss3.HeadObjectOutput{ETag: aws.String(obj.etag), ContentLength: aws.Int64(int64(len(obj.data)))}, nil
}

func (f *fakeS3) DeleteObject(ctx context.Context, in *awss3.DeleteObjectInput, _ ...func(*awss3.Options)) (*awss3.DeleteObjectOutput, error) {
	if err := f.Begin("DeleteObject"); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	key := aws.ToString(in.Key)
	cur, exists := f.objects[key]
	if in.IfMatch != nil {
		if !exists {
			return nil, s3Error("DeleteObject", http.StatusNotFound, "NoSuchKey")
		}
		if aws.ToString(in.IfMatch) != cur.etag {
			return nil, s3Error("DeleteObject", http.StatusPreconditionFailed, "PreconditionFailed")
		}
	}
	delete(f.objects, key)
	f.commits[key]++
	return &awss3.DeleteObjectOutput{}, nil
}

func (f *fakeS3) CreateMultipartUpload(ctx context.Context, in *awss3.CreateMultipartUploadInput, _ ...func(*awss3.Options)) (*awss3.CreateMultipartUploadOutput, error) {
	if err := f.Begin("CreateMultipartUpload"); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.uploads == nil {
		f.uploads = map[string]*fakeUpload{}
	}
	f.uploadSeq++
	id := "upload-" + strconv.Itoa(f.uploadSeq)
	f.uploads[id] = &fakeUpload{key: aws.ToString(in.Key), parts: map[int32][]byte{}}
	return &awss3.CreateMultipartUploadOutput{UploadId: aws.String(id)}, nil
}

func (f *fakeS3) UploadPart(ctx context.Context, in *awss3.UploadPartInput, _ ...func(*awss3.Options)) (*awss3.UploadPartOutput, error) {
	if err := f.Begin("UploadPart"); err != nil {
		return nil, err
	}
	if f.discardParts {
		// The benchmark's fake keeps no bytes and allocates none: the
		// part's ETag is its MD5, computed as it streams by.
		h := md5.New()
		if _, err := io.Copy(h, in.Body); err != nil {
			return nil, err
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if u, ok := f.uploads[aws.ToString(in.UploadId)]; ok {
			u.parts[aws.ToInt32(in.PartNumber)] = nil
		}
		return &awss3.UploadPartOutput{ETag: aws.String(`"` + hex.EncodeToString(h.Sum(nil)) + `"`)}, nil
	}
	data, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.uploads[aws.ToString(in.UploadId)]
	if !ok || u.key != aws.ToString(in.Key) {
		return nil, s3Error("UploadPart", http.StatusNotFound, "NoSuchUpload")
	}
	u.parts[aws.ToInt32(in.PartNumber)] = data
	sum := md5.Sum(data)
	return &awss3.UploadPartOutput{ETag: aws.String(`"` + hex.EncodeToString(sum[:]) + `"`)}, nil
}

func (f *fakeS3) CompleteMultipartUpload(ctx context.Context, in *awss3.CompleteMultipartUploadInput, _ ...func(*awss3.Options)) (*awss3.CompleteMultipartUploadOutput, error) {
	if err := f.Begin("CompleteMultipartUpload"); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := aws.ToString(in.UploadId)
	u, ok := f.uploads[id]
	if !ok {
		return nil, s3Error("CompleteMultipartUpload", http.StatusNotFound, "NoSuchUpload")
	}
	key := aws.ToString(in.Key)
	cur, exists := f.objects[key]
	switch {
	case in.IfNoneMatch != nil && exists:
		return nil, s3Error("CompleteMultipartUpload", http.StatusPreconditionFailed, "PreconditionFailed")
	case in.IfMatch != nil && !exists:
		return nil, s3Error("CompleteMultipartUpload", http.StatusNotFound, "NoSuchKey")
	case in.IfMatch != nil && aws.ToString(in.IfMatch) != cur.etag:
		return nil, s3Error("CompleteMultipartUpload", http.StatusPreconditionFailed, "PreconditionFailed")
	}
	var body bytes.Buffer
	var sums []byte
	numbers := make([]int32, 0, len(in.MultipartUpload.Parts))
	for _, p := range in.MultipartUpload.Parts {
		numbers = append(numbers, aws.ToInt32(p.PartNumber))
	}
	if !slices.IsSorted(numbers) {
		return nil, s3Error("CompleteMultipartUpload", http.StatusBadRequest, "InvalidPartOrder")
	}
	for _, n := range numbers {
		data, ok := u.parts[n]
		if !ok {
			return nil, s3Error("CompleteMultipartUpload", http.StatusBadRequest, "InvalidPart")
		}
		body.Write(data)
		sum := md5.Sum(data)
		sums = append(sums, sum[:]...)
	}
	delete(f.uploads, id)
	sum := md5.Sum(sums)
	etag := fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(sum[:]), len(numbers))
	f.objects[key] = fakeObject{data: body.Bytes(), etag: etag}
	f.commits[key]++
	return &awss3.CompleteMultipartUploadOutput{ETag: aws.String(etag)}, nil
}

func (f *fakeS3) AbortMultipartUpload(_ context.Context, in *awss3.AbortMultipartUploadInput, _ ...func(*awss3.Options)) (*awss3.AbortMultipartUploadOutput, error) {
	if err := f.Begin("AbortMultipartUpload"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.uploads, aws.ToString(in.UploadId))
	f.aborts++
	return &awss3.AbortMultipartUploadOutput{}, nil
}

// openUploads is the number of multipart uploads neither completed nor
// aborted.
func (f *fakeS3) openUploads() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.uploads)
}
