package s3

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/redlease/redlease/internal/awstest"
)

// fakeS3 is an in-process bucket with S3's conditional-write semantics:
// If-None-Match: * fails with 412 when the object exists, If-Match fails with
// 412 on another ETag and 404 when the object is missing, and the check and
// the write happen atomically, so the conformance suite's races are real
// races. ETags are the quoted MD5 of the body, as S3 gives for single-part
// uploads (so two identical bodies share one ETag, as on S3).
//
// Like S3, a conditional write that overlapped a concurrent write which
// committed first may be answered 409 ConditionalRequestConflict instead of
// 412 (with probability conflictRate). The first writer to commit is never
// refused that way, so every race still has a winner.
type fakeS3 struct {
	awstest.Calls // counts every operation; FailNext scripts failures
	bucket        string
	conflictRate  float64

	mu      sync.Mutex
	objects map[string]fakeObject
	commits map[string]uint64 // writes committed per key, to detect overlap
	puts    []*awss3.PutObjectInput
	bodies  [][]byte // the body of each entry of puts
	gets    []*awss3.GetObjectInput
	lists   []*awss3.ListObjectsV2Input
	// conflicts counts the 409s the overlap model produced.
	conflicts int
	// afterList runs (without the lock) after ListObjectsV2 computed its
	// answer, to change the bucket between a listing and its GetObjects.
	afterList func()
	// onGet runs (without the lock) at the start of every GetObject.
	onGet func()
	// Multipart uploads (objects_fake_test.go).
	uploads      map[string]*fakeUpload
	uploadSeq    int
	aborts       int
	discardParts bool
}

type fakeObject struct {
	data []byte
	etag string
}

func newFakeS3(bucket string) *fakeS3 {
	return &fakeS3{
		bucket:  bucket,
		objects: make(map[string]fakeObject),
		commits: make(map[string]uint64),
	}
}

func (f *fakeS3) putRaw(key string, data []byte) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.commitLocked(key, data)
}

func (f *fakeS3) remove(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.objects, key)
}

func (f *fakeS3) commitLocked(key string, data []byte) string {
	sum := md5.Sum(data)
	etag := `"` + hex.EncodeToString(sum[:]) + `"`
	f.objects[key] = fakeObject{data: slices.Clone(data), etag: etag}
	f.commits[key]++
	return etag
}

func (f *fakeS3) GetObject(ctx context.Context, in *awss3.GetObjectInput, _ ...func(*awss3.Options)) (*awss3.GetObjectOutput, error) {
	if err := f.Begin("GetObject"); err != nil {
		return nil, err
	}
	if hook := f.onGet; hook != nil {
		hook()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gets = append(f.gets, in)
	if aws.ToString(in.Bucket) != f.bucket {
		return nil, s3Error("GetObject", http.StatusNotFound, "NoSuchBucket")
	}
	obj, ok := f.objects[aws.ToString(in.Key)]
	if !ok {
		return nil, s3Error("GetObject", http.StatusNotFound, "NoSuchKey")
	}
	return &awss3.GetObjectOutput{
		Body:          io.NopCloser(bytes.NewReader(slices.Clone(obj.data))),
		ETag:          aws.String(obj.etag),
		ContentLength: aws.Int64(int64(len(obj.data))),
		ContentType:   aws.String("application/json"),
	}, nil
}

func (f *fakeS3) PutObject(ctx context.Context, in *awss3.PutObjectInput, _ ...func(*awss3.Options)) (*awss3.PutObjectOutput, error) {
	if err := f.Begin("PutObject"); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	if in.IfNoneMatch != nil && aws.ToString(in.IfNoneMatch) != "*" {
		return nil, s3Error("PutObject", http.StatusNotImplemented, "NotImplemented")
	}
	key := aws.ToString(in.Key)
	f.mu.Lock()
	f.puts = append(f.puts, in)
	f.bodies = append(f.bodies, data)
	started := f.commits[key]
	f.mu.Unlock()
	// The upload is in flight: let other writers run.
	runtime.Gosched()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if aws.ToString(in.Bucket) != f.bucket {
		return nil, s3Error("PutObject", http.StatusNotFound, "NoSuchBucket")
	}
	cur, exists := f.objects[key]
	var refusal error
	switch {
	case in.IfNoneMatch != nil && exists:
		refusal = s3Error("PutObject", http.StatusPreconditionFailed, "PreconditionFailed")
	case in.IfMatch != nil && !exists:
		refusal = s3Error("PutObject", http.StatusNotFound, "NoSuchKey")
	case in.IfMatch != nil && aws.ToString(in.IfMatch) != cur.etag:
		refusal = s3Error("PutObject", http.StatusPreconditionFailed, "PreconditionFailed")
	}
	if refusal != nil {
		overlapped := f.commits[key] != started
		if overlapped && (in.IfMatch != nil || in.IfNoneMatch != nil) && rand.Float64() < f.conflictRate {
			f.conflicts++
			return nil, s3Error("PutObject", http.StatusConflict, "ConditionalRequestConflict")
		}
		return nil, refusal
	}
	return &awss3.PutObjectOutput{ETag: aws.String(f.commitLocked(key, data))}, nil
}

func (f *fakeS3) ListObjectsV2(ctx context.Context, in *awss3.ListObjectsV2Input, _ ...func(*awss3.Options)) (*awss3.ListObjectsV2Output, error) {
	if err := f.Begin("ListObjectsV2"); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out, err := f.list(in)
	if err != nil {
		return nil, err
	}
	if hook := f.afterList; hook != nil {
		hook()
	}
	return out, nil
}

func (f *fakeS3) list(in *awss3.ListObjectsV2Input) (*awss3.ListObjectsV2Output, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists = append(f.lists, in)
	if aws.ToString(in.Bucket) != f.bucket {
		return nil, s3Error("ListObjectsV2", http.StatusNotFound, "NoSuchBucket")
	}
	after := aws.ToString(in.StartAfter)
	if tok := aws.ToString(in.ContinuationToken); tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil {
			return nil, s3Error("ListObjectsV2", http.StatusBadRequest, "InvalidArgument")
		}
		after = string(raw)
	}
	maxKeys := int(aws.ToInt32(in.MaxKeys))
	if in.MaxKeys == nil || maxKeys > 1000 {
		maxKeys = 1000
	}
	var keys []string
	for k := range f.objects {
		if strings.HasPrefix(k, aws.ToString(in.Prefix)) && k > after {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys) // S3 lists in UTF-8 byte order, as Go compares strings
	out := &awss3.ListObjectsV2Output{IsTruncated: aws.Bool(false)}
	for i, k := range keys {
		if i == maxKeys {
			out.IsTruncated = aws.Bool(true)
			out.NextContinuationToken = aws.String(base64.RawURLEncoding.EncodeToString([]byte(keys[i-1])))
			break
		}
		obj := f.objects[k]
		out.Contents = append(out.Contents, types.Object{Key: aws.String(k), ETag: aws.String(obj.etag), Size: aws.Int64(int64(len(obj.data)))})
	}
	out.KeyCount = aws.Int32(int32(len(out.Contents)))
	return out, nil
}

// s3Error is S3's answer with code as the SDK returns it.
func s3Error(op string, status int, code string) error {
	if code == "NoSuchKey" && op == "GetObject" {
		return awstest.APIError("S3", op, status, &types.NoSuchKey{Message: aws.String("The specified key does not exist.")})
	}
	return awstest.CodeError("S3", op, status, code)
}

func transportError(op string) error { return awstest.TransportError("S3", op) }
