package httpserver_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/redlease/redlease/pkg/api/apitest"
	"github.com/redlease/redlease/pkg/api/httpserver"
)

// BenchmarkNormalClientUnderFlood: one client's GETs, each on a new
// connection, while 256 connections each pipeline 2,000 GETs (the issue's
// flood, scaled down; redial: each reconnects as soon as it is closed or
// refused, and pipelines again), without a cap and with caps. ns/op is the
// normal client's time per request, waiting for a place included.
func BenchmarkNormalClientUnderFlood(b *testing.B) {
	type flood struct {
		name   string
		redial bool
	}
	for _, bc := range []struct {
		flood
		lim httpserver.Limits
	}{
		{flood{"once", false}, httpserver.Limits{}},
		{flood{"once", false}, httpserver.Limits{MaxConns: 16, MaxWaiting: 256}},
		{flood{"once", false}, httpserver.Limits{MaxConns: 16, MaxWaiting: 256, Turn: 64}},
		{flood{"redial", true}, httpserver.Limits{}},
		{flood{"redial", true}, httpserver.Limits{MaxConns: 16, MaxWaiting: 256}},
	} {
		name := fmt.Sprintf("flood %s/cap %d+%d turn %d", bc.name, bc.lim.MaxConns, bc.lim.MaxWaiting, max(bc.lim.Turn, 1))
		b.Run(name, func(b *testing.B) {
			e := apitest.New(b, apitest.Options{})
			tcp, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			ln := httpserver.Listen(tcp, bc.lim)
			srv := &http.Server{Handler: ln.Handler(httpserver.Handler(e.Handler)), ConnState: ln.ConnState, ConnContext: ln.ConnContext}
			go func() { _ = srv.Serve(ln) }()
			addr := tcp.Addr().String()
			ctx, stop := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			batch := strings.Repeat(getLease, 2000)
			for range 256 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for first := true; ctx.Err() == nil && (first || bc.redial); first = false {
						c, err := net.Dial("tcp", addr)
						if err != nil {
							continue
						}
						go func() { _, _ = io.WriteString(c, batch) }()
						_, _ = io.Copy(io.Discard, c) // until the server closes it, or the end
						c.Close()
					}
				}()
			}
			b.ResetTimer()
			for b.Loop() {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.WriteString(c, getLease); err != nil {
					b.Fatal(err)
				}
				resp, err := http.ReadResponse(bufio.NewReader(c), nil)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 404 && resp.StatusCode != 503 {
					b.Fatalf("status %d", resp.StatusCode)
				}
				c.Close()
			}
			b.StopTimer()
			stop()
			_ = srv.Close() // ends the flood's connections
			wg.Wait()
		})
	}
}
