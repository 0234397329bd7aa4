package reddb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"time"

	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/objects"
	"github.com/redlease/redlease/pkg/observe"
)

// Objects is the store of RedDB's data objects, as the face uses it: the
// object stores of pkg/backend (memory.Objects, file.Objects, s3.Objects)
// satisfy it, and pkg/objects/objectstest is the conformance suite they
// run. Errors are pkg/lease's sentinels (see pkg/objects).
type Objects interface {
	Head(ctx context.Context, key string) (objects.Info, error)
	Get(ctx context.Context, key string) (io.ReadCloser, objects.Info, error)
	Put(ctx context.Context, key string, body io.Reader, size int64, opts objects.PutOptions) (objects.Info, error)
	Delete(ctx context.Context, key string, cond objects.Condition) error
	List(ctx context.Context, prefix string, fn func(key string) error) error
}

// Defaults of Config.
const (
	// DefaultFenceMargin is how long a lease must still run for a data
	// write to be accepted, and how long before the lease's expiry an
	// accepted write is abandoned if it has not landed.
	DefaultFenceMargin = time.Second
	// earlyCheckBytes: a data write larger than this (or of unknown size)
	// is also fenced before its body is received, so that a deposed writer
	// does not get to upload a whole database first. Smaller ones are
	// fenced once, at the commit.
	earlyCheckBytes = 8 << 20
)

// Config wires a Face. Service and Objects are required.
type Config struct {
	Service *lease.Service
	Objects Objects
	// LeasePrefix is where lease objects live: the lease store's prefix
	// (lease.DefaultPrefix when empty). It must end in "/".
	LeasePrefix string
	// DataFile is the name of a database's data file, which a database key
	// must end in (objects.DefaultDataFile when empty).
	DataFile string
	// RequireLease refuses data writes to databases without a lease record
	// (REDLEASE_REDDB_REQUIRE_LEASE); by default they are allowed.
	RequireLease bool
	// FenceMargin is DefaultFenceMargin when zero.
	FenceMargin time.Duration
	// MaxObjectBytes bounds the objects a PUT may store and a GET may
	// return (413 beyond it); 0 for no bound. A Lambda function sets it to
	// what its payloads carry; redlease serve streams without one.
	MaxObjectBytes int64
	// SizeAdvice completes the 413 message: what to use instead.
	SizeAdvice string
	Logger     *slog.Logger     // observe.Discard() when nil
	Metrics    *observe.Metrics // no metrics when nil
	// Now measures request latency; time.Now when nil. Lease decisions use
	// the Service's clock.
	Now func() time.Time
	// NewRequestID makes a request id when the transport supplied none.
	NewRequestID func() string
}

// Face serves RedDB's object protocol. It is safe for concurrent use.
type Face struct {
	svc     *lease.Service
	objs    Objects
	dec     decoder
	require bool
	margin  time.Duration
	maxSize int64
	advice  string
	log     *slog.Logger
	metrics *observe.Metrics
	now     func() time.Time
	newID   func() string
}

var _ api.Face = (*Face)(nil)

// New checks cfg and returns a Face.
func New(cfg Config) (*Face, error) {
	if cfg.Service == nil || cfg.Objects == nil {
		return nil, errors.New("reddb: Config.Service and Config.Objects are required")
	}
	f := &Face{svc: cfg.Service, objs: cfg.Objects, require: cfg.RequireLease, margin: cfg.FenceMargin,
		maxSize: cfg.MaxObjectBytes, advice: cfg.SizeAdvice, log: cfg.Logger, metrics: cfg.Metrics,
		now: cfg.Now, newID: cfg.NewRequestID,
		dec: decoder{leasePrefix: cfg.LeasePrefix, dataFile: cfg.DataFile}}
	if f.dec.leasePrefix == "" {
		f.dec.leasePrefix = lease.DefaultPrefix
	}
	if f.dec.leasePrefix[len(f.dec.leasePrefix)-1] != '/' {
		return nil, fmt.Errorf("reddb: lease prefix %q must end in '/'", f.dec.leasePrefix)
	}
	if f.dec.dataFile == "" {
		f.dec.dataFile = objects.DefaultDataFile
	}
	if f.margin == 0 {
		f.margin = DefaultFenceMargin
	}
	if f.margin < 0 || f.maxSize < 0 {
		return nil, errors.New("reddb: FenceMargin and MaxObjectBytes must not be negative")
	}
	if f.log == nil {
		f.log = observe.Discard()
	}
	if f.now == nil {
		f.now = time.Now
	}
	if f.newID == nil {
		f.newID = api.NewRequestID
	}
	return f, nil
}

