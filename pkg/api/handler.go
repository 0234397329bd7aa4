package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"time"

	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/observe"
)

// Config wires a Handler. Service is required; the rest has defaults.
type Config struct {
	Service *lease.Service
	Logger  *slog.Logger     // observe.Discard() when nil
	Metrics *observe.Metrics // no metrics when nil
	// Now measures request latency; time.Now when nil. The lease clock is
	// the Service's own.
	Now func() time.Time
	// NewRequestID makes a request id when the transport supplied none;
	// 16 random bytes in hex when nil.
	NewRequestID func() string
	// Ops restricts the handler to some operations of the lease API (a
	// Lambda function serves its routes' operations, api.OpsOf); others
	// answer 404 not_found. All of the lease API's operations when empty.
	Ops []Op
}

// Handler serves the contract: the JSON lease API, one Face. It is safe
// for concurrent use.
type Handler struct {
	svc     *lease.Service
	log     *slog.Logger
	metrics *observe.Metrics
	now     func() time.Time
	newID   func() string
	ops     []Op
}

// New checks cfg and returns a Handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Service == nil {
		return nil, errors.New("api: Config.Service is required")
	}
	h := &Handler{svc: cfg.Service, log: cfg.Logger, metrics: cfg.Metrics,
		now: cfg.Now, newID: cfg.NewRequestID, ops: cfg.Ops}
	if h.log == nil {
		h.log = observe.Discard()
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.newID == nil {
		h.newID = randomID
	}
	all := OpsOfFace(FaceLease)
	if len(h.ops) == 0 {
		h.ops = all
	}
	for _, op := range h.ops {
		if !slices.Contains(all, op) {
			return nil, fmt.Errorf("api: unknown operation %q of the lease API (its operations are %q)", op, all)
		}
	}
	return h, nil
}

// NewRequestID is a request id for a request the transport gave none: 16
// random bytes in hex. Every face makes its ids this way.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

func randomID() string { return NewRequestID() }

// outcome is what one request did, for its log line and metrics.
type outcome struct {
	op         Op
	key        string
	holder     string
	principal  string
	generation uint64
	err        error       // the domain or decoding error, for the log
	extra      []slog.Attr // what an operation adds (the break-glass release)
}

// Serve answers one request. It never panics and never returns an
// internal error's text to the client.
func (h *Handler) Serve(ctx context.Context, req Request) (resp Response) {
	start := h.now()
	if req.RequestID == "" {
		req.RequestID = h.newID()
	}
	ctx, stats := observe.WithStorageStats(ctx)
	var out outcome
	var apiErr *apiError
	defer func() {
		if p := recover(); p != nil {
			out.err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
			apiErr = toAPIError(out.err)
			resp = errorResponse(req.RequestID, apiErr)
		}
		h.record(req, out, apiErr, resp.Status, start, stats)
	}()
	var body any
	body, out, apiErr = h.dispatch(ctx, req)
	if apiErr != nil {
		return errorResponse(req.RequestID, apiErr)
	}
	return jsonResponse(req.RequestID, http.StatusOK, body)
}

