package s3

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/objects"
)

// abortTimeout bounds the AbortMultipartUpload of a failed write, which
// runs even when the write's own context has ended.
const abortTimeout = 30 * time.Second

const contentType = "application/octet-stream"

// Put stores the body: up to PartSize bytes as one PutObject, more as a
// multipart upload. Either way the whole body is received (buffered, or
// uploaded as parts nobody can see yet) before opts.BeforeCommit runs, and
// opts.Condition travels with the request that makes the object visible
// (PutObject or CompleteMultipartUpload), so S3 checks it atomically. A
// failed or refused multipart upload is aborted.
func (s *Objects) Put(ctx context.Context, key string, body io.Reader, size int64, opts objects.PutOptions) (objects.Info, error) {
	if err := s.check(ctx, key); err != nil {
		return objects.Info{}, err
	}
	info, err := s.put(ctx, key, objects.NewBody(body, size), opts)
	if err != nil {
		return objects.Info{}, fmt.Errorf("s3 put %q: %w", key, err)
	}
	return info, nil
}

func (s *Objects) put(ctx context.Context, key string, body *objects.Body, opts objects.PutOptions) (objects.Info, error) {
	first := s.getBuffer()
	n, last, err := readPart(body, first)
	if err != nil {
		s.putBuffer(first)
		return objects.Info{}, err
	}
	if last {
		defer s.putBuffer(first)
		return s.putSingle(ctx, key, first[:n], opts)
	}
	return s.putMultipart(ctx, key, body, first, opts)
}

// readPart fills buf from body; last reports that the body ended within
// it (it may then be shorter than buf), or exactly at its end when the
// body's size was declared.
func readPart(body *objects.Body, buf []byte) (n int, last bool, err error) {
	n, err = io.ReadFull(body, buf)
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return n, true, nil
	case err != nil:
		return n, false, err
	}
	return n, body.Complete(), nil
}

// commitContext asks opts.BeforeCommit and bounds the commit by its
// deadline.
func commitContext(ctx context.Context, opts objects.PutOptions) (context.Context, context.CancelFunc, error) {
	if opts.BeforeCommit == nil {
		return ctx, func() {}, nil
	}
	deadline, err := opts.BeforeCommit(ctx)
	if err != nil {
		return nil, nil, err
	}
	if deadline.IsZero() {
		return ctx, func() {}, nil
	}
	cctx, cancel := context.WithDeadline(ctx, deadline)
	if err := cctx.Err(); err != nil {
		cancel()
		return nil, nil, lease.Unavailable(err, 0)
	}
	return cctx, cancel, nil
}

func (s *Objects) putSingle(ctx context.Context, key string, data []byte, opts objects.PutOptions) (objects.Info, error) {
	cctx, cancel, err := commitContext(ctx, opts)
	if err != nil {
		return objects.Info{}, err
	}
	defer cancel()
	ifNoneMatch, ifMatch := conditions(opts.Condition)
	out, err := s.api.PutObject(cctx, &awss3.PutObjectInput{
		Bucket:        &s.opts.Bucket,
		Key:           &key,
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
		ContentType:   aws.String(contentType),
		IfNoneMatch:   ifNoneMatch,
		IfMatch:       ifMatch,
	}, s.optFns...)
	if err != nil {
		return objects.Info{}, s.mapWriteErr(err)
	}
	return info(out.ETag, aws.Int64(int64(len(data))))
}

// upload is one multipart upload in progress.
type upload struct {
	s      *Objects
	key    string
	id     *string
	ctx    context.Context
	cancel context.CancelFunc

	wg       sync.WaitGroup
	slots    chan struct{} // one per part in flight
	mu       sync.Mutex
	parts    []types.CompletedPart
	firstErr error
}

