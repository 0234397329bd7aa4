package client_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/api/httpserver"
	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/client"
	"github.com/redlease/redlease/pkg/client/clienttest"
	"github.com/redlease/redlease/pkg/lease"
)

// epoch is the start of every test clock: 2026-01-01T00:00:00Z, the
// timestamps of REDDB-INTEROP.md.
var epoch = time.UnixMilli(1767225600000)

// env is one service over real HTTP on 127.0.0.1 plus a client for it,
// both on the same manual clock (the service's may be skewed).
type env struct {
	t      *testing.T
	clock  *clienttest.Clock
	store  *memory.Store
	faults *faults
	srv    *httptest.Server
	c      *client.Client
}

type envOpt func(*envConfig)

type envConfig struct {
	serverSkew time.Duration
	retry      client.RetryPolicy
	rand       func() float64
}

func withServerSkew(d time.Duration) envOpt { return func(c *envConfig) { c.serverSkew = d } }
func withRetry(p client.RetryPolicy) envOpt { return func(c *envConfig) { c.retry = p } }
func withRand(f func() float64) envOpt      { return func(c *envConfig) { c.rand = f } }

func newEnv(t *testing.T, opts ...envOpt) *env {
	t.Helper()
	cfg := envConfig{rand: func() float64 { return 0.5 }}
	for _, o := range opts {
		o(&cfg)
	}
	clk := clienttest.NewClock(epoch)
	store := memory.New(memory.Options{})
	svc, err := lease.New(lease.Config{
		Store: store,
		Now:   func() time.Time { return clk.Now().Add(cfg.serverSkew) },
	})
	if err != nil {
		t.Fatal(err)
	}
	f := &faults{clock: clk, queue: map[string][]fault{}}
	srv := httptest.NewServer(f.wrap(newContractHandler(svc)))
	t.Cleanup(srv.Close)
	c, err := client.New(client.Options{
		Endpoint: srv.URL, HTTPClient: srv.Client(), Clock: clk, Rand: cfg.rand, Retry: cfg.retry,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, clock: clk, store: store, faults: f, srv: srv, c: c}
}

// stored reads back what the service holds for key.
func (e *env) stored(key string) lease.Record {
	e.t.Helper()
	raw, ok := e.store.Raw(key)
	if !ok {
		e.t.Fatalf("no record stored for %q", key)
	}
	rec, err := lease.DecodeRecord(raw)
	if err != nil {
		e.t.Fatal(err)
	}
	return rec
}

func (e *env) mustAcquire(key, holder string, ttl time.Duration) client.Grant {
	e.t.Helper()
	g, err := e.c.Acquire(context.Background(), client.AcquireRequest{DatabaseKey: key, HolderID: holder, TTL: ttl})
	if err != nil {
		e.t.Fatalf("acquire %q for %q: %v", key, holder, err)
	}
	return g
}

// fault is one injected answer, used once, in the order queued.
type fault struct {
	status     int
	body       string
	header     map[string]string
	reset      bool // drop the connection before the service sees the request
	resetAfter bool // let the service apply it, then drop the connection
	hang       bool // never answer; return when the client gives up
	// advance moves the test clock before the service sees the request,
	// as if the request had been slow to arrive.
	advance time.Duration
}

type seenRequest struct {
	path   string
	header http.Header
	body   []byte
}

type faults struct {
	clock *clienttest.Clock
	mu    sync.Mutex
	queue map[string][]fault // by route: "acquire", "refresh", "release", "get"
	seen  []seenRequest
}

// routeOf names the operation of a request path: the client sends every
// operation by its route with the key in the path.
func routeOf(path string) string {
	op, _, _ := strings.Cut(strings.TrimPrefix(path, "/v1/"), "/")
	if op == "leases" {
		return "get"
	}
	return op
}

func (f *faults) add(route string, fs ...fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queue[route] = append(f.queue[route], fs...)
}

// count returns how many requests reached the server for route.
func (f *faults) count(route string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, s := range f.seen {
		if routeOf(s.path) == route {
			n++
		}
	}
	return n
}

func (f *faults) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		route := routeOf(r.URL.Path)
		f.mu.Lock()
		f.seen = append(f.seen, seenRequest{path: r.URL.Path, header: r.Header.Clone(), body: body})
		var ft *fault
		if q := f.queue[route]; len(q) > 0 {
			ft, f.queue[route] = &q[0], q[1:]
		}
		f.mu.Unlock()
		if ft != nil && ft.advance > 0 {
			f.clock.Advance(ft.advance)
			if ft.status == 0 && !ft.reset && !ft.resetAfter && !ft.hang {
				ft = nil // only slow, then served
			}
		}
		switch {
		case ft == nil:
			next.ServeHTTP(w, r)
		case ft.reset:
			hijackClose(w)
		case ft.resetAfter:
			next.ServeHTTP(httptest.NewRecorder(), r)
			hijackClose(w)
		case ft.hang:
			<-r.Context().Done()
		default:
			for k, v := range ft.header {
				w.Header().Set(k, v)
			}
			w.WriteHeader(ft.status)
			io.WriteString(w, ft.body)
		}
	})
}

func hijackClose(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		conn.Close()
	}
}

// newContractHandler serves the contract with the real local server's
// adapter (what redlease serve runs) over svc.
func newContractHandler(svc *lease.Service) http.Handler {
	core, err := api.New(api.Config{Service: svc})
	if err != nil {
		panic(err) // only a nil Service fails
	}
	return httpserver.Handler(api.Authenticate(core, api.Open()))
}
