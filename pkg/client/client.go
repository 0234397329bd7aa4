package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/redlease/redlease/pkg/lease"
)

// DefaultEndpoint is where `redlease serve` (and `make run`) listens.
const DefaultEndpoint = "http://127.0.0.1:8080"

// Options configure a Client. Only Endpoint is required.
type Options struct {
	// Endpoint is the API's base URL: DefaultEndpoint for redlease serve, or
	// an API Gateway stage URL such as
	// "https://abc123.execute-api.eu-west-1.amazonaws.com/prod".
	Endpoint string
	// HTTPClient sends the requests (http.DefaultClient when nil). Leave its
	// Timeout zero and bound calls with the context instead.
	HTTPClient *http.Client
	// Credentials, when set, signs every request with SigV4 for service
	// "execute-api" in Region. Nil sends requests unsigned, which is what
	// redlease serve expects. NewAWS fills both from the AWS credential chain.
	Credentials aws.CredentialsProvider
	Region      string
	// Token, when set, is sent as "Authorization: Bearer <token>" on every
	// request: what redlease serve --tokens and the RedDB face want. It
	// excludes Credentials (both would fill the Authorization header).
	Token string
	Retry RetryPolicy
	// Clock drives backoff, Wait and the Keeper (SystemClock when nil).
	Clock Clock
	// Rand returns a uniform number in [0, 1) for jitter (math/rand/v2 when nil).
	Rand      func() float64
	UserAgent string
}

// Client calls the redlease HTTP API. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	http      *http.Client
	creds     aws.CredentialsProvider
	region    string
	token     string
	retry     RetryPolicy
	clock     Clock
	rand      func() float64
	userAgent string
}