func (s *Objects) putMultipart(ctx context.Context, key string, body *objects.Body, first []byte, opts objects.PutOptions) (objects.Info, error) {
	create := &awss3.CreateMultipartUploadInput{Bucket: &s.opts.Bucket, Key: &key, ContentType: aws.String(contentType)}
	if !s.opts.DisableRequestChecksums {
		create.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32
	}
	created, err := s.api.CreateMultipartUpload(ctx, create, s.optFns...)
	if err != nil {
		s.putBuffer(first)
		return objects.Info{}, s.mapErr(err)
	}
	u := &upload{s: s, key: key, id: created.UploadId, slots: make(chan struct{}, s.opts.PartsInFlight)}
	u.ctx, u.cancel = context.WithCancel(ctx)
	defer u.cancel()
	committed := false
	defer func() {
		if !committed {
			u.abort(ctx)
		}
	}()

	total, err := u.send(body, first)
	if err != nil {
		return objects.Info{}, err
	}
	cctx, cancel, err := commitContext(ctx, opts)
	if err != nil {
		return objects.Info{}, err
	}
	defer cancel()
	slices.SortFunc(u.parts, func(a, b types.CompletedPart) int { return cmp.Compare(*a.PartNumber, *b.PartNumber) })
	ifNoneMatch, ifMatch := conditions(opts.Condition)
	out, err := s.api.CompleteMultipartUpload(cctx, &awss3.CompleteMultipartUploadInput{
		Bucket:          &s.opts.Bucket,
		Key:             &key,
		UploadId:        u.id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: u.parts},
		IfNoneMatch:     ifNoneMatch,
		IfMatch:         ifMatch,
	}, s.optFns...)
	if err != nil {
		return objects.Info{}, s.mapWriteErr(err)
	}
	committed = true
	return info(out.ETag, aws.Int64(total))
}

// send uploads first (a full part) and every further part of body, at
// most PartsInFlight at a time, and returns the body's size. Reading the
// next part overlaps the uploads in flight, so a write holds at most
// PartsInFlight+1 buffers.
func (u *upload) send(body *objects.Body, first []byte) (int64, error) {
	var total int64
	buf, n, last := first, len(first), false
	for number := int32(1); ; number++ {
		if n == 0 && number > 1 { // the body ended on a part boundary
			u.s.putBuffer(buf)
			break
		}
		if number > maxParts {
			u.s.putBuffer(buf)
			u.fail(&lease.InvalidError{Field: "body", Reason: fmt.Sprintf("needs more than %d parts of %d bytes", maxParts, u.s.opts.PartSize)})
			break
		}
		select {
		case u.slots <- struct{}{}:
		case <-u.ctx.Done():
		}
		if u.ctx.Err() != nil {
			u.s.putBuffer(buf)
			u.fail(lease.Unavailable(u.ctx.Err(), 0))
			break
		}
		u.wg.Add(1)
		go u.part(number, buf, n)
		total += int64(n)
		if last {
			break
		}
		var err error
		buf = u.s.getBuffer()
		if n, last, err = readPart(body, buf); err != nil {
			u.s.putBuffer(buf)
			u.fail(err)
			break
		}
	}
	u.wg.Wait()
	u.mu.Lock()
	defer u.mu.Unlock()
	return total, u.firstErr
}

// part uploads one part and gives its buffer and slot back.
func (u *upload) part(number int32, buf []byte, n int) {
	defer u.wg.Done()
	defer func() { <-u.slots }()
	defer u.s.putBuffer(buf)
	out, err := u.s.api.UploadPart(u.ctx, &awss3.UploadPartInput{
		Bucket:        &u.s.opts.Bucket,
		Key:           &u.key,
		UploadId:      u.id,
		PartNumber:    aws.Int32(number),
		Body:          bytes.NewReader(buf[:n]),
		ContentLength: aws.Int64(int64(n)),
	}, u.s.optFns...)
	if err != nil {
		u.fail(u.s.mapErr(err))
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.parts = append(u.parts, types.CompletedPart{
		ETag:          out.ETag,
		PartNumber:    aws.Int32(number),
		ChecksumCRC32: out.ChecksumCRC32,
	})
}

func (u *upload) fail(err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.firstErr == nil {
		u.firstErr = err
		u.cancel()
	}
}

// abort discards the parts of an upload that will not be completed, even
// when the write's context has ended. A failed abort leaves parts that the
// bucket's lifecycle rule (AbortIncompleteMultipartUpload) removes.
func (u *upload) abort(ctx context.Context) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	_, _ = u.s.api.AbortMultipartUpload(actx, &awss3.AbortMultipartUploadInput{
		Bucket: &u.s.opts.Bucket, Key: &u.key, UploadId: u.id,
	}, u.s.optFns...)
}