// dispatch routes, authenticates, decodes and calls the Service. The
// order is the contract's: unknown route (404), wrong method (405), no
// principal (401), then the request itself (400, 413), then the Service,
// which refuses keys outside the principal's prefixes (403) before any
// storage request.
func (h *Handler) dispatch(ctx context.Context, req Request) (any, outcome, *apiError) {
	rt, raw, found := lookup(req)
	out := outcome{principal: req.Principal.Name}
	if found {
		out.op = rt.Op
	}
	fail := func(err error) (any, outcome, *apiError) {
		out.err = err
		return nil, out, toAPIError(err)
	}
	if !found || !slices.Contains(h.ops, rt.Op) {
		return nil, out, notFoundRoute()
	}
	if !slices.Contains(rt.Methods, req.Method) {
		return nil, out, methodNotAllowed(req.Method, rt.Methods)
	}
	if req.Principal.Name == "" {
		return fail(Unauthenticated(req))
	}
	var pathKey *string
	if rt.Key == KeyInPath {
		key, err := unescapeKey(raw)
		out.key = key
		if err != nil {
			return fail(err)
		}
		pathKey = &key
	}
	if rt.Op == OpGet {
		snap, err := h.svc.Get(ctx, req.Principal, *pathKey)
		if err != nil {
			return fail(err)
		}
		out.holder, out.generation = snap.Lease.HolderID, snap.Lease.Generation
		return readBody{Lease: snap.Lease, State: snap.State, ExpiresInMs: snap.ExpiresInMs}, out, nil
	}
	body, unreadable := readRequestBody(req.Body, MaxBodyBytes+1)
	if len(body) > MaxBodyBytes {
		return nil, out, tooLarge()
	}
	optional := rt.Op == OpForceRelease && len(body) == 0 && unreadable == ""
	if !optional {
		if err := checkContentType(req.Header); err != nil {
			return fail(err)
		}
	}
	if unreadable != "" {
		return fail(invalidField(fieldBody, unreadable))
	}
	if rt.Op == OpForceRelease {
		answer, err := h.forceRelease(ctx, req.Principal, body, *pathKey, &out)
		if err != nil {
			return fail(err)
		}
		return answer, out, nil
	}
	l, err := h.mutate(ctx, rt.Op, req.Principal, body, pathKey, &out)
	if err != nil {
		return fail(err)
	}
	out.generation = l.Generation
	return leaseBody{Lease: l}, out, nil
}

// mutate decodes the body of acquire, refresh or release and calls the
// Service as principal, the caller the entry point established.
func (h *Handler) mutate(ctx context.Context, op Op, principal lease.Principal, body []byte, pathKey *string, out *outcome) (lease.Lease, error) {
	switch op {
	case OpAcquire:
		r, err := decodeAcquire(body, pathKey)
		if err != nil {
			return lease.Lease{}, err
		}
		out.key, out.holder, r.Principal = r.DatabaseKey, r.HolderID, principal
		return h.svc.Acquire(ctx, r)
	case OpRefresh:
		r, err := decodeRefresh(body, pathKey)
		if err != nil {
			return lease.Lease{}, err
		}
		out.key, out.holder, r.Principal = r.DatabaseKey, r.HolderID, principal
		return h.svc.Refresh(ctx, r)
	case OpRelease:
		r, err := decodeRelease(body, pathKey)
		if err != nil {
			return lease.Lease{}, err
		}
		out.key, out.holder, r.Principal = r.DatabaseKey, r.HolderID, principal
		return h.svc.Release(ctx, r)
	}
	return lease.Lease{}, fmt.Errorf("api: no mutation for %q", op)
}

// forceRelease is the break-glass release. Its log line names the admin
// (principal), the holder and principal it took the lease from, and the
// reason given.
func (h *Handler) forceRelease(ctx context.Context, principal lease.Principal, body []byte, key string, out *outcome) (forceReleaseBody, error) {
	r, reason, err := decodeForceRelease(body, key)
	if err != nil {
		return forceReleaseBody{}, err
	}
	r.Principal = principal
	got, err := h.svc.ForceRelease(ctx, r)
	if err != nil {
		return forceReleaseBody{}, err
	}
	out.holder, out.generation = got.Lease.HolderID, got.Lease.Generation
	out.extra = append(out.extra,
		slog.Bool("break_glass", true),
		slog.String("released_principal", got.Principal),
		slog.Bool("already_released", got.AlreadyReleased),
		slog.String("reason", reason))
	return forceReleaseBody{Lease: got.Lease, HolderPrincipal: got.Principal, AlreadyReleased: got.AlreadyReleased}, nil
}

type leaseBody struct {
	Lease lease.Lease `json:"lease"`
}

// forceReleaseBody is the break-glass answer: the released lease, the
// principal it belonged to (none for a record without one) and whether it
// was released before.
type forceReleaseBody struct {
	Lease           lease.Lease `json:"lease"`
	HolderPrincipal string      `json:"holder_principal,omitempty"`
	AlreadyReleased bool        `json:"already_released"`
}

