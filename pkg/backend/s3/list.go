package s3

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/redlease/redlease/pkg/lease"
)

// maxListKeys is S3's own cap on one ListObjectsV2 page.
const maxListKeys = 1000

// List implements lease.Lister. The cursor is S3's continuation token. One
// page is one ListObjectsV2 call (so a page may hold fewer than limit
// records when other objects share the prefix) followed by one GetObject per
// lease object, ListConcurrency at a time, so that a sweep over thousands of
// keys fits in a Lambda's timeout. An object deleted between the listing and
// its GetObject is skipped; an object that does not decode is named in
// Page.Unreadable, as in every other backend.
func (s *Store) List(ctx context.Context, cursor string, limit int) (lease.Page, error) {
	if limit <= 0 || limit > maxListKeys {
		limit = maxListKeys
	}
	in := &awss3.ListObjectsV2Input{
		Bucket:  aws.String(s.bucket),
		Prefix:  aws.String(s.opts.Prefix),
		MaxKeys: aws.Int32(int32(limit)),
	}
	if cursor != "" {
		in.ContinuationToken = aws.String(cursor)
	}
	out, err := s.api.ListObjectsV2(ctx, in)
	if err != nil {
		return lease.Page{}, fmt.Errorf("s3 list %q: %w", s.opts.Prefix, s.mapErr(err))
	}
	var keys []string
	for _, obj := range out.Contents {
		if key, ok := s.databaseKey(aws.ToString(obj.Key)); ok {
			keys = append(keys, key)
		}
	}
	records, unreadable, err := s.getAll(ctx, keys)
	if err != nil {
		return lease.Page{}, fmt.Errorf("s3 list %q: %w", s.opts.Prefix, err)
	}
	page := lease.Page{Records: records, Unreadable: unreadable}
	if aws.ToBool(out.IsTruncated) {
		page.Next = aws.ToString(out.NextContinuationToken)
		if page.Next == "" {
			return lease.Page{}, fmt.Errorf("s3 list %q: truncated listing without a continuation token", s.opts.Prefix)
		}
	}
	return page, nil
}

// getAll loads keys with at most ListConcurrency requests in flight and
// returns the records in the listing's order, without the vanished ones,
// and the keys whose objects do not decode. The first other failure cancels
// the requests still waiting.
func (s *Store) getAll(ctx context.Context, keys []string) ([]lease.Versioned, []string, error) {
	if len(keys) == 0 {
		return nil, nil, nil
	}
	parent := ctx
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	var (
		results = make([]lease.Versioned, len(keys))
		found   = make([]bool, len(keys))
		corrupt = make([]bool, len(keys))
		slots   = make(chan struct{}, s.opts.ListConcurrency)
		wg      sync.WaitGroup
	)
	for i, key := range keys {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-slots }()
			v, err := s.get(ctx, key)
			switch {
			case err == nil:
				results[i], found[i] = v, true
			case errors.Is(err, lease.ErrNotFound):
				// Gone since the listing; nothing to sweep.
			case errors.Is(err, lease.ErrCorrupt):
				corrupt[i] = true
			default:
				cancel(fmt.Errorf("get %q: %w", key, err))
			}
		})
	}
	wg.Wait()
	if err := parent.Err(); err != nil {
		return nil, nil, lease.Unavailable(err, s.opts.RetryAfter)
	}
	if err := context.Cause(ctx); err != nil {
		return nil, nil, err
	}
	page := make([]lease.Versioned, 0, len(keys))
	var unreadable []string
	for i, ok := range found {
		switch {
		case ok:
			page = append(page, results[i])
		case corrupt[i]:
			unreadable = append(unreadable, keys[i])
		}
	}
	return page, unreadable, nil
}
