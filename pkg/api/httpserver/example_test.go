package httpserver_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/api/httpserver"
	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/lease"
)

func ExampleHandler() {
	clock := func() time.Time { return time.UnixMilli(1767225600000) }
	svc, _ := lease.New(lease.Config{Store: memory.New(memory.Options{}), Now: clock})
	core, _ := api.New(api.Config{Service: svc})
	// An open local server: every request is lease.Anonymous.
	h := httpserver.Handler(api.Authenticate(core, api.Open())) // http.Server{Handler: h} in redlease serve

	req := httptest.NewRequest("POST", "/v1/acquire",
		strings.NewReader(`{"database_key":"main","holder_id":"promoter-1","ttl_ms":60000,"term":6}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Body.String())
	// Output:
	// 200 {"lease":{"database_key":"main","holder_id":"promoter-1","term":6,"generation":1,"acquired_at_ms":1767225600000,"expires_at_ms":1767225660000}}
}

func ExampleListen() {
	svc, _ := lease.New(lease.Config{Store: memory.New(memory.Options{})})
	core, _ := api.New(api.Config{Service: svc})
	tcp, _ := net.Listen("tcp", "127.0.0.1:0")
	ln := httpserver.Listen(tcp, httpserver.Limits{MaxConns: 256, MaxWaiting: 256, MaxHeaderBytes: 64 << 10})
	srv := &http.Server{Handler: ln.Handler(httpserver.Handler(api.Authenticate(core, api.Open()))), ConnState: ln.ConnState, ConnContext: ln.ConnContext}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	// A request net/http cannot parse is answered with the envelope too.
	c, _ := net.Dial("tcp", tcp.Addr().String())
	defer c.Close()
	_, _ = io.WriteString(c, "GET /v1/leases/%zz HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, resp.Header.Get("Content-Type"), string(body))
	// Output:
	// 400 application/json {"error":{"code":"malformed_request","message":"the HTTP request is malformed (its request line, an escape in its path or a header); nothing was done"}}
}
