package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"testing"

	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/api/apitest"
	"github.com/redlease/redlease/pkg/lease"
)

// FuzzDecoders: no input panics a decoder; every refusal is an
// InvalidError naming a field; what is accepted survives a round trip.
func FuzzDecoders(f *testing.F) {
	for _, s := range []string{
		`{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-0-1","ttl_ms":60000,"term":1}`,
		`{"database_key":"k","holder_id":"h","generation":1,"ttl_ms":1000,"current_term":2,"term":2}`,
		`{"database_key":"k","holder_id":"h","generation":3}`,
		`{"database_key":"k","holder_id":"h","ttl_ms":1e3}`, `{"ttl_ms":-1}`, `[]`, `null`, `{`, `{"a":1}{}`,
		"{\"database_key\":\"\xff\"}", `{"term":null}`, `{"database_key":"k","database_key":"k"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkErr := func(err error) {
			var inv *lease.InvalidError
			if !errors.As(err, &inv) || inv.Field == "" {
				t.Fatalf("decoder error %v (%T) is not an InvalidError with a field", err, err)
			}
		}
		if r, err := api.DecodeAcquire(body); err != nil {
			checkErr(err)
		} else {
			again, err := json.Marshal(map[string]any{"database_key": r.DatabaseKey, "holder_id": r.HolderID, "ttl_ms": r.TTLMs, "term": r.Term})
			if err != nil {
				t.Fatal(err)
			}
			if r2, err := api.DecodeAcquire(again); err != nil || !reflect.DeepEqual(r2, r) {
				t.Fatalf("round trip of %q: %+v, %v; want %+v", body, r2, err, r)
			}
			if r.Term == 0 {
				t.Fatalf("accepted term 0 from %q", body)
			}
		}
		if _, err := api.DecodeRefresh(body); err != nil {
			checkErr(err)
		}
		if _, err := api.DecodeRelease(body); err != nil {
			checkErr(err)
		}
	})
}

// FuzzServeBody drives arbitrary bodies through the whole core: never a
// panic, never a 5xx, every refusal a contract code.
func FuzzServeBody(f *testing.F) {
	f.Add("/v1/acquire", []byte(`{"database_key":"k","holder_id":"h","ttl_ms":1000}`))
	f.Add("/v1/refresh", []byte(`{"database_key":"k","holder_id":"h","generation":1,"ttl_ms":1000}`))
	f.Add("/v1/release", []byte(`{"database_key":"k","holder_id":"h","generation":1}`))
	f.Add("/v1/acquire/tenants/a/k", []byte(`{"holder_id":"h","ttl_ms":1000,"term":1001}`))
	f.Add("/v1/refresh/caf%C3%A9", []byte(`{"database_key":"cafe\u0301","holder_id":"h","generation":1,"ttl_ms":1000}`))
	f.Add("/v1/admin/release/k", []byte(`{"reason":"x"}`))
	f.Add("/v1/leases/a%2F..%2Fb", []byte(nil))
	f.Add("/v1/leases/clusters/dev/data.rdb", []byte(nil))
	e := apitest.New(f, apitest.Options{})
	f.Fuzz(func(t *testing.T, path string, body []byte) {
		method := http.MethodPost
		if len(path) > 10 && path[:10] == "/v1/leases" {
			method = http.MethodGet
		}
		req := api.Request{Method: method, Path: path, Header: http.Header{"Content-Type": {"application/json"}}, Body: bytes.NewReader(body)}
		resp := e.Handler.Serve(context.Background(), req)
		apitest.CheckContractAnswer(t, resp.Status, resp.Body)
	})
}
