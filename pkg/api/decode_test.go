package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/api/apitest"
	"github.com/redlease/redlease/pkg/lease"
)

type errorOnly struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

func TestStrictDecodingRefusals(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, apitest.Options{})
	tests := []struct {
		name, path, body, wantField string
	}{
		{"empty body", "/v1/acquire", ``, "body"},
		{"whitespace body", "/v1/acquire", "  \n", "body"},
		{"malformed", "/v1/acquire", `{"database_key":"k",`, "body"},
		{"truncated", "/v1/acquire", `{"database_key":"k","holder_id":"h","ttl_ms":1000`, "body"},
		{"not an object", "/v1/acquire", `["k","h",1000]`, "body"},
		{"null", "/v1/acquire", `null`, "body"},
		{"string", "/v1/acquire", `"k"`, "body"},
		{"two objects", "/v1/acquire", `{"database_key":"k","holder_id":"h","ttl_ms":1000}{}`, "body"},
		{"trailing garbage", "/v1/acquire", `{"database_key":"k","holder_id":"h","ttl_ms":1000} x`, "body"},
		{"invalid UTF-8", "/v1/acquire", "{\"database_key\":\"k\xff\",\"holder_id\":\"h\",\"ttl_ms\":1000}", "body"},
		{"unknown field", "/v1/acquire", `{"database_key":"k","holder_id":"h","ttl_ms":1000,"ttl":5}`, "ttl"},
		{"generation on acquire", "/v1/acquire", `{"database_key":"k","holder_id":"h","ttl_ms":1000,"generation":1}`, "generation"},
		{"duplicate field", "/v1/acquire", `{"database_key":"k","holder_id":"h","holder_id":"x","ttl_ms":1000}`, "holder_id"},
		{"missing key", "/v1/acquire", `{"holder_id":"h","ttl_ms":1000}`, "database_key"},
		{"missing holder", "/v1/acquire", `{"database_key":"k","ttl_ms":1000}`, "holder_id"},
		{"missing ttl", "/v1/acquire", `{"database_key":"k","holder_id":"h"}`, "ttl_ms"},
		{"key not a string", "/v1/acquire", `{"database_key":7,"holder_id":"h","ttl_ms":1000}`, "database_key"},
		{"holder null", "/v1/acquire", `{"database_key":"k","holder_id":null,"ttl_ms":1000}`, "holder_id"},
		{"ttl as string", "/v1/acquire", `{"database_key":"k","holder_id":"h","ttl_ms":"1000"}`, "ttl_ms"},
		{"ttl float", "/v1/acquire", `{"database_key":"k","holder_id":"h","ttl_ms":1000.0}`, "ttl_ms"},
		{"ttl exponent", "/v1/acquire", `{"database_key":"k","holder_id":"h","ttl_ms":1e4}`, "ttl_ms"},
		{"ttl negative", "/v1/acquire", `{"database_key":"k","holder_id":"h","ttl_ms":-1000}`, "ttl_ms"},
		{"ttl huge", "/v1/acquire", `{"database_key":"k","holder_id":"h","ttl_ms":18446744073709551616}`, "ttl_ms"},
		{"ttl too small", "/v1/acquire", `{"database_key":"k","holder_id":"h","ttl_ms":999}`, "ttl_ms"},
		{"ttl too large", "/v1/acquire", `{"database_key":"k","holder_id":"h","ttl_ms":86400001}`, "ttl_ms"},
		{"ttl bool", "/v1/acquire", `{"database_key":"k","holder_id":"h","ttl_ms":true}`, "ttl_ms"},
		{"term zero", "/v1/acquire", `{"database_key":"k","holder_id":"h","ttl_ms":1000,"term":0}`, "term"},
		{"term null", "/v1/acquire", `{"database_key":"k","holder_id":"h","ttl_ms":1000,"term":null}`, "term"},
		{"term beyond 2^53", "/v1/acquire", `{"database_key":"k","holder_id":"h","ttl_ms":1000,"term":9007199254740992}`, "term"},
		{"empty key", "/v1/acquire", `{"database_key":"","holder_id":"h","ttl_ms":1000}`, "database_key"},
		{"key with ..", "/v1/acquire", `{"database_key":"a/../b","holder_id":"h","ttl_ms":1000}`, "database_key"},
		{"key with //", "/v1/acquire", `{"database_key":"a//b","holder_id":"h","ttl_ms":1000}`, "database_key"},
		{"key leading /", "/v1/acquire", `{"database_key":"/a","holder_id":"h","ttl_ms":1000}`, "database_key"},
		{"key control char", "/v1/acquire", `{"database_key":"a\u0001","holder_id":"h","ttl_ms":1000}`, "database_key"},
		{"empty holder", "/v1/acquire", `{"database_key":"k","holder_id":"","ttl_ms":1000}`, "holder_id"},
		{"holder too long", "/v1/acquire", `{"database_key":"k","holder_id":"` + strings.Repeat("h", 257) + `","ttl_ms":1000}`, "holder_id"},
		{"refresh missing generation", "/v1/refresh", `{"database_key":"k","holder_id":"h","ttl_ms":1000}`, "generation"},
		{"refresh generation zero", "/v1/refresh", `{"database_key":"k","holder_id":"h","generation":0,"ttl_ms":1000}`, "generation"},
		{"refresh current_term zero", "/v1/refresh", `{"database_key":"k","holder_id":"h","generation":1,"ttl_ms":1000,"current_term":0}`, "current_term"},
		{"refresh term zero", "/v1/refresh", `{"database_key":"k","holder_id":"h","generation":1,"ttl_ms":1000,"term":0}`, "term"},
		{"refresh current_term float", "/v1/refresh", `{"database_key":"k","holder_id":"h","generation":1,"ttl_ms":1000,"current_term":2.5}`, "current_term"},
		{"release missing holder", "/v1/release", `{"database_key":"k","generation":1}`, "holder_id"},
		{"release with ttl", "/v1/release", `{"database_key":"k","holder_id":"h","generation":1,"ttl_ms":1000}`, "ttl_ms"},
		{"release generation object", "/v1/release", `{"database_key":"k","holder_id":"h","generation":{}}`, "generation"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := e.Handler.Serve(context.Background(), post(tc.path, tc.body))
			var body errorOnly
			if err := json.Unmarshal(got.Body, &body); err != nil {
				t.Fatalf("body %s: %v", got.Body, err)
			}
			if got.Status != 400 || body.Error.Code != "invalid_request" || body.Error.Field != tc.wantField {
				t.Errorf("POST %s %s = %d %s, want 400 invalid_request field %q", tc.path, tc.body, got.Status, got.Body, tc.wantField)
			}
			if body.Error.Message == "" {
				t.Error("error without a message")
			}
		})
	}
	if _, ok := e.Memory.Raw("k"); ok {
		t.Error("a refused request wrote a record")
	}
}

