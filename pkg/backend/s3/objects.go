package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/objects"
)

var _ ObjectsAPI = (*awss3.Client)(nil)

// ObjectsAPI is the part of the S3 client the object store uses.
type ObjectsAPI interface {
	HeadObject(ctx context.Context, in *awss3.HeadObjectInput, optFns ...func(*awss3.Options)) (*awss3.HeadObjectOutput, error)
	GetObject(ctx context.Context, in *awss3.GetObjectInput, optFns ...func(*awss3.Options)) (*awss3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *awss3.PutObjectInput, optFns ...func(*awss3.Options)) (*awss3.PutObjectOutput, error)
	DeleteObject(ctx context.Context, in *awss3.DeleteObjectInput, optFns ...func(*awss3.Options)) (*awss3.DeleteObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *awss3.ListObjectsV2Input, optFns ...func(*awss3.Options)) (*awss3.ListObjectsV2Output, error)
	CreateMultipartUpload(ctx context.Context, in *awss3.CreateMultipartUploadInput, optFns ...func(*awss3.Options)) (*awss3.CreateMultipartUploadOutput, error)
	UploadPart(ctx context.Context, in *awss3.UploadPartInput, optFns ...func(*awss3.Options)) (*awss3.UploadPartOutput, error)
	CompleteMultipartUpload(ctx context.Context, in *awss3.CompleteMultipartUploadInput, optFns ...func(*awss3.Options)) (*awss3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(ctx context.Context, in *awss3.AbortMultipartUploadInput, optFns ...func(*awss3.Options)) (*awss3.AbortMultipartUploadOutput, error)
}

// Part sizes. S3 refuses parts under 5 MiB but the last, and more than
// 10,000 parts: at the default 8 MiB an object may reach about 78 GiB.
const (
	MinPartSize          = 5 << 20
	DefaultPartSize      = 8 << 20
	DefaultPartsInFlight = 2
	maxParts             = 10_000
)

// ObjectsOptions configure an Objects store. Bucket is required.
type ObjectsOptions struct {
	// Bucket holds the objects under their own keys (no prefix), so that
	// the bucket is laid out exactly as RedDB's own s3 backend lays it out.
	Bucket string
	// Reserved is a key prefix the store refuses: the lease prefix, when the
	// lease records share the bucket.
	Reserved string
	// PartSize is the size of one part of a multipart upload, and the
	// largest body sent as one PutObject; DefaultPartSize when zero, at
	// least MinPartSize.
	PartSize int64
	// PartsInFlight bounds the parts uploaded at once. A write holds at
	// most PartsInFlight+1 part buffers: memory is bounded by
	// (PartsInFlight+1) x PartSize whatever the object's size.
	PartsInFlight int
	// RetryAfter is the hint attached to lease.Unavailable errors.
	RetryAfter time.Duration
	// DisableRequestChecksums stops the SDK from adding CRC32 checksums,
	// for S3-compatible stores that reject them.
	DisableRequestChecksums bool
}

// Objects is the RedDB face's object store on one bucket. Bodies stream in
// both directions: a GET hands out S3's response body, a PUT sends bodies
// up to PartSize as one PutObject and larger ones as a multipart upload
// whose CompleteMultipartUpload carries the write's condition. It is safe
// for concurrent use.
type Objects struct {
	api     ObjectsAPI
	opts    ObjectsOptions
	optFns  []func(*awss3.Options)
	buffers chan []byte
}

// NewObjects returns an object store on opts.Bucket.
func NewObjects(client ObjectsAPI, opts ObjectsOptions) (*Objects, error) {
	if client == nil {
		return nil, errors.New("s3 objects: nil client")
	}
	if opts.Bucket == "" {
		return nil, errors.New("s3 objects: empty bucket name")
	}
	if opts.PartSize == 0 {
		opts.PartSize = DefaultPartSize
	}
	if opts.PartSize < MinPartSize {
		return nil, fmt.Errorf("s3 objects: part size %d is below S3's minimum %d", opts.PartSize, MinPartSize)
	}
	if opts.PartsInFlight <= 0 {
		opts.PartsInFlight = DefaultPartsInFlight
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = DefaultRetryAfter
	}
	s := &Objects{api: client, opts: opts, buffers: make(chan []byte, opts.PartsInFlight+1)}
	if opts.DisableRequestChecksums {
		s.optFns = []func(*awss3.Options){func(o *awss3.Options) {
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		}}
	}
	return s, nil
}

func (s *Objects) check(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return lease.Unavailable(err, 0)
	}
	if err := objects.ValidateKey(key); err != nil {
		return err
	}
	if s.opts.Reserved != "" && strings.HasPrefix(key, s.opts.Reserved) {
		return &lease.InvalidError{Field: objects.FieldKey,
			Reason: fmt.Sprintf("is under the prefix %q, where only lease records live", s.opts.Reserved)}
	}
	return nil
}

