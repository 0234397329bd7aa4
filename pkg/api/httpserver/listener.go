package httpserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redlease/redlease/pkg/api"
)

// Limits bound what a Listener serves at once.
type Limits struct {
	// MaxConns is how many connections are served at once; 0 is no cap.
	MaxConns int
	// MaxWaiting is how many more connections may wait for a place. A
	// connection beyond them is answered 503 overloaded and closed.
	MaxWaiting int
	// RetryAfter is that 503's hint; one second when 0.
	RetryAfter time.Duration
	// MaxHeaderBytes is the http.Server's, named in a 431's message.
	MaxHeaderBytes int
	// Turn is how many requests a connection is served, while others
	// wait, before its response closes it; 1 when 0.
	Turn int
}

// Listener wraps the server's listener. It makes every error net/http
// writes itself the contract's JSON envelope (protoerr.go), and caps the
// connections served at once:
//
//   - up to MaxConns connections are handed to the server;
//   - up to MaxWaiting more are accepted and wait, in arrival order, for
//     one of those to close; while any waits, every response of a served
//     connection says "Connection: close" and idle keep-alive connections
//     are closed, so places turn over request by request and a pipelining
//     client cannot keep its place for a whole flood of requests;
//   - any further connection is answered 503 overloaded at once.
//
// Wire it with http.Server{Handler: l.Handler(h), ConnState: l.ConnState,
// ConnContext: l.ConnContext}: with ConnContext, the bytes of a response
// (a stored object that happens to start like one of net/http's errors)
// are never taken for net/http's own error.
type Listener struct {
	inner net.Listener
	lim   Limits

	results chan accepted
	done    chan struct{}
	once    sync.Once

	mu      sync.Mutex
	active  int
	waiting []*conn
	idle    map[*conn]struct{}
}

type accepted struct {
	c   net.Conn
	err error
}

// Listen wraps ln with lim and starts accepting.
func Listen(ln net.Listener, lim Limits) *Listener {
	if lim.RetryAfter <= 0 {
		lim.RetryAfter = time.Second
	}
	l := &Listener{inner: ln, lim: lim, results: make(chan accepted), done: make(chan struct{}),
		idle: make(map[*conn]struct{})}
	go l.loop()
	return l
}

// loop accepts connections as they come, so that the waiting ones are
// counted (and answered when there are too many) rather than left in the
// kernel's backlog.
func (l *Listener) loop() {
	for {
		c, err := l.inner.Accept()
		if err != nil {
			if !l.deliver(accepted{err: err}) || errors.Is(err, net.ErrClosed) {
				return
			}
			continue // the server backs off on a temporary error
		}
		l.admit(&conn{Conn: c, l: l})
	}
}

// deliver hands one result to Accept; false once the listener is closed.
func (l *Listener) deliver(a accepted) bool {
	select {
	case l.results <- a:
		return true
	case <-l.done:
		if a.c != nil {
			_ = a.c.Close()
		}
		return false
	}
}

func (l *Listener) admit(c *conn) {
	l.mu.Lock()
	switch {
	case l.lim.MaxConns <= 0 || l.active < l.lim.MaxConns:
		l.active++
		l.mu.Unlock()
		l.deliver(accepted{c: c})
	case len(l.waiting) < l.lim.MaxWaiting:
		l.waiting = append(l.waiting, c)
		idle := make([]*conn, 0, len(l.idle))
		for ic := range l.idle {
			idle = append(idle, ic)
		}
		l.mu.Unlock()
		for _, ic := range idle {
			_ = ic.Close() // its place goes to the waiting connection
		}
	default:
		l.mu.Unlock()
		go l.refuse(c.Conn)
	}
}

