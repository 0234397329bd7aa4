// Package apitest builds api Handlers for tests: a memory store (optionally
// behind a store that fails on purpose), a clock the test moves, fixed
// request ids, and buffers that capture the log and metrics lines. The
// adapter and contract tests of pkg/api share it, so they all exercise the
// same wiring as production (lease.Service behind observe.TimedStore).
package apitest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/redlease/redlease/internal/testclock"
	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/observe"
)

// Epoch is 2026-01-01T00:00:00Z, the clock's start (1767225600000 ms).
var Epoch = testclock.Epoch

// Clock is the shared settable test clock.
type Clock = testclock.Clock

// Buffer is a bytes.Buffer safe for concurrent writes.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what was written.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Env is one wired handler and what a test inspects.
type Env struct {
	// Handler is the JSON API behind api.Authenticate with Options.Auth
	// (api.Open when nil: every request is lease.Anonymous), as the
	// entry points wire it.
	Handler api.Face
	// API is the JSON API itself: requests reach it without a principal
	// unless the test sets one.
	API     *api.Handler
	Service *lease.Service
	Memory  *memory.Store
	Clock   *Clock
	Logs    *Buffer
	Metrics *Buffer
}

// Options tune New.
type Options struct {
	// Wrap, when set, puts a store in front of the memory store.
	Wrap func(lease.ListingStore) lease.ListingStore
	Ops  []api.Op
	// Auth establishes principals (api.Open when nil).
	Auth api.Authenticator
}

// New returns an Env with the clock at Epoch. Request ids are "req-1",
// "req-2", ... unless the transport supplies one.
func New(t testing.TB, opts Options) *Env {
	t.Helper()
	e := &Env{Memory: memory.New(memory.Options{}), Clock: testclock.New(Epoch), Logs: &Buffer{}, Metrics: &Buffer{}}
	var store lease.ListingStore = e.Memory
	if opts.Wrap != nil {
		store = opts.Wrap(store)
	}
	svc, err := lease.New(lease.Config{
		Store: observe.TimedStore(store, e.Clock.Now),
		Now:   e.Clock.Now,
		// The cache would let a warm instance skip reads; tests that
		// break the store want every request to reach it.
		CacheSize: -1,
	})
	if err != nil {
		t.Fatalf("lease.New: %v", err)
	}
	var mu sync.Mutex
	n := 0
	e.Service = svc
	e.API, err = api.New(api.Config{
		Service: svc,
		Logger:  observe.NewLogger(e.Logs, -8), // everything
		Metrics: observe.NewMetrics(e.Metrics, "").WithClock(e.Clock.Now),
		Now:     e.Clock.Now,
		NewRequestID: func() string {
			mu.Lock()
			defer mu.Unlock()
			n++
			return fmt.Sprintf("req-%d", n)
		},
		Ops: opts.Ops,
	})
	if err != nil {
		t.Fatalf("api.New: %v", err)
	}
	auth := opts.Auth
	if auth == nil {
		auth = api.Open()
	}
	e.Handler = api.Authenticate(e.API, auth)
	return e
}

// StoreHash is a digest of everything the store holds: every key, its
// version and its bytes. Equal digests before and after a request prove
// the request wrote nothing.
func StoreHash(t testing.TB, s interface {
	lease.Lister
	Load(ctx context.Context, key string) (lease.Versioned, error)
}) string {
	t.Helper()
	h := sha256.New()
	cursor := ""
	for {
		page, err := s.List(context.Background(), cursor, 100)
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		for _, e := range page.Entries {
			v := lease.Versioned{Version: e.Version}
			if e.Record != nil {
				v.Record = *e.Record
			} else if v, err = s.Load(context.Background(), e.Key); err != nil {
				t.Fatalf("Load %q: %v", e.Key, err)
			}
			fmt.Fprintf(h, "%q %q %s\n", v.Record.DatabaseKey, v.Version, lease.EncodeRecord(v.Record))
		}
		for _, u := range page.Unreadable {
			fmt.Fprintf(h, "unreadable %q\n", u.Key)
		}
		if page.Next == "" {
			return hex.EncodeToString(h.Sum(nil))
		}
		cursor = page.Next
	}
}

// Broken is a store whose calls fail with the given errors (nil: pass
// through to Inner).
type Broken struct {
	lease.ListingStore
	LoadErr  error
	WriteErr error
}

// Load implements lease.Store.
func (b *Broken) Load(ctx context.Context, key string) (lease.Versioned, error) {
	if b.LoadErr != nil {
		return lease.Versioned{}, b.LoadErr
	}
	return b.ListingStore.Load(ctx, key)
}

// Create implements lease.Store.
func (b *Broken) Create(ctx context.Context, rec lease.Record) (lease.Version, error) {
	if b.WriteErr != nil {
		return "", b.WriteErr
	}
	return b.ListingStore.Create(ctx, rec)
}

// Replace implements lease.Store.
func (b *Broken) Replace(ctx context.Context, rec lease.Record, expect lease.Version) (lease.Version, error) {
	if b.WriteErr != nil {
		return "", b.WriteErr
	}
	return b.ListingStore.Replace(ctx, rec, expect)
}

// ContractCodes are the codes a 4xx may carry: the contract's, plus the
// method_not_allowed extension and malformed_request (a request no face
// saw: an API Gateway event without a method, what net/http cannot parse).
var ContractCodes = []string{"invalid_request", "not_found", "held", "fenced", "stale", "lost_race",
	"too_large", "method_not_allowed", "unauthorized", "forbidden", "malformed_request"}

// CheckContractAnswer fails unless the answer is a 200 or a 4xx whose JSON
// body carries a contract code (and a field when invalid_request).
func CheckContractAnswer(t testing.TB, status int, body []byte) {
	t.Helper()
	if status == http.StatusOK {
		return
	}
	var eb struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Field   string `json:"field"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &eb); err != nil {
		t.Fatalf("status %d with a body that is not JSON: %q", status, body)
	}
	if status < 400 || status > 499 || !slices.Contains(ContractCodes, eb.Error.Code) || eb.Error.Message == "" {
		t.Fatalf("answer %d %s: want 200 or a 4xx with a contract code and a message", status, body)
	}
	if eb.Error.Code == "invalid_request" && eb.Error.Field == "" {
		t.Fatalf("invalid_request without field: %s", body)
	}
}