// New checks o and returns a Client.
func New(o Options) (*Client, error) {
	if o.Endpoint == "" {
		return nil, errors.New("client: Options.Endpoint is required")
	}
	u, err := url.Parse(strings.TrimRight(o.Endpoint, "/"))
	if err != nil {
		return nil, fmt.Errorf("client: endpoint %q: %w", o.Endpoint, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("client: endpoint %q: want http(s)://host[:port][/stage]", o.Endpoint)
	}
	if o.Credentials != nil && o.Token != "" {
		return nil, errors.New("client: Options.Credentials and Options.Token both fill the Authorization header; choose one")
	}
	if strings.ContainsAny(o.Token, " \t\r\n") {
		return nil, errors.New("client: Options.Token must not contain white space")
	}
	if o.Credentials != nil && o.Region == "" {
		o.Region = RegionFromEndpoint(o.Endpoint)
		if o.Region == "" {
			return nil, fmt.Errorf("client: signing needs a region and endpoint %q names none", o.Endpoint)
		}
	}
	c := &Client{
		base:      u,
		http:      o.HTTPClient,
		creds:     o.Credentials,
		region:    o.Region,
		token:     o.Token,
		retry:     o.Retry.withDefaults(),
		clock:     o.Clock,
		rand:      o.Rand,
		userAgent: o.UserAgent,
	}
	if c.http == nil {
		c.http = http.DefaultClient
	}
	if c.clock == nil {
		c.clock = SystemClock()
	}
	if c.rand == nil {
		c.rand = rand.Float64
	}
	if c.userAgent == "" {
		c.userAgent = "redlease-go-client/1"
	}
	return c, nil
}

// Clock returns the client's clock.
func (c *Client) Clock() Clock { return c.clock }

// Signed reports whether requests carry a SigV4 signature.
func (c *Client) Signed() bool { return c.creds != nil }

// Bearer reports whether requests carry a bearer token.
func (c *Client) Bearer() bool { return c.token != "" }

// AcquireRequest asks for the lease of DatabaseKey.
type AcquireRequest struct {
	DatabaseKey string
	HolderID    string
	TTL         time.Duration // sent as whole milliseconds
	Term        uint64        // 0 sends none: the service uses term 1
}

// RefreshRequest extends one generation.
type RefreshRequest struct {
	DatabaseKey string
	HolderID    string
	Generation  uint64
	TTL         time.Duration
	// CurrentTerm, when non-zero, has the service refuse with fenced if the
	// lease's term is behind it.
	CurrentTerm uint64
	// Term, when non-zero, is the term the lease was acquired at (a
	// redlease extension of the contract): with CurrentTerm the service
	// refuses before any storage I/O, and it must match the stored lease.
	Term uint64
}

// ReleaseRequest gives one generation up.
type ReleaseRequest struct {
	DatabaseKey string
	HolderID    string
	Generation  uint64
}

// Grant is a lease the service granted (Acquire, Wait) or extended (Refresh).
type Grant struct {
	Lease lease.Lease
	TTL   time.Duration
	// SentAt is the client's clock when the attempt that got this answer
	// was sent. The service set expires_at_ms from its own clock at some
	// later instant, so SentAt+TTL never overstates the lease.
	SentAt    time.Time
	RequestID string
}

// Deadline is the last instant, on the client's clock, until which the lease
// is known to be live: SentAt + TTL. It does not depend on the service's
// clock agreeing with the client's (only on both running at the same rate).
func (g Grant) Deadline() time.Time { return g.SentAt.Add(g.TTL) }

// Snapshot is the read route's answer.
type Snapshot struct {
	Lease      lease.Lease
	State      lease.State
	ExpiresIn  time.Duration
	RequestID  string
	ReceivedAt time.Time // client clock
}

// The bodies of the routes with the key in the path: the key travels in
// the path, where an IAM policy can scope it, and not in the body.
type acquireBody struct {
	HolderID string `json:"holder_id"`
	TTLMs    int64  `json:"ttl_ms"`
	Term     uint64 `json:"term,omitempty"`
}

type refreshBody struct {
	HolderID    string `json:"holder_id"`
	Generation  uint64 `json:"generation"`
	TTLMs       int64  `json:"ttl_ms"`
	CurrentTerm uint64 `json:"current_term,omitempty"`
	Term        uint64 `json:"term,omitempty"`
}

type releaseBody struct {
	HolderID   string `json:"holder_id"`
	Generation uint64 `json:"generation"`
}

type forceReleaseBody struct {
	Reason string `json:"reason,omitempty"`
}

type leaseBody struct {
	Lease       *lease.Lease `json:"lease"`
	State       lease.State  `json:"state"`
	ExpiresInMs uint64       `json:"expires_in_ms"`
}

// Acquire takes the lease. Refusals match lease.ErrHeld (with the current
// lease in *lease.HeldError), lease.ErrFenced, lease.ErrInvalid; transient
// failures are retried and then match lease.ErrUnavailable or
// lease.ErrLostRace; ErrOutcomeUnknown says an unseen generation may exist.
func (c *Client) Acquire(ctx context.Context, r AcquireRequest) (Grant, error) {
	term := r.Term
	if term == 0 {
		term = lease.DefaultTerm
	}
	path, err := keyPath("/v1/acquire/", r.DatabaseKey)
	if err != nil {
		return Grant{}, fmt.Errorf("acquire %q: %w", r.DatabaseKey, err)
	}
	res, err := c.do(ctx, call{
		op: "acquire", method: http.MethodPost, path: path, write: true,
		body:  acquireBody{r.HolderID, r.TTL.Milliseconds(), r.Term},
		facts: requestFacts{holderID: r.HolderID, term: term},
	})
	if err != nil {
		return Grant{}, err
	}
	return res.grant(r.TTL)
}

// Refresh extends one generation. stale and fenced are final: the lease is
// gone and retrying cannot bring it back.
func (c *Client) Refresh(ctx context.Context, r RefreshRequest) (Grant, error) {
	path, err := keyPath("/v1/refresh/", r.DatabaseKey)
	if err != nil {
		return Grant{}, fmt.Errorf("refresh %q: %w", r.DatabaseKey, err)
	}
	res, err := c.do(ctx, call{
		op: "refresh", method: http.MethodPost, path: path, write: true,
		body:  refreshBody{r.HolderID, r.Generation, r.TTL.Milliseconds(), r.CurrentTerm, r.Term},
		facts: requestFacts{holderID: r.HolderID, generation: r.Generation, term: r.Term},
	})
	if err != nil {
		return Grant{}, err
	}
	return res.grant(r.TTL)
}

// Release gives a generation up and returns the released record. Releasing
// twice returns the same record; lease.ErrStale means the generation is no
// longer this holder's — either way the caller holds nothing afterwards.
func (c *Client) Release(ctx context.Context, r ReleaseRequest) (lease.Lease, error) {
	path, err := keyPath("/v1/release/", r.DatabaseKey)
	if err != nil {
		return lease.Lease{}, fmt.Errorf("release %q: %w", r.DatabaseKey, err)
	}
	res, err := c.do(ctx, call{
		op: "release", method: http.MethodPost, path: path, write: true,
		body:  releaseBody{r.HolderID, r.Generation},
		facts: requestFacts{holderID: r.HolderID, generation: r.Generation},
	})
	if err != nil {
		return lease.Lease{}, err
	}
	var lb leaseBody
	if err := res.decode(&lb); err != nil {
		return lease.Lease{}, err
	}
	return *lb.Lease, nil
}

// Get reads the lease of a key; lease.ErrNotFound when none was ever taken.
func (c *Client) Get(ctx context.Context, databaseKey string) (Snapshot, error) {
	path, err := keyPath("/v1/leases/", databaseKey)
	if err != nil {
		return Snapshot{}, fmt.Errorf("get %q: %w", databaseKey, err)
	}
	res, err := c.do(ctx, call{op: "get", method: http.MethodGet, path: path})
	if err != nil {
		return Snapshot{}, err
	}
	var lb leaseBody
	if err := res.decode(&lb); err != nil {
		return Snapshot{}, err
	}
	return Snapshot{
		Lease:      *lb.Lease,
		State:      lb.State,
		ExpiresIn:  msDuration(lb.ExpiresInMs),
		RequestID:  res.requestID,
		ReceivedAt: res.receivedAt,
	}, nil
}

func (r *result) grant(ttl time.Duration) (Grant, error) {
	var lb leaseBody
	if err := r.decode(&lb); err != nil {
		return Grant{}, err
	}
	return Grant{
		Lease:     *lb.Lease,
		TTL:       ttl.Truncate(time.Millisecond),
		SentAt:    r.sentAt,
		RequestID: r.requestID,
	}, nil
}

// ForceReleased is the break-glass answer.
type ForceReleased struct {
	Lease lease.Lease
	// Principal is the principal the lease belonged to ("" for a lease
	// recorded without one).
	Principal       string
	AlreadyReleased bool
	RequestID       string
}

// ForceRelease is the break-glass release of whatever lease a key has, for
// an admin principal (an admin bearer token, or an IAM role the admin
// policy is attached to); reason goes to the service's log. Others get
// lease.ErrForbidden. It is safe to repeat: a released lease answers again
// with AlreadyReleased.
func (c *Client) ForceRelease(ctx context.Context, databaseKey, reason string) (ForceReleased, error) {
	path, err := keyPath("/v1/admin/release/", databaseKey)
	if err != nil {
		return ForceReleased{}, fmt.Errorf("force release %q: %w", databaseKey, err)
	}
	res, err := c.do(ctx, call{op: "force release", method: http.MethodPost, path: path, write: true, body: forceReleaseBody{reason}})
	if err != nil {
		return ForceReleased{}, err
	}
	var body struct {
		Lease           *lease.Lease `json:"lease"`
		HolderPrincipal string       `json:"holder_principal"`
		AlreadyReleased bool         `json:"already_released"`
	}
	if err := json.Unmarshal(res.body, &body); err != nil || body.Lease == nil {
		return ForceReleased{}, fmt.Errorf("force release: %w: body %.200q", ErrUnexpected, res.body)
	}
	return ForceReleased{Lease: *body.Lease, Principal: body.HolderPrincipal, AlreadyReleased: body.AlreadyReleased, RequestID: res.requestID}, nil
}

// keyPath builds a route with the key in the path (prefix ends in "/").
// The key travels as a greedy path, so its segments are escaped one by one
// and "." / ".." / empty segments, which HTTP path cleaning would rewrite
// into another key, are refused here.
func keyPath(prefix, key string) (string, error) {
	if key == "" || strings.HasPrefix(key, "/") {
		return "", &lease.InvalidError{Field: "database_key", Reason: "must not be empty or start with '/'"}
	}
	segs := strings.Split(key, "/")
	for i, s := range segs {
		if s == "" || s == "." || s == ".." {
			return "", &lease.InvalidError{Field: "database_key", Reason: "must not contain empty, '.' or '..' segments"}
		}
		segs[i] = url.PathEscape(s)
	}
	return prefix + strings.Join(segs, "/"), nil
}
