package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/redlease/redlease/pkg/lease"
)

// SigningService is the SigV4 service name of API Gateway.
const SigningService = "execute-api"

// maxResponseBytes bounds what the client reads from one answer; the largest
// legitimate answer is a lease of a 512-byte key, well under this.
const maxResponseBytes = 1 << 20

type call struct {
	op, method, path string
	body             any // JSON-encoded once; nil for GET
	write            bool
	facts            requestFacts
}

type result struct {
	op         string
	body       []byte
	sentAt     time.Time
	receivedAt time.Time
	requestID  string
}

func (r *result) decode(v *leaseBody) error {
	if err := json.Unmarshal(r.body, v); err != nil || v.Lease == nil {
		return fmt.Errorf("%s: %w: body %.200q", r.op, ErrUnexpected, r.body)
	}
	return nil
}

// do runs one call with bounded, jittered retries. It returns the first 2xx
// answer, or the final error: an *APIError for a refusal, wrapped in an
// *OutcomeUnknownError when a write attempt may have been applied and no
// later answer settled the question.
func (c *Client) do(ctx context.Context, cl call) (*result, error) {
	var payload []byte
	if cl.body != nil {
		var err error
		if payload, err = json.Marshal(cl.body); err != nil {
			return nil, fmt.Errorf("%s: encode request: %w", cl.op, err)
		}
	}
	unknown := false // sticky until a definitive answer settles it
	var last error
	for attempt := 0; ; attempt++ {
		res, oc, err := c.attempt(ctx, cl, payload)
		if err == nil {
			return res, nil
		}
		last = err
		switch {
		case oc.unknown:
			unknown = true
		case oc.settles:
			unknown = false // held, fenced, stale describe the lease as it is now
		}
		if ctx.Err() != nil || !oc.retry || attempt+1 >= c.retry.MaxAttempts {
			break
		}
		d := c.retry.delay(attempt, hint(err), c.rand)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
			break // the caller's deadline ends before the next attempt could start
		}
		if err := sleep(ctx, c.clock, d); err != nil {
			last = fmt.Errorf("%w (last attempt: %w)", err, last)
			break
		}
	}
	if unknown && cl.write {
		return nil, &OutcomeUnknownError{Op: cl.op, Err: last}
	}
	return nil, last
}

// attempt sends one request. A new request is built and signed each time:
// the signature covers X-Amz-Date.
func (c *Client) attempt(ctx context.Context, cl call, payload []byte) (*result, outcome, error) {
	u := c.base.String() + cl.path
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, u, body)
	if err != nil {
		return nil, outcome{}, fmt.Errorf("%s: build request: %w", cl.op, err)
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	sentAt := c.clock.Now()
	if err := c.sign(ctx, req, payload); err != nil {
		return nil, outcome{}, fmt.Errorf("%s: sign request: %w", cl.op, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		oc := classifyTransport(err, cl.write)
		if ctx.Err() != nil {
			oc.retry = false
			return nil, oc, fmt.Errorf("%s: %w", cl.op, context.Cause(ctx))
		}
		return nil, oc, fmt.Errorf("%s: %w", cl.op, lease.Unavailable(redact(err), 0))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		// The service answered but the body broke: for a 2xx the write
		// happened and we cannot know the lease, so it is still unknown.
		oc := outcome{retry: ctx.Err() == nil, unknown: cl.write}
		return nil, oc, fmt.Errorf("%s: read answer: %w", cl.op, lease.Unavailable(redact(err), 0))
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return &result{
			op: cl.op, body: data, sentAt: sentAt, receivedAt: c.clock.Now(),
			requestID: requestID(resp.Header, ""),
		}, outcome{}, nil
	}
	ae := decodeAPIError(cl.op, resp.StatusCode, resp.Header, data, cl.facts)
	return nil, classifyStatus(resp.StatusCode, ae.Code, cl.write), ae
}

// sign adds the credentials: the bearer token, or a SigV4 Authorization
// header (and X-Amz-Date, and X-Amz-Security-Token for temporary
// credentials) when the client signs.
func (c *Client) sign(ctx context.Context, req *http.Request, payload []byte) error {
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
		return nil
	}
	if c.creds == nil {
		return nil
	}
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(payload)
	// The signature carries real time, not the injected clock: AWS refuses
	// a signature more than five minutes off.
	return v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), SigningService, c.region, time.Now())
}

// redact drops the URL from *url.Error so messages stay short; the op name
// already says what was called.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