// outcome is what one request did, for its log line and metrics.
type outcome struct {
	class     class
	key       string
	principal string
	code      string
	err       error
	size      int64
}

// Serve answers one request. It never panics and never returns an
// internal error's text to the client.
func (f *Face) Serve(ctx context.Context, req api.Request) (resp api.Response) {
	start := f.now()
	if req.RequestID == "" {
		req.RequestID = f.newID()
	}
	ctx, stats := observe.WithStorageStats(ctx)
	out := outcome{code: api.CodeOK}
	defer func() {
		if p := recover(); p != nil {
			out.err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
			resp, out.code = api.ErrorResponse(req.RequestID, out.err)
		}
		resp = finish(req, resp, out.code)
		f.record(req, out, resp.Status, start, stats)
	}()
	r, err := f.dec.decode(req)
	if err != nil {
		return f.fail(req.RequestID, &out, err)
	}
	out.class, out.key = r.class, r.key
	if r.class == classList {
		out.key = r.listPrefix
	}
	p := req.Principal
	if p.Name == "" {
		// Until every transport establishes principals (#10's
		// authentication), an unauthenticated request is the open local
		// server's, as in the JSON API.
		p = lease.Anonymous
	}
	out.principal = p.Name
	switch r.class {
	case classLease:
		resp, err = f.leaseObject(ctx, req, r, p)
	case classData:
		resp, err = f.dataObject(ctx, req, r, p, &out)
	default:
		resp, err = f.list(ctx, req, r, p)
	}
	if err != nil {
		return f.fail(req.RequestID, &out, err)
	}
	return resp
}

// fail answers err and notes it for the log.
func (f *Face) fail(requestID string, out *outcome, err error) api.Response {
	out.err = err
	var ref *refusal
	if errors.As(err, &ref) {
		out.code = ref.code
		return api.RefusalResponse(requestID, ref.status, ref.code, ref.message, ref.allow)
	}
	var resp api.Response
	resp, out.code = api.ErrorResponse(requestID, err)
	return resp
}

// finish applies what every answer needs: the request id and no caching,
// and for HEAD no body and Content-Length: 0 whatever the status (RedDB's
// `curl -X HEAD` waits for as many body bytes as Content-Length announces,
// and for the connection to close when there is none).
func finish(req api.Request, resp api.Response, code string) api.Response {
	if resp.Header == nil {
		resp.Header = map[string]string{}
	}
	resp.Header[api.HeaderRequestID] = req.RequestID
	resp.Header["Cache-Control"] = "no-store"
	if req.Method == http.MethodHead {
		if resp.Stream != nil {
			resp.Stream.Close()
			resp.Stream = nil
		}
		resp.Body = nil
		resp.Header["Content-Length"] = "0"
		delete(resp.Header, "Content-Type")
		if resp.Status >= 400 {
			resp.Header["X-Redlease-Error"] = code // the body that HEAD cannot carry
		}
	}
	return resp
}

// record writes the request's log line and metrics line. It logs neither
// bodies nor headers.
func (f *Face) record(req api.Request, out outcome, status int, start time.Time, stats *observe.StorageStats) {
	latency := f.now().Sub(start)
	calls, storage := stats.Totals()
	attrs := []slog.Attr{
		slog.String("request_id", req.RequestID),
		slog.String("face", api.FaceRedDB),
		slog.String("method", req.Method),
		slog.String("class", out.class.String()),
		slog.String("key", out.key),
		slog.String("principal", out.principal),
		slog.String("outcome", out.code),
		slog.Int("status", status),
		slog.Float64("latency_ms", float64(latency.Microseconds())/1000),
		slog.Int("lease_storage_calls", calls),
	}
	if out.size > 0 {
		attrs = append(attrs, slog.Int64("bytes", out.size))
	}
	api.LogRequest(f.log, slog.LevelInfo, status, out.err, attrs)
	method := req.Method
	if !slices.Contains(methods, method) {
		method = "OTHER" // a dimension must not take whatever a client sends
	}
	api.EmitRequestMetrics(f.metrics, "reddb_"+out.class.String()+"_"+method, out.code, latency, calls, storage)
}