// mapWriteErr is mapErr for a conditional write, where 404 can only mean
// that an If-Match found no object: a failed precondition.
func (s *Objects) mapWriteErr(err error) error {
	if classify(err) == outcomeNotFound {
		return fmt.Errorf("%w: %w", &lease.PreconditionError{}, err)
	}
	return s.mapErr(err)
}

// mapErr turns an SDK error into the lease error the face expects.
func (s *Objects) mapErr(err error) error {
	switch classify(err) {
	case outcomeNotFound:
		return fmt.Errorf("%w: %w", lease.ErrNotFound, err)
	case outcomePrecondition, outcomeConflict:
		return fmt.Errorf("%w: %w", &lease.PreconditionError{}, err)
	case outcomeUnavailable:
		return lease.Unavailable(err, s.opts.RetryAfter)
	}
	return err
}

func info(etag *string, size *int64) (objects.Info, error) {
	if aws.ToString(etag) == "" {
		return objects.Info{}, errors.New("S3 returned no ETag")
	}
	return objects.Info{ETag: lease.Version(aws.ToString(etag)), Size: aws.ToInt64(size)}, nil
}

// Head is one HeadObject.
func (s *Objects) Head(ctx context.Context, key string) (objects.Info, error) {
	if err := s.check(ctx, key); err != nil {
		return objects.Info{}, err
	}
	out, err := s.api.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &s.opts.Bucket, Key: &key})
	if err != nil {
		return objects.Info{}, fmt.Errorf("s3 head %q: %w", key, s.mapErr(err))
	}
	return info(out.ETag, out.ContentLength)
}

// Get is one GetObject; the caller reads and closes S3's response body.
func (s *Objects) Get(ctx context.Context, key string) (io.ReadCloser, objects.Info, error) {
	if err := s.check(ctx, key); err != nil {
		return nil, objects.Info{}, err
	}
	out, err := s.api.GetObject(ctx, &awss3.GetObjectInput{Bucket: &s.opts.Bucket, Key: &key})
	if err != nil {
		return nil, objects.Info{}, fmt.Errorf("s3 get %q: %w", key, s.mapErr(err))
	}
	in, err := info(out.ETag, out.ContentLength)
	if err != nil {
		out.Body.Close()
		return nil, objects.Info{}, err
	}
	return out.Body, in, nil
}

// Delete is one DeleteObject, with If-Match when cond has one. S3 answers
// an unconditional delete of an absent key with success.
func (s *Objects) Delete(ctx context.Context, key string, cond objects.Condition) error {
	if err := s.check(ctx, key); err != nil {
		return err
	}
	if cond.IfNoneMatch {
		return objects.CheckDelete(cond, nil)
	}
	in := &awss3.DeleteObjectInput{Bucket: &s.opts.Bucket, Key: &key}
	if cond.IfMatch != "" {
		in.IfMatch = aws.String(string(cond.IfMatch))
	}
	if _, err := s.api.DeleteObject(ctx, in); err != nil {
		return fmt.Errorf("s3 delete %q: %w", key, s.mapWriteErr(err))
	}
	return nil
}

// List pages through ListObjectsV2 under prefix, in S3's key order. Keys
// under the reserved prefix and keys the face would refuse are left out.
func (s *Objects) List(ctx context.Context, prefix string, fn func(key string) error) error {
	if err := ctx.Err(); err != nil {
		return lease.Unavailable(err, 0)
	}
	if err := objects.ValidatePrefix(prefix); err != nil {
		return err
	}
	pages := awss3.NewListObjectsV2Paginator(s.api, &awss3.ListObjectsV2Input{Bucket: &s.opts.Bucket, Prefix: &prefix})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("s3 list %q: %w", prefix, s.mapErr(err))
		}
		for _, obj := range page.Contents {
			key := aws.ToString(obj.Key)
			if s.opts.Reserved != "" && strings.HasPrefix(key, s.opts.Reserved) || objects.ValidateKey(key) != nil {
				continue
			}
			if err := fn(key); err != nil {
				return err
			}
		}
	}
	return nil
}

// conditions applies c to a PutObject or CompleteMultipartUpload.
func conditions(c objects.Condition) (ifNoneMatch, ifMatch *string) {
	if c.IfNoneMatch {
		ifNoneMatch = aws.String("*")
	}
	if c.IfMatch != "" {
		ifMatch = aws.String(string(c.IfMatch))
	}
	return ifNoneMatch, ifMatch
}

// getBuffer hands out a part buffer, reusing one a finished write gave
// back. Each write holds at most PartsInFlight+1 at once (see put).
func (s *Objects) getBuffer() []byte {
	select {
	case b := <-s.buffers:
		return b
	default:
		return make([]byte, s.opts.PartSize)
	}
}

func (s *Objects) putBuffer(b []byte) {
	select {
	case s.buffers <- b:
	default: // enough kept for reuse; let the collector have it
	}
}
