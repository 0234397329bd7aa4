package httpserver

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"testing"
)

// captureConn records what is written to it.
type captureConn struct {
	net.Conn
	out bytes.Buffer
}

func (c *captureConn) Write(p []byte) (int, error) { return c.out.Write(p) }

// FuzzJSONErrorConn: whatever is written, it goes through unchanged, or it
// was one of net/http's own error responses and becomes a complete HTTP
// response carrying the JSON envelope with a code of the table.
func FuzzJSONErrorConn(f *testing.F) {
	f.Add([]byte("HTTP/1.1 400 Bad Request" + netHTTPErrorHeaders + "400 Bad Request: missing required Host header"))
	f.Add([]byte("HTTP/1.1 431 Request Header Fields Too Large" + netHTTPErrorHeaders + "431 Request Header Fields Too Large"))
	f.Add([]byte("HTTP/1.1 501 Not Implemented" + netHTTPErrorHeaders + "Unsupported transfer encoding"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"))
	f.Add([]byte("HTTP/1.1 4x0" + netHTTPErrorHeaders))
	f.Fuzz(func(t *testing.T, p []byte) {
		c := &captureConn{}
		n, err := jsonErrorConn{Conn: c, maxHeaderBytes: 1 << 10}.Write(p)
		if err != nil || n != len(p) {
			t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(p))
		}
		if _, _, ok := parseNetHTTPError(p); !ok {
			if !bytes.Equal(c.out.Bytes(), p) {
				t.Fatalf("%q was changed into %q", p, c.out.Bytes())
			}
			return
		}
		resp, err := http.ReadResponse(bufio.NewReader(&c.out), nil)
		if err != nil {
			t.Fatalf("rewritten %q is no HTTP response: %v", c.out.Bytes(), err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" || !resp.Close ||
			resp.Header.Get("Content-Type") != "application/json" || resp.StatusCode < 400 {
			t.Fatalf("rewritten response %d %v %q: want the JSON envelope closing the connection", resp.StatusCode, resp.Header, body)
		}
	})
}
