package leaseops

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/redlease/redlease/bench/reqcount"
)

// httpObjects is RedDB's http backend (RED_BACKEND=http,
// RED_HTTP_CONDITIONAL_WRITES=true): object URL {base}/{key}, and the
// answers read as REDDB-INTEROP.md lists them. It is what RedDB sends to
// redlease's /v1/reddb face; every request counts in front.
type httpObjects struct {
	base   string // RED_HTTP_BACKEND_URL + RED_HTTP_BACKEND_PREFIX, no trailing "/"
	auth   string // RED_HTTP_BACKEND_AUTH_HEADER, sent verbatim; empty for none
	client *http.Client
	front  *reqcount.Counter
}

func (o httpObjects) do(ctx context.Context, method, key string, body []byte, hdr map[string]string) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(o.base, "/")+"/"+key, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", reddbContentType)
	}
	if o.auth != "" {
		req.Header.Set("Authorization", o.auth)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	o.front.Add(method)
	return o.client.Do(req)
}

// drain reads and closes a body so that the connection is reused.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

func (o httpObjects) Head(ctx context.Context, key string) (string, error) {
	resp, err := o.do(ctx, http.MethodHead, key, nil, nil)
	if err != nil {
		return "", err
	}
	defer drain(resp)
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return "", fmt.Errorf("HEAD %s: %w", key, errAbsent)
	case resp.StatusCode/100 != 2:
		return "", fmt.Errorf("HEAD %s: status %d", key, resp.StatusCode)
	}
	etag := resp.Header.Get("ETag")
	if etag == "" {
		return "", fmt.Errorf("HEAD %s: no ETag", key)
	}
	return etag, nil
}

func (o httpObjects) Get(ctx context.Context, key string) ([]byte, error) {
	resp, err := o.do(ctx, http.MethodGet, key, nil, nil)
	if err != nil {
		return nil, err
	}
	defer drain(resp)
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("GET %s: %w", key, errAbsent)
	case resp.StatusCode/100 != 2:
		return nil, fmt.Errorf("GET %s: status %d", key, resp.StatusCode)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 1<<20))
}

// conditional reads a conditional request's answer: 2xx ok; 404, 409 and
// 412 a failed precondition.
func conditional(method, key string, resp *http.Response) error {
	switch resp.StatusCode {
	case http.StatusNotFound, http.StatusConflict, http.StatusPreconditionFailed:
		return fmt.Errorf("%s %s: status %d: %w", method, key, resp.StatusCode, errPrecondition)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: status %d", method, key, resp.StatusCode)
	}
	return nil
}

func (o httpObjects) Put(ctx context.Context, key string, body []byte, cond Condition) error {
	hdr := map[string]string{}
	if cond.IfNoneMatch {
		hdr["If-None-Match"] = "*"
	}
	if cond.IfMatch != "" {
		hdr["If-Match"] = cond.IfMatch
	}
	resp, err := o.do(ctx, http.MethodPut, key, body, hdr)
	if err != nil {
		return err
	}
	defer drain(resp)
	return conditional(http.MethodPut, key, resp)
}

func (o httpObjects) Delete(ctx context.Context, key, ifMatch string) error {
	hdr := map[string]string{}
	if ifMatch != "" {
		hdr["If-Match"] = ifMatch
	}
	resp, err := o.do(ctx, http.MethodDelete, key, nil, hdr)
	if err != nil {
		return err
	}
	defer drain(resp)
	return conditional(http.MethodDelete, key, resp)
}
