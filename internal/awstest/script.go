package awstest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Reply is one scripted HTTP answer.
type Reply struct {
	Status int
	Header http.Header
	Body   string
}

// Request is one request the scripted endpoint received.
type Request struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

// Script is an endpoint that answers with its replies in order and records
// every request, so that a test sees what the real SDK sent and how it
// read the answer. A request beyond the replies fails the test.
type Script struct {
	tb      testing.TB
	mu      sync.Mutex
	replies []Reply
	seen    []Request
}

// Serve starts a scripted endpoint on 127.0.0.1 and returns it with its
// URL; it stops when tb ends.
func Serve(tb testing.TB, replies ...Reply) (*Script, string) {
	tb.Helper()
	s := &Script{tb: tb, replies: replies}
	srv := httptest.NewServer(s)
	tb.Cleanup(srv.Close)
	return s, srv.URL
}

// ServeHTTP implements http.Handler.
func (s *Script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.seen = append(s.seen, Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
	if len(s.replies) == 0 {
		s.mu.Unlock()
		s.tb.Errorf("unexpected request %s %s (%s)", r.Method, r.URL, r.Header.Get("X-Amz-Target"))
		w.WriteHeader(http.StatusTeapot)
		return
	}
	rep := s.replies[0]
	s.replies = s.replies[1:]
	s.mu.Unlock()
	for name, values := range rep.Header {
		w.Header()[name] = values
	}
	w.WriteHeader(rep.Status)
	_, _ = io.WriteString(w, rep.Body)
}

// Requests returns the requests received so far, in order.
func (s *Script) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.seen...)
}
