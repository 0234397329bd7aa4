package s3

import (
	"bytes"
	"context"
	"crypto/md5" //nolint:gosec // S3's ETag is an MD5; no security rests on it
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/redlease/redlease/pkg/lease"
)

// StatePrefix starts the default name of the sweep's state object. It lies
// outside every lease prefix but one starting with it, which New refuses,
// and the stack grants the sweep this one object (infra/stack; a
// test/consistency check holds the two to each other).
const StatePrefix = "redlease-sweep/"

// maxStateBytes bounds what LoadState reads.
const maxStateBytes = 256 << 20

// DefaultStateKey is the object that holds the state of the sweep over
// prefix: "redlease-sweep/leases/state" for the default prefix.
func DefaultStateKey(prefix string) string { return StatePrefix + prefix + "state" }

// StateKey returns the state object's name in force.
func (s *Store) StateKey() string { return s.opts.StateKey }

// LoadState implements lease.StateStore with one GetObject.
//
// A caller without s3:ListBucket on the state object gets 403 AccessDenied,
// not 404, for an object that does not exist (S3 hides absence from those
// who may not list), so AccessDenied is returned as it is: the sweep then
// runs without state and creates it with If-None-Match, which tells the two
// cases apart.
func (s *Store) LoadState(ctx context.Context) ([]byte, lease.Version, error) {
	out, err := s.api.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.opts.StateKey)})
	if err != nil {
		if classify(err) == outcomeNotFound {
			return nil, "", fmt.Errorf("s3 load sweep state %q: %w: %w", s.opts.StateKey, lease.ErrNotFound, err)
		}
		return nil, "", fmt.Errorf("s3 load sweep state %q: %w", s.opts.StateKey, s.mapErr(err))
	}
	defer out.Body.Close()
	data, err := io.ReadAll(io.LimitReader(out.Body, maxStateBytes+1))
	if err != nil {
		return nil, "", lease.Unavailable(fmt.Errorf("s3 load sweep state %q: read body: %w", s.opts.StateKey, err), s.opts.RetryAfter)
	}
	if len(data) > maxStateBytes {
		return nil, "", fmt.Errorf("s3 load sweep state %q: %w: over %d bytes", s.opts.StateKey, lease.ErrCorrupt, maxStateBytes)
	}
	etag := aws.ToString(out.ETag)
	if etag == "" {
		return nil, "", fmt.Errorf("s3 load sweep state %q: GetObject returned no ETag", s.opts.StateKey)
	}
	return data, lease.Version(etag), nil
}

// SaveState implements lease.StateStore with one conditional PutObject
// (If-Match, or If-None-Match: * when expect is empty).
func (s *Store) SaveState(ctx context.Context, data []byte, expect lease.Version) (lease.Version, error) {
	in := &awss3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(s.opts.StateKey),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
		ContentType:   aws.String("application/octet-stream"),
	}
	if expect == "" {
		in.IfNoneMatch = aws.String("*")
	} else {
		in.IfMatch = aws.String(string(expect))
	}
	out, err := s.api.PutObject(ctx, in, s.putOpts...)
	if err != nil {
		switch classify(err) {
		case outcomePrecondition, outcomeNotFound, outcomeConflict:
			return "", fmt.Errorf("s3 save sweep state %q: %w: %w", s.opts.StateKey, &lease.PreconditionError{}, err)
		}
		return "", fmt.Errorf("s3 save sweep state %q: %w", s.opts.StateKey, s.mapErr(err))
	}
	etag := aws.ToString(out.ETag)
	if etag == "" {
		return "", errors.New("s3 save sweep state: PutObject returned no ETag")
	}
	return lease.Version(etag), nil
}

// ContentVersion implements lease.ContentVersioner: S3's ETag of an object
// uploaded in one part without SSE-KMS or SSE-C is the quoted MD5 of its
// bytes, and the store writes every record in one part. In a bucket whose
// ETags are not MD5s (SSE-KMS) no version matches, and the sweep reads.
func (s *Store) ContentVersion(rec lease.Record) lease.Version {
	sum := md5.Sum(lease.EncodeRecord(rec)) //nolint:gosec // the ETag S3 computes; no security rests on it
	return lease.NewVersion(hex.EncodeToString(sum[:]))
}
