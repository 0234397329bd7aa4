// Package httpserver adapts net/http to an api.Face for the local server
// (redlease serve). Routing, decoding and answers are the face's; this
// package only hands over the request, its body as a stream the face reads
// as far as it wants, and writes the face's response.
//
// It deliberately does not route with http.ServeMux: the mux cleans paths
// and redirects "/v1/leases/a/../b" or "a//b" with a 301, where the contract
// wants such keys refused with 400 invalid_request, exactly as behind API
// Gateway. Which routes exist is the face's business (api.Routes).
package httpserver

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/redlease/redlease/pkg/api"
)

// Handler returns an http.Handler serving face.
func Handler(face api.Face) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := &trackedBody{r: r.Body}
		resp := face.Serve(r.Context(), api.Request{
			Method: r.Method,
			Path:   r.URL.EscapedPath(),
			Header: r.Header,
			Body:   body,
		})
		for k, v := range resp.Header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(resp.Body)))
		if !body.done && r.ContentLength != 0 {
			// The face left the rest of the body unread (one over its
			// limit); do not let the server try to drain it for keep-alive.
			w.Header().Set("Connection", "close")
		}
		w.WriteHeader(resp.Status)
		_, _ = w.Write(resp.Body)
	})
}

// trackedBody notes whether the face read the body to its end. A body cut
// short by the client (io.ErrUnexpectedEOF) ends where it was cut; any
// other read failure is the body being unreadable.
type trackedBody struct {
	r    io.Reader
	done bool
}

func (b *trackedBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
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