type readBody struct {
	Lease       lease.Lease `json:"lease"`
	State       lease.State `json:"state"`
	ExpiresInMs uint64      `json:"expires_in_ms"`
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

func errorResponse(requestID string, e *apiError) Response {
	resp := jsonResponse(requestID, e.status, errorBody{Error: e.detail})
	if e.allow != "" {
		resp.Header["Allow"] = e.allow
	}
	if e.challenge != "" {
		resp.Header["WWW-Authenticate"] = e.challenge
	}
	if e.status == http.StatusServiceUnavailable {
		resp.Header["Retry-After"] = retryAfterSeconds(e.detail.RetryAfterMs)
	}
	return resp
}

func jsonResponse(requestID string, status int, body any) Response {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keys and holder ids come back as sent
	var out []byte
	if err := enc.Encode(body); err == nil {
		out = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	} else {
		// Unreachable: only structs of strings and integers get here.
		status, out = http.StatusInternalServerError, []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	return Response{
		Status: status,
		Header: map[string]string{
			"Content-Type":  "application/json",
			"Cache-Control": "no-store",
			HeaderRequestID: requestID,
		},
		Body: out,
	}
}

// record writes the request's log line and metrics line. It logs neither
// the body nor any header.
func (h *Handler) record(req Request, out outcome, e *apiError, status int, start time.Time, stats *observe.StorageStats) {
	latency := h.now().Sub(start)
	code := CodeOK
	if e != nil {
		code = e.detail.Code
	}
	calls, storage := stats.Totals()
	attrs := []slog.Attr{
		slog.String("request_id", req.RequestID),
		slog.String("method", req.Method),
		slog.String("route", string(out.op)),
		slog.String("key", out.key),
		slog.String("holder", out.holder),
		slog.String("principal", out.principal),
		slog.String("outcome", code),
		slog.Int("status", status),
		slog.Float64("latency_ms", ms(latency)),
		slog.Int("storage_calls", calls),
		slog.Float64("storage_ms", ms(storage)),
	}
	if out.generation != 0 {
		attrs = append(attrs, slog.Uint64("generation", out.generation))
	}
	attrs = append(attrs, out.extra...)
	level := slog.LevelInfo
	if len(out.extra) > 0 && e == nil {
		level = slog.LevelWarn // a break-glass release stands out in the log
	}
	LogRequest(h.log, level, status, out.err, attrs)

	opName := string(out.op)
	if opName == "" {
		opName = "unknown"
	}
	EmitRequestMetrics(h.metrics, opName, code, latency, calls, storage)
}

// LogRequest writes a face's one log line of a request: at level, raised
// to error for a 5xx (warn for a 503), with err as "error" for a 5xx and
// as "detail" otherwise. Every face logs its requests this way.
func LogRequest(log *slog.Logger, level slog.Level, status int, err error, attrs []slog.Attr) {
	switch {
	case status >= 500:
		level = slog.LevelError
		if status == http.StatusServiceUnavailable {
			level = slog.LevelWarn
		}
		if err != nil {
			attrs = append(attrs, slog.String("error", err.Error()))
		}
	case err != nil:
		attrs = append(attrs, slog.String("detail", err.Error()))
	}
	log.LogAttrs(context.Background(), level, "request", attrs...)
}

// EmitRequestMetrics writes a face's one metrics line of a request:
// Requests and Latency by Operation and Outcome, and StorageLatency when
// the request made storage calls.
func EmitRequestMetrics(m *observe.Metrics, op, outcome string, latency time.Duration, calls int, storage time.Duration) {
	values := map[string]float64{"Requests": 1, "Latency": ms(latency)}
	units := map[string]string{"Requests": "Count", "Latency": "Milliseconds", "StorageLatency": "Milliseconds"}
	if calls > 0 {
		values["StorageLatency"] = ms(storage)
	}
	m.Emit(map[string]string{"Operation": op, "Outcome": outcome}, values, units)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
