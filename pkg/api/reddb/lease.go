package reddb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/objects"
)

// leaseObject serves the lease object of r.databaseKey: reads render the
// stored record in RedDB's bytes with its version as ETag; writes go
// through the lease service's rules for RedDB's intents.
func (f *Face) leaseObject(ctx context.Context, req api.Request, r request, p lease.Principal) (api.Response, error) {
	switch r.method {
	case http.MethodHead, http.MethodGet:
		v, err := f.svc.ReadLeaseObject(ctx, p, r.databaseKey)
		if err != nil {
			return api.Response{}, err
		}
		return leaseAnswer(http.StatusOK, v, r.method == http.MethodGet), nil
	case http.MethodPut:
		if r.cond.Unconditional() {
			return api.Response{}, preconditionRequired("a lease object is written with If-None-Match: * or If-Match (RED_HTTP_CONDITIONAL_WRITES=true)")
		}
		if err := objects.ValidateDatabaseKey(r.databaseKey, f.dec.dataFile); err != nil {
			return api.Response{}, err
		}
		body, err := readLeaseBody(req)
		if err != nil {
			return api.Response{}, err
		}
		v, err := f.svc.PutLeaseObject(ctx, lease.LeaseObjectPut{Principal: p, DatabaseKey: r.databaseKey,
			Body: body, IfNoneMatch: r.cond.IfNoneMatch, IfMatch: r.cond.IfMatch})
		if err != nil {
			return api.Response{}, err
		}
		return leaseAnswer(http.StatusOK, v, false), nil
	default: // DELETE
		if r.cond.IfMatch == "" {
			return api.Response{}, preconditionRequired("a lease object is deleted (released) with If-Match")
		}
		if _, err := f.svc.DeleteLeaseObject(ctx, lease.LeaseObjectDelete{Principal: p, DatabaseKey: r.databaseKey, IfMatch: r.cond.IfMatch}); err != nil {
			return api.Response{}, err
		}
		return api.Response{Status: http.StatusNoContent}, nil
	}
}

// readLeaseBody reads at most one byte more than a lease object may have,
// and refuses a body that is not what its Content-Length said.
func readLeaseBody(req api.Request) ([]byte, error) {
	if req.ContentLength > lease.MaxLeaseObjectBytes {
		return nil, tooLarge(fmt.Sprintf("a lease object is at most %d bytes", lease.MaxLeaseObjectBytes))
	}
	size := req.ContentLength
	if size < 0 {
		size = objects.UnknownSize
	}
	body, err := io.ReadAll(io.LimitReader(objects.NewBody(req.Body, size), lease.MaxLeaseObjectBytes+1))
	if err != nil {
		return nil, err
	}
	if len(body) > lease.MaxLeaseObjectBytes {
		return nil, tooLarge(fmt.Sprintf("a lease object is at most %d bytes", lease.MaxLeaseObjectBytes))
	}
	return body, nil
}

// leaseAnswer is a lease object's answer: its version as the ETag, and its
// record as RedDB writes one when withBody.
func leaseAnswer(status int, v lease.Versioned, withBody bool) api.Response {
	resp := api.Response{Status: status, Header: map[string]string{"ETag": string(v.Version)}}
	if withBody {
		resp.Body = lease.EncodeRecord(v.Record)
		resp.Header["Content-Type"] = "application/json"
	}
	return resp
}

func preconditionRequired(message string) error {
	return &refusal{status: http.StatusPreconditionRequired, code: api.CodePreconditionRequired, message: message}
}

func tooLarge(message string) error {
	return &refusal{status: http.StatusRequestEntityTooLarge, code: api.CodeTooLarge, message: message}
}

// errTooLarge marks a body that went past the face's MaxObjectBytes.
var errTooLarge = errors.New("object too large")
