package reddb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/objects"
)

// forbidden is the refusal of a read outside the principal's prefixes,
// worded as the lease service words it.
func forbidden(p lease.Principal, key string) error {
	return &lease.ForbiddenError{Principal: p.Name, Key: key, Reason: lease.ReasonOutsidePrefixes}
}

// dataObject serves a data object: reads are scoped to the principal's
// prefixes (by the object's database key), writes are fenced by that
// database's lease.
func (f *Face) dataObject(ctx context.Context, req api.Request, r request, p lease.Principal, out *outcome) (api.Response, error) {
	switch r.method {
	case http.MethodHead:
		if !p.Allows(r.databaseKey) {
			return api.Response{}, forbidden(p, r.databaseKey)
		}
		info, err := f.objs.Head(ctx, r.key)
		if err != nil {
			return api.Response{}, err
		}
		return api.Response{Status: http.StatusOK, Header: map[string]string{"ETag": string(info.ETag)}}, nil
	case http.MethodGet:
		if !p.Allows(r.databaseKey) {
			return api.Response{}, forbidden(p, r.databaseKey)
		}
		body, info, err := f.objs.Get(ctx, r.key)
		if err != nil {
			return api.Response{}, err
		}
		if f.maxSize > 0 && info.Size > f.maxSize {
			body.Close()
			return api.Response{}, f.tooLargeObject(info.Size)
		}
		out.size = info.Size
		return api.Response{Status: http.StatusOK, Stream: body, StreamLength: info.Size, Header: map[string]string{
			"ETag": string(info.ETag), "Content-Type": "application/octet-stream"}}, nil
	case http.MethodPut:
		return f.putData(ctx, req, r, p, out)
	default: // DELETE
		return f.deleteData(ctx, r, p)
	}
}

// fence is the data write check for r's database.
func (f *Face) fence(ctx context.Context, r request, p lease.Principal) (lease.DataWriteGrant, error) {
	return f.svc.CheckDataWrite(ctx, lease.DataWrite{Principal: p, DatabaseKey: r.databaseKey,
		RequireLease: f.require, Margin: f.margin})
}

// putData stores a data object. The fence is decided when the whole body
// has arrived, right before the commit, with one read of the lease; the
// commit must land before the lease's expiry less the margin. A large body
// is also fenced before it is received.
func (f *Face) putData(ctx context.Context, req api.Request, r request, p lease.Principal, out *outcome) (api.Response, error) {
	size := req.ContentLength
	if size < 0 {
		size = objects.UnknownSize
	}
	if f.maxSize > 0 && size > f.maxSize {
		return api.Response{}, f.tooLargeObject(size)
	}
	if size == objects.UnknownSize || size > earlyCheckBytes {
		if _, err := f.fence(ctx, r, p); err != nil {
			return api.Response{}, err
		}
	}
	body := req.Body
	if f.maxSize > 0 {
		body = &capped{r: body, left: f.maxSize}
	}
	info, err := f.objs.Put(ctx, r.key, body, size, objects.PutOptions{
		Condition: r.cond,
		BeforeCommit: func(ctx context.Context) (time.Time, error) {
			g, err := f.fence(ctx, r, p)
			if err != nil || !g.Leased {
				return time.Time{}, err
			}
			return time.Now().Add(g.Remaining), nil
		},
	})
	if errors.Is(err, errTooLarge) {
		return api.Response{}, f.tooLargeObject(size)
	}
	if err != nil {
		return api.Response{}, err
	}
	out.size = info.Size
	return api.Response{Status: http.StatusOK, Header: map[string]string{"ETag": string(info.ETag)}}, nil
}

// deleteData removes a data object under the fence, as putData writes one.
func (f *Face) deleteData(ctx context.Context, r request, p lease.Principal) (api.Response, error) {
	g, err := f.fence(ctx, r, p)
	if err != nil {
		return api.Response{}, err
	}
	if g.Leased {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, g.Remaining)
		defer cancel()
	}
	if err := f.objs.Delete(ctx, r.key, r.cond); err != nil {
		return api.Response{}, err
	}
	return api.Response{Status: http.StatusNoContent}, nil
}

// capped fails a body once it goes past the face's size limit.
type capped struct {
	r    io.Reader
	left int64
}

func (c *capped) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return n, errTooLarge
	}
	return n, err
}

func (f *Face) tooLargeObject(size int64) error {
	what := "the object"
	if size >= 0 {
		what = fmt.Sprintf("the object of %d bytes", size)
	}
	msg := fmt.Sprintf("%s exceeds the %d-byte limit of this endpoint", what, f.maxSize)
	if f.advice != "" {
		msg += "; " + f.advice
	}
	return tooLarge(msg)
}

// list answers GET {dir}?list={sub}: every key under the prefix, one a
// line, relative to dir (the form RedDB passes back to GET), within the
// principal's prefixes. RedDB reads any failure as an empty list, so a
// refusal costs it nothing but what it would not have been allowed to see.
func (f *Face) list(ctx context.Context, _ api.Request, r request, p lease.Principal) (api.Response, error) {
	if !allowsPrefix(p, r.listPrefix) {
		return api.Response{}, &lease.ForbiddenError{Principal: p.Name, Key: r.listPrefix, Reason: lease.ReasonOutsidePrefixes}
	}
	var b strings.Builder
	err := f.objs.List(ctx, r.listPrefix, func(key string) error {
		if strings.HasPrefix(key, f.dec.leasePrefix) {
			return nil // lease objects are read one by one, through the lease rules
		}
		if f.maxSize > 0 && int64(b.Len()+len(key)+1) > f.maxSize {
			return tooLarge(fmt.Sprintf("the listing of %q exceeds the %d-byte limit of this endpoint", r.listPrefix, f.maxSize))
		}
		b.WriteString(strings.TrimPrefix(key, r.listBase))
		b.WriteByte('\n')
		return nil
	})
	if err != nil {
		return api.Response{}, err
	}
	return api.Response{Status: http.StatusOK, Body: []byte(b.String()),
		Header: map[string]string{"Content-Type": "text/plain; charset=utf-8"}}, nil
}

// allowsPrefix reports whether every key under prefix is within one of the
// principal's prefixes.
func allowsPrefix(p lease.Principal, prefix string) bool {
	if p.Name == "" {
		return false
	}
	for _, allowed := range p.Prefixes {
		if strings.HasPrefix(prefix, allowed) {
			return true
		}
	}
	return false
}
