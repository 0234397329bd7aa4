// Package httpserver adapts net/http to an api.Face for the local server
// (redlease serve). Routing, decoding and answers are the face's; this
// package only hands over the request, its body as a stream the face reads
// as far as it wants, and writes the face's response, streaming it when the
// face streams.
//
// It deliberately does not route with http.ServeMux: the mux cleans paths
// and redirects "/v1/leases/a/../b" or "a//b" with a 301, where the contract
// wants such keys refused with 400 invalid_request, exactly as behind API
// Gateway. Which routes exist is the face's business (api.Routes).
//
// Listen wraps the server's listener: it caps the connections served at
// once (a pipelining flood waits or is answered 503 overloaded, and places
// turn over request by request), and it answers the requests net/http
// refuses itself (a bad escape, no Host, oversized headers) with the
// contract's JSON envelope instead of net/http's plain text.
//
// Bodies of any size stream through in both directions. The server's read
// and write timeouts bound a request as a whole; while a body is moving,
// every read and every write instead pushes its deadline IdleTimeout ahead,
// so a 1 GiB upload is bounded by how long the client stalls, not by how
// long it takes.
package httpserver

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/redlease/redlease/pkg/api"
)

// IdleTimeout is how long a body may stall, in either direction, before
// the connection is dropped.
const IdleTimeout = 30 * time.Second

// copyBufferBytes is the buffer a streamed response goes through.
const copyBufferBytes = 256 << 10

// Handler returns an http.Handler serving face.
func Handler(face api.Face) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		body := &trackedBody{r: r.Body, rc: rc}
		length := r.ContentLength
		if length < 0 {
			length = api.UnknownLength
		}
		resp := face.Serve(r.Context(), api.Request{
			Method:        r.Method,
			Path:          r.URL.EscapedPath(),
			Query:         r.URL.RawQuery,
			Header:        r.Header,
			Body:          body,
			ContentLength: length,
		})
		for k, v := range resp.Header {
			w.Header().Set(k, v)
		}
		if resp.Stream != nil {
			defer resp.Stream.Close()
			w.Header().Set("Content-Length", strconv.FormatInt(resp.StreamLength, 10))
		} else {
			w.Header().Set("Content-Length", strconv.Itoa(len(resp.Body)))
		}
		if !body.done && r.ContentLength != 0 {
			// The face left the rest of the body unread (one over its
			// limit); do not let the server try to drain it for keep-alive.
			w.Header().Set("Connection", "close")
		}
		w.WriteHeader(resp.Status)
		if resp.Stream == nil {
			_, _ = w.Write(resp.Body)
			return
		}
		if r.Method == http.MethodHead {
			return
		}
		buf := make([]byte, copyBufferBytes)
		_, _ = io.CopyBuffer(idleWriter{w: w, rc: rc}, onlyReader{resp.Stream}, buf)
	})
}

// trackedBody notes whether the face read the body to its end, and keeps
// the read deadline IdleTimeout ahead of every read. A body cut short by
// the client (io.ErrUnexpectedEOF) ends where it was cut (faces that store
// bodies compare the count with Request.ContentLength); any other read
// failure is the body being unreadable.
type trackedBody struct {
	r    io.Reader
	rc   *http.ResponseController
	done bool
}

func (b *trackedBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	_ = b.rc.SetReadDeadline(time.Now().Add(IdleTimeout)) // unsupported by some writers (tests); then the server's timeout stands
	n, err := b.r.Read(p)
	switch {
	case err == nil:
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		b.done, err = true, io.EOF
	default:
		b.done = true
	}
	return n, err
}

// idleWriter keeps the write deadline IdleTimeout ahead of every write.
type idleWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func (w idleWriter) Write(p []byte) (int, error) {
	_ = w.rc.SetWriteDeadline(time.Now().Add(IdleTimeout))
	return w.w.Write(p)
}

// onlyReader hides a stream's WriteTo, so that the copy goes through the
// bounded buffer and the idle deadline is pushed on every chunk.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }
