package httpserver

import (
	"bytes"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redlease/redlease/pkg/api"
)

// net/http answers a request it cannot parse itself, before any handler
// runs (a bad "%zz" escape, a raw space in the path, no Host on HTTP/1.1,
// headers over MaxHeaderBytes, an unknown transfer coding), with one
// plain-text write straight to the connection, shaped exactly so:
//
//	HTTP/1.1 <status>\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n<text>
//
// A handler's response never is (it carries Date, Content-Length and
// application/json). jsonErrorConn recognises that write and sends the
// contract's JSON error envelope instead.
const netHTTPErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// jsonErrorConn rewrites net/http's own error responses.
type jsonErrorConn struct {
	net.Conn
	maxHeaderBytes int
}

func (c jsonErrorConn) Write(p []byte) (int, error) {
	status, text, ok := parseNetHTTPError(p)
	if !ok {
		return c.Conn.Write(p)
	}
	if _, err := c.Conn.Write(rawResponse(api.ProtocolError("", status, c.reason(status, text), 0))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// parseNetHTTPError reports whether p is one of net/http's own error
// responses, with its status and the text after "<status> <reason>: ".
func parseNetHTTPError(p []byte) (status int, text string, ok bool) {
	rest, found := bytes.CutPrefix(p, []byte("HTTP/1.1 "))
	if !found {
		return 0, "", false
	}
	line, body, found := bytes.Cut(rest, []byte(netHTTPErrorHeaders))
	if !found || bytes.Contains(line, []byte("\r\n")) || len(line) < 3 {
		return 0, "", false
	}
	status, err := strconv.Atoi(string(line[:3]))
	if err != nil || status < 400 {
		return 0, "", false
	}
	_, text, _ = strings.Cut(string(body), ": ")
	return status, text, true
}

// reason is the message for people. net/http's own texts ("missing
// required Host header") are public by design; they name no internal
// state, and the JSON encoding escapes whatever of the request they echo.
func (c jsonErrorConn) reason(status int, text string) string {
	switch status {
	case http.StatusRequestHeaderFieldsTooLarge:
		return fmt.Sprintf("the request's header section exceeds %d bytes", c.maxHeaderBytes)
	case http.StatusNotImplemented:
		return "the request uses a transfer coding this server does not implement"
	case http.StatusHTTPVersionNotSupported:
		return "this server speaks HTTP/1.x only"
	}
	if text != "" {
		return "the HTTP request is malformed: " + text
	}
	return "the HTTP request is malformed (its request line, an escape in its path or a header); nothing was done"
}

// rawResponse renders a face's response as a complete HTTP/1.1 response
// that closes the connection.
func rawResponse(resp api.Response) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", resp.Status, http.StatusText(resp.Status))
	for _, k := range slices.Sorted(maps.Keys(resp.Header)) {
		fmt.Fprintf(&b, "%s: %s\r\n", k, resp.Header[k])
	}
	fmt.Fprintf(&b, "Date: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
		time.Now().UTC().Format(http.TimeFormat), len(resp.Body))
	b.Write(resp.Body)
	return b.Bytes()
}
