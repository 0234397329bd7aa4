package reddbtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// The writer_lease values of GET /admin/status. RedDB reports not_required
// both when the lease is off and before the boot-time acquire has run.
const (
	LeaseHeld        = "held"
	LeaseNotHeld     = "not_held"
	LeaseNotRequired = "not_required"
)

// Status is the part of GET /admin/status the tests read.
type Status struct {
	Phase       string `json:"phase"` // starting, ready, draining, shutting_down, stopped
	WriterLease string `json:"writer_lease"`
	ReadOnly    bool   `json:"read_only"`
	Version     string `json:"version"`
	// Raw is the whole document.
	Raw map[string]any `json:"-"`
}

// adminClient bounds every admin call: RedDB binds its port before it opens
// the database and acquires the lease, and answers only after both, so a
// request sent during boot waits rather than failing.
var adminClient = &http.Client{Timeout: 60 * time.Second}

// Status fetches GET /admin/status once.
func (s *Server) Status(ctx context.Context) (Status, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	code, body, err := s.admin(ctx, http.MethodGet, "/admin/status")
	if err != nil {
		return Status{}, err
	}
	if code != http.StatusOK {
		return Status{}, fmt.Errorf("GET /admin/status: %d %s", code, strings.TrimSpace(string(body)))
	}
	var st Status
	if err := json.Unmarshal(body, &st); err != nil {
		return Status{}, fmt.Errorf("GET /admin/status: %w", err)
	}
	if err := json.Unmarshal(body, &st.Raw); err != nil {
		return Status{}, fmt.Errorf("GET /admin/status: %w", err)
	}
	return st, nil
}

// ErrExited is returned by AwaitLease when the instance exits first.
var ErrExited = errors.New("instance exited")

// AwaitLease polls /admin/status until writer_lease is want, the instance
// exits (ErrExited, wrapped with the exit and the end of its stderr), or ctx
// ends.
func (s *Server) AwaitLease(ctx context.Context, want string) (Status, error) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last Status
	var lastErr error
	for {
		if s.Exited() {
			return last, fmt.Errorf("%w while waiting for writer_lease %q: %s\nstderr:\n%s",
				ErrExited, want, s.exit, lastLines(s.exit.Stderr, 20))
		}
		st, err := s.Status(ctx)
		if err == nil && st.WriterLease == want {
			return st, nil
		}
		if err == nil {
			last = st
		}
		lastErr = err
		select {
		case <-ctx.Done():
			err := fmt.Errorf("writer_lease %q not reached (last status %+v): %w", want, last, ctx.Err())
			if lastErr != nil {
				err = errors.Join(err, fmt.Errorf("last poll: %w", lastErr))
			}
			return last, err
		case <-s.done:
		case <-tick.C:
		}
	}
}

// WaitLease is AwaitLease with a deadline that fails the test.
func (s *Server) WaitLease(want string, timeout time.Duration) Status {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	st, err := s.AwaitLease(ctx, want)
	if err != nil {
		s.t.Fatalf("reddbtest: %s: %v", s.Name, err)
	}
	return st
}

// Drain posts /admin/drain: RedDB stops accepting writes and releases its
// lease at the next refresh tick.
func (s *Server) Drain() {
	s.t.Helper()
	s.mustAdmin(http.MethodPost, "/admin/drain")
}

// Shutdown posts /admin/shutdown: RedDB flushes, uploads its data file and a
// backup when it holds the lease, and moves to phase stopped. The process
// keeps running; the lease is released at the next refresh tick.
func (s *Server) Shutdown() map[string]any {
	s.t.Helper()
	body := s.mustAdmin(http.MethodPost, "/admin/shutdown")
	var report map[string]any
	if err := json.Unmarshal(body, &report); err != nil {
		s.t.Fatalf("reddbtest: /admin/shutdown: %v: %s", err, body)
	}
	return report
}

// Backup posts /admin/backup (snapshot, WAL segment, manifests) and returns
// RedDB's answer, success or not.
func (s *Server) Backup(ctx context.Context) (int, []byte, error) {
	return s.admin(ctx, http.MethodPost, "/admin/backup")
}

// Checkpoint posts /checkpoint (local checkpoint, then an upload of the data
// file when the lease allows) and returns RedDB's answer.
func (s *Server) Checkpoint(ctx context.Context) (int, []byte, error) {
	return s.admin(ctx, http.MethodPost, "/checkpoint")
}

// Exec runs one SQL statement through POST /query and returns RedDB's
// answer, success or not.
func (s *Server) Exec(ctx context.Context, sql string) (int, []byte, error) {
	body, err := json.Marshal(map[string]string{"query": sql})
	if err != nil {
		return 0, nil, err
	}
	return s.call(ctx, http.MethodPost, "/query", body)
}

// MustExec is Exec that fails the test unless RedDB answers 200.
func (s *Server) MustExec(sql string) []byte {
	s.t.Helper()
	code, body, err := s.Exec(context.Background(), sql)
	if err != nil || code != http.StatusOK {
		s.t.Fatalf("reddbtest: %s: %q: %d %s %v", s.Name, sql, code, body, err)
	}
	return body
}

func (s *Server) mustAdmin(method, path string) []byte {
	s.t.Helper()
	code, body, err := s.admin(context.Background(), method, path)
	if err != nil {
		s.t.Fatalf("reddbtest: %s %s %s: %v", s.Name, method, path, err)
	}
	if code != http.StatusOK {
		s.t.Fatalf("reddbtest: %s %s %s: %d %s", s.Name, method, path, code, body)
	}
	return body
}

func (s *Server) admin(ctx context.Context, method, path string) (int, []byte, error) {
	return s.call(ctx, method, path, nil)
}

func (s *Server) call(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := adminClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, err
}
