package serverload

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/api/httpserver"
	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/lease"
)

// BenchmarkServicePath measures what one request costs in CPU and
// allocations on the path `redlease serve` runs, without a network or a
// disk: net/http handler -> API core -> lease.Service -> memory store
// ("http/..."), and lease.Service alone ("service/..."). Every iteration
// uses its own key. make bench-report reads its allocs/op.
func BenchmarkServicePath(b *testing.B) {
	for _, op := range Ops {
		b.Run("http/"+op, func(b *testing.B) { benchHTTP(b, op) })
	}
	for _, op := range Ops {
		b.Run("service/"+op, func(b *testing.B) { benchService(b, op) })
	}
}

func newService(b *testing.B) *lease.Service {
	svc, err := lease.New(lease.Config{Store: memory.New(memory.Options{})})
	if err != nil {
		b.Fatal(err)
	}
	return svc
}

// held acquires n keys for the refresh and release benchmarks.
func held(b *testing.B, svc *lease.Service, n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("bench/%d", i)
		if _, err := svc.Acquire(context.Background(), lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: keys[i], HolderID: "load", TTLMs: 60000, Term: 1}); err != nil {
			b.Fatal(err)
		}
	}
	return keys
}

func benchHTTP(b *testing.B, op string) {
	svc := newService(b)
	core, err := api.New(api.Config{Service: svc, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	// What `redlease serve` serves without a tokens document: every caller
	// anonymous.
	h := httpserver.Handler(api.Authenticate(api.NewMux(core), api.Open()))
	keys := make([]string, b.N)
	if op == OpAcquire {
		for i := range keys {
			keys[i] = fmt.Sprintf("bench/%d", i)
		}
	} else {
		keys = held(b, svc, b.N)
	}
	bodies := make([]string, b.N)
	for i, k := range keys {
		switch op {
		case OpAcquire:
			bodies[i] = `{"database_key":"` + k + `","holder_id":"load","ttl_ms":60000}`
		case OpRefresh:
			bodies[i] = `{"database_key":"` + k + `","holder_id":"load","generation":1,"ttl_ms":60000}`
		default:
			bodies[i] = `{"database_key":"` + k + `","holder_id":"load","generation":1}`
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		req := httptest.NewRequest(http.MethodPost, "/v1/"+op, strings.NewReader(bodies[i]))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%s %s: %d %s", op, keys[i], rec.Code, rec.Body)
		}
	}
}

func benchService(b *testing.B, op string) {
	ctx := context.Background()
	svc := newService(b)
	var keys []string
	if op == OpAcquire {
		keys = make([]string, b.N)
		for i := range keys {
			keys[i] = fmt.Sprintf("bench/%d", i)
		}
	} else {
		keys = held(b, svc, b.N)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		var err error
		switch op {
		case OpAcquire:
			_, err = svc.Acquire(ctx, lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: keys[i], HolderID: "load", TTLMs: 60000, Term: 1})
		case OpRefresh:
			_, err = svc.Refresh(ctx, lease.RefreshRequest{Principal: lease.Anonymous, DatabaseKey: keys[i], HolderID: "load", Generation: 1, TTLMs: 60000})
		default:
			_, err = svc.Release(ctx, lease.ReleaseRequest{Principal: lease.Anonymous, DatabaseKey: keys[i], HolderID: "load", Generation: 1})
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}
