package s3

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/redlease/redlease/pkg/lease"
)

// maxListKeys is S3's own cap on one ListObjectsV2 page.
const maxListKeys = 1000

// List implements lease.Lister with one ListObjectsV2 call per page and no
// GetObject: each entry's tag and version is the ETag the listing returns,
// which is the ETag GetObject would return and the one If-Match compares,
// so the sweep reads only the objects whose ETag it has not seen. A page
// may hold fewer than limit entries when other objects share the prefix.
//
// The cursor is the object key the page ended on, sent back as StartAfter:
// unlike a continuation token it is a plain key, valid in any later
// process and at any later time, so the sweep can keep it between runs.
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
		in.StartAfter = aws.String(cursor)
	}
	out, err := s.api.ListObjectsV2(ctx, in)
	if err != nil {
		return lease.Page{}, fmt.Errorf("s3 list %q after %q: %w", s.opts.Prefix, cursor, s.mapErr(err))
	}
	page := lease.Page{Entries: make([]lease.Entry, 0, len(out.Contents))}
	for _, obj := range out.Contents {
		name := aws.ToString(obj.Key)
		key, ok := s.databaseKey(name)
		if !ok {
			continue
		}
		etag := aws.ToString(obj.ETag)
		if etag == "" {
			page.Unreadable = append(page.Unreadable, lease.Unreadable{Key: key,
				Err: fmt.Errorf("%w: the listing gives object %q no ETag", lease.ErrCorrupt, name)})
			continue
		}
		page.Entries = append(page.Entries, lease.Entry{Key: key, Tag: etag, Version: lease.Version(etag)})
	}
	if aws.ToBool(out.IsTruncated) {
		if len(out.Contents) == 0 {
			return lease.Page{}, fmt.Errorf("s3 list %q after %q: truncated listing without objects", s.opts.Prefix, cursor)
		}
		page.Next = aws.ToString(out.Contents[len(out.Contents)-1].Key)
	}
	return page, nil
}