// refuse answers a connection over the cap and closes it, after reading
// what the client sent, so that the close does not reset the connection
// before the client has read the answer.
func (l *Listener) refuse(c net.Conn) {
	defer c.Close()
	resp := api.ProtocolError("", http.StatusServiceUnavailable, fmt.Sprintf(
		"the server is serving its maximum of %d connections and %d more are waiting; retry later",
		l.lim.MaxConns, l.lim.MaxWaiting), l.lim.RetryAfter)
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(rawResponse(resp)); err != nil {
		return
	}
	if tc, ok := c.(interface{ CloseWrite() error }); ok {
		_ = tc.CloseWrite()
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(c, 64<<10))
}

// released frees c's place and hands it to the first waiting connection.
func (l *Listener) released(c *conn) {
	l.mu.Lock()
	delete(l.idle, c)
	l.active--
	var next *conn
	if len(l.waiting) > 0 && (l.lim.MaxConns <= 0 || l.active < l.lim.MaxConns) {
		next, l.waiting = l.waiting[0], l.waiting[1:]
		l.active++
	}
	l.mu.Unlock()
	if next != nil {
		go l.deliver(accepted{c: next})
	}
}

// Waiting returns how many connections wait for a place.
func (l *Listener) Waiting() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.waiting)
}

// Accept implements net.Listener.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case a := <-l.results:
		return a.c, a.err
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops accepting and closes the waiting connections.
func (l *Listener) Close() error {
	err := net.ErrClosed
	l.once.Do(func() {
		close(l.done)
		err = l.inner.Close()
		l.mu.Lock()
		waiting := l.waiting
		l.waiting = nil
		l.mu.Unlock()
		for _, c := range waiting {
			_ = c.Conn.Close()
		}
	})
	return err
}

// Addr implements net.Listener.
func (l *Listener) Addr() net.Addr { return l.inner.Addr() }

// ConnState is the http.Server's ConnState hook: an idle connection keeps
// its place only while nobody waits.
func (l *Listener) ConnState(nc net.Conn, state http.ConnState) {
	c, ok := nc.(*conn)
	if !ok {
		return
	}
	l.mu.Lock()
	closeNow := false
	switch state {
	case http.StateIdle:
		c.responding.Store(false) // the response is written and flushed
		if closeNow = len(l.waiting) > 0; !closeNow {
			l.idle[c] = struct{}{}
		}
	case http.StateActive:
		delete(l.idle, c)
	}
	l.mu.Unlock()
	if closeNow {
		_ = c.Close()
	}
}

// connKey carries a request's *conn in its context (ConnContext).
type connKey struct{}

// ConnContext is the http.Server's ConnContext hook: it lets Handler mark
// the connection as writing a response.
func (l *Listener) ConnContext(ctx context.Context, nc net.Conn) context.Context {
	if c, ok := nc.(*conn); ok {
		return context.WithValue(ctx, connKey{}, c)
	}
	return ctx
}

// Handler wraps h: while connections wait, every response closes its
// connection, so that the next one gets the place.
func (l *Listener) Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		turnOver := true
		if c, ok := r.Context().Value(connKey{}).(*conn); ok {
			// Until the connection is idle again, what it writes is
			// this response, whatever its bytes look like.
			c.responding.Store(true)
			turnOver = c.served.Add(1) >= int64(max(l.lim.Turn, 1))
		}
		if turnOver && l.Waiting() > 0 {
			w.Header().Set("Connection", "close")
		}
		h.ServeHTTP(w, r)
	})
}

// conn is a served (or waiting) connection: it rewrites net/http's own
// errors and frees its place when closed.
type conn struct {
	net.Conn
	l          *Listener
	once       sync.Once
	responding atomic.Bool  // a handler's response is being written
	served     atomic.Int64 // requests handed to the handler
}

func (c *conn) Write(p []byte) (int, error) {
	if c.responding.Load() {
		return c.Conn.Write(p)
	}
	return jsonErrorConn{Conn: c.Conn, maxHeaderBytes: c.l.lim.MaxHeaderBytes}.Write(p)
}

func (c *conn) Close() error {
	err := net.ErrClosed
	c.once.Do(func() {
		err = c.Conn.Close()
		c.l.released(c)
	})
	return err
}
