package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/observe"
)

// Errors a Source returns.
var (
	// ErrUnchanged: the document is the version the caller named.
	ErrUnchanged = errors.New("tokens document unchanged")
	// ErrNoDocument: there is no document at the source (a stack
	// deployed before its operator wrote one).
	ErrNoDocument = errors.New("no tokens document")
)

// Source is where a tokens document lives.
type Source interface {
	// Fetch returns the document and a version naming it, or ErrUnchanged
	// when it is still the version since ("" fetches whatever is there),
	// or ErrNoDocument.
	Fetch(ctx context.Context, since string) (doc []byte, version string, err error)
	// String names the source in logs and errors (a path, s3://bucket/key).
	String() string
}

// FileSource is a tokens document in a local file. Each Fetch reads it
// whole (it is small) and versions it by its SHA-256, so an edit is seen
// whatever the file system's timestamp granularity.
func FileSource(path string) Source { return fileSource(path) }

type fileSource string

func (f fileSource) String() string { return string(f) }

func (f fileSource) Fetch(_ context.Context, since string) ([]byte, string, error) {
	doc, err := os.ReadFile(string(f))
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(doc)
	version := hex.EncodeToString(sum[:])
	if version == since {
		return nil, since, ErrUnchanged
	}
	return doc, version, nil
}

// ReloadOptions tune a Reloading.
type ReloadOptions struct {
	// Every is how often the source is checked, at most (default 1 s).
	Every time.Duration
	// Timeout bounds one check, which runs on a request's path (default
	// 2 s); a check that fails leaves the tokens as they were.
	Timeout time.Duration
	Now     func() time.Time // time.Now when nil
	Log     *slog.Logger     // observe.Discard() when nil
}

// Reloading is an api.Authenticator over a Source: it authenticates with
// the last valid document and, on the first request after each interval,
// checks the source once (other requests meanwhile go on with the current
// set). A document that cannot be read or does not parse is logged and
// leaves the previous set in force; to revoke every token, write
// {"tokens": []}. There is no goroutine: a Lambda instance is frozen
// between invocations, so a check happens when a request comes.
type Reloading struct {
	src     Source
	every   time.Duration
	timeout time.Duration
	now     func() time.Time
	log     *slog.Logger

	current atomic.Pointer[Set]
	due     atomic.Int64 // unix nanoseconds of the next check
	mu      sync.Mutex   // held by the one check in flight
	version string       // guarded by mu
}

// Load fetches and parses the document once, and fails if it cannot: a
// bad document is a start-up error naming the entry. A source without a
// document (ErrNoDocument) starts with no tokens, and a warning.
func Load(ctx context.Context, src Source, opts ReloadOptions) (*Reloading, error) {
	r := &Reloading{src: src, every: opts.Every, timeout: opts.Timeout, now: opts.Now, log: opts.Log}
	if r.every <= 0 {
		r.every = time.Second
	}
	if r.timeout <= 0 {
		r.timeout = 2 * time.Second
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = observe.Discard()
	}
	doc, version, err := src.Fetch(ctx, "")
	set := &Set{}
	switch {
	case errors.Is(err, ErrNoDocument):
		r.log.Warn("no tokens document: no bearer token is accepted until one is written", slog.String("source", src.String()))
	case err != nil:
		return nil, fmt.Errorf("tokens from %s: %w", src, err)
	default:
		if set, err = Parse(doc); err != nil {
			return nil, fmt.Errorf("tokens from %s: %w", src, err)
		}
		r.log.Info("tokens loaded", slog.String("source", src.String()), slog.Int("tokens", set.Len()))
	}
	r.current.Store(set)
	r.version = version
	r.due.Store(r.now().Add(r.every).UnixNano())
	return r, nil
}

// Authenticate implements api.Authenticator with the current set, after
// the check that is due, if any.
func (r *Reloading) Authenticate(ctx context.Context, h http.Header) (lease.Principal, error) {
	r.checkIfDue(ctx)
	return r.current.Load().Authenticate(ctx, h)
}

// Tokens is the set in force.
func (r *Reloading) Tokens() *Set { return r.current.Load() }

func (r *Reloading) checkIfDue(ctx context.Context) {
	if r.now().UnixNano() < r.due.Load() || !r.mu.TryLock() {
		return
	}
	defer r.mu.Unlock()
	if r.now().UnixNano() < r.due.Load() {
		return // another request just checked
	}
	_ = r.reload(ctx)
	r.due.Store(r.now().Add(r.every).UnixNano())
}

// Reload checks the source now (for a signal or a test); the error is
// what was logged, and the previous set stays in force after one.
func (r *Reloading) Reload(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reload(ctx)
}

func (r *Reloading) reload(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.timeout)
	defer cancel()
	doc, version, err := r.src.Fetch(ctx, r.version)
	if errors.Is(err, ErrUnchanged) {
		return nil
	}
	var set *Set
	if err == nil {
		set, err = Parse(doc)
	}
	if err != nil {
		r.log.Error("tokens not reloaded; the previous ones stay in force", slog.String("source", r.src.String()),
			slog.Int("tokens", r.current.Load().Len()), slog.String("error", err.Error()))
		return fmt.Errorf("tokens from %s: %w", r.src, err)
	}
	r.current.Store(set)
	r.version = version
	r.log.Info("tokens reloaded", slog.String("source", r.src.String()), slog.Int("tokens", set.Len()))
	return nil
}
