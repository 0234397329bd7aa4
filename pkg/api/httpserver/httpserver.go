// Package httpserver adapts net/http to the api core for the local server
// (redlease serve). Routing, decoding and answers are the core's; this
// package only reads the request (at most api.MaxBodyBytes+1 bytes of body)
// and writes the core's response.
//
// It deliberately does not route with http.ServeMux: the mux cleans paths
// and redirects "/v1/leases/a/../b" or "a//b" with a 301, where the contract
// wants such keys refused with 400 invalid_request, exactly as behind API
// Gateway. The routes served are the core's: POST /v1/acquire,
// POST /v1/refresh, POST /v1/release and GET /v1/leases/{key...}.
package httpserver

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/redlease/redlease/pkg/api"
)

// Handler returns an http.Handler serving core.
func Handler(core *api.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, api.MaxBodyBytes+1))
		req := api.Request{
			Method: r.Method,
			Path:   r.URL.EscapedPath(),
			Header: r.Header,
			Body:   body,
		}
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			req.BodyInvalid = "could not be read completely"
		}
		resp := core.Serve(r.Context(), req)
		for k, v := range resp.Header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(resp.Body)))
		if len(body) > api.MaxBodyBytes {
			// The rest of the body stays unread; do not let the server
			// try to drain it for keep-alive.
			w.Header().Set("Connection", "close")
		}
		w.WriteHeader(resp.Status)
		_, _ = w.Write(resp.Body)
	})
}
