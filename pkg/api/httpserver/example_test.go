package httpserver_test

import (
	"fmt"
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