func TestContentType(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, apitest.Options{})
	body := `{"database_key":"k","holder_id":"h","ttl_ms":1000}`
	tests := []struct {
		contentType string
		ok          bool
	}{
		{"application/json", true},
		{"application/json; charset=utf-8", true},
		{"Application/JSON; charset=UTF-8", true},
		{"", false},
		{"text/plain", false},
		{"application/x-www-form-urlencoded", false},
		{"application/json; charset=latin1", false},
		{"application/json;;", false},
	}
	for _, tc := range tests {
		req := post("/v1/acquire", body)
		req.Header = http.Header{}
		if tc.contentType != "" {
			req.Header.Set("Content-Type", tc.contentType)
		}
		got := e.Handler.Serve(context.Background(), req)
		var eb errorOnly
		_ = json.Unmarshal(got.Body, &eb)
		switch {
		case tc.ok && got.Status != 200:
			t.Errorf("Content-Type %q = %d %s, want 200", tc.contentType, got.Status, got.Body)
		case !tc.ok && (got.Status != 400 || eb.Error.Field != "content-type"):
			t.Errorf("Content-Type %q = %d %s, want 400 field content-type", tc.contentType, got.Status, got.Body)
		}
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, apitest.Options{})
	valid := `{"database_key":"k","holder_id":"h","ttl_ms":1000}`
	atLimit := valid + strings.Repeat(" ", api.MaxBodyBytes-len(valid))
	got := e.Handler.Serve(context.Background(), post("/v1/acquire", atLimit))
	if got.Status != 200 {
		t.Errorf("body of exactly %d bytes = %d %s, want 200", len(atLimit), got.Status, got.Body)
	}
	over := post("/v1/acquire", atLimit+" ")
	over.Header = http.Header{} // the size is checked first, before anything else
	check(t, "one byte over", e.Handler.Serve(context.Background(), over),
		413, `{"error":{"code":"too_large","message":"the request body exceeds 16384 bytes"}}`)
}

func TestTermDefaultsToOne(t *testing.T) {
	t.Parallel()
	r, err := api.DecodeAcquire([]byte(`{"database_key":"k","holder_id":"h","ttl_ms":1000}`))
	if err != nil || r.Term != lease.DefaultTerm {
		t.Errorf("DecodeAcquire without term = %+v, %v; want term 1", r, err)
	}
	rr, err := api.DecodeRefresh([]byte(`{"database_key":"k","holder_id":"h","generation":4,"ttl_ms":1000}`))
	want := lease.RefreshRequest{DatabaseKey: "k", HolderID: "h", Generation: 4, TTLMs: 1000}
	if err != nil || !reflect.DeepEqual(rr, want) {
		t.Errorf("DecodeRefresh without terms = %+v, %v; want %+v (no fence)", rr, err, want)
	}
}

func ExampleDecodeAcquire() {
	r, err := api.DecodeAcquire([]byte(`{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-0-1","ttl_ms":60000}`))
	fmt.Println(r.DatabaseKey, r.HolderID, r.TTLMs, r.Term, err)
	_, err = api.DecodeAcquire([]byte(`{"database_key":"k","holder_id":"h","ttl_ms":1.5e3}`))
	fmt.Println(err)
	// Output:
	// clusters/dev/data.rdb reddb-0-1 60000 1 <nil>
	// invalid ttl_ms: must be a non-negative integer, got a fractional number
}
