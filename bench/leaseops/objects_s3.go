package leaseops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// S3API is the part of the S3 client RedDB's protocol needs.
type S3API interface {
	HeadObject(ctx context.Context, in *awss3.HeadObjectInput, optFns ...func(*awss3.Options)) (*awss3.HeadObjectOutput, error)
	GetObject(ctx context.Context, in *awss3.GetObjectInput, optFns ...func(*awss3.Options)) (*awss3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *awss3.PutObjectInput, optFns ...func(*awss3.Options)) (*awss3.PutObjectOutput, error)
	DeleteObject(ctx context.Context, in *awss3.DeleteObjectInput, optFns ...func(*awss3.Options)) (*awss3.DeleteObjectOutput, error)
}

var _ S3API = (*awss3.Client)(nil)

// s3Objects is RedDB's S3 backend (RED_BACKEND=s3) as Go SDK calls.
type s3Objects struct {
	api    S3API
	bucket string
}

// reddbContentType is what curl sends with --data-binary and no -H, and
// so what RedDB's uploads carry.
const reddbContentType = "application/x-www-form-urlencoded"

func (o s3Objects) Head(ctx context.Context, key string) (string, error) {
	out, err := o.api.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(o.bucket), Key: aws.String(key)})
	if err != nil {
		return "", s3Err("HEAD", key, err)
	}
	etag := aws.ToString(out.ETag)
	if etag == "" {
		return "", fmt.Errorf("HEAD %s: no ETag", key) // RedDB treats this as an error too
	}
	return etag, nil
}

func (o s3Objects) Get(ctx context.Context, key string) ([]byte, error) {
	out, err := o.api.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(o.bucket), Key: aws.String(key)})
	if err != nil {
		return nil, s3Err("GET", key, err)
	}
	defer out.Body.Close()
	return io.ReadAll(io.LimitReader(out.Body, 1<<20))
}

func (o s3Objects) Put(ctx context.Context, key string, body []byte, cond Condition) error {
	in := &awss3.PutObjectInput{
		Bucket:        aws.String(o.bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		ContentType:   aws.String(reddbContentType),
	}
	if cond.IfNoneMatch {
		in.IfNoneMatch = aws.String("*")
	}
	if cond.IfMatch != "" {
		in.IfMatch = aws.String(cond.IfMatch)
	}
	_, err := o.api.PutObject(ctx, in)
	return s3Err("PUT", key, err)
}

func (o s3Objects) Delete(ctx context.Context, key, ifMatch string) error {
	in := &awss3.DeleteObjectInput{Bucket: aws.String(o.bucket), Key: aws.String(key)}
	if ifMatch != "" {
		in.IfMatch = aws.String(ifMatch)
	}
	_, err := o.api.DeleteObject(ctx, in)
	return s3Err("DELETE", key, err)
}

// s3Err maps answers the way RedDB reads them: 404 is absent, 404/409/412
// on a conditional request are a failed precondition.
func s3Err(method, key string, err error) error {
	if err == nil {
		return nil
	}
	switch httpStatus(err) {
	case http.StatusNotFound:
		if method == "HEAD" || method == "GET" {
			return fmt.Errorf("%s %s: %w", method, key, errAbsent)
		}
		return fmt.Errorf("%s %s: %w: %w", method, key, errPrecondition, err)
	case http.StatusConflict, http.StatusPreconditionFailed:
		return fmt.Errorf("%s %s: %w: %w", method, key, errPrecondition, err)
	}
	return fmt.Errorf("%s %s: %w", method, key, err)
}

func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// errNotImplemented is what a store answers a request it does not support
// with: 501, or the NotImplemented error code.
func errNotImplemented(err error) bool {
	if httpStatus(err) == http.StatusNotImplemented {
		return true
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "NotImplemented"
}

// ProbeConditionalDelete reports whether the store honours DELETE with
// If-Match: it writes a probe object, deletes it with its ETag, and on a
// 501 removes it unconditionally. The answer decides how the RedDB row
// releases (see the report's footnote).
func ProbeConditionalDelete(ctx context.Context, api S3API, bucket, key string) (bool, error) {
	o := s3Objects{api: api, bucket: bucket}
	if err := o.Put(ctx, key, []byte("probe"), Condition{}); err != nil {
		return false, err
	}
	etag, err := o.Head(ctx, key)
	if err != nil {
		return false, err
	}
	err = o.Delete(ctx, key, etag)
	switch {
	case err == nil:
		return true, nil
	case errNotImplemented(err):
		return false, o.Delete(ctx, key, "")
	default:
		return false, fmt.Errorf("conditional delete probe: %w", err)
	}
}
