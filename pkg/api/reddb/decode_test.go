package reddb

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/objects"
)

var testDecoder = decoder{leasePrefix: lease.DefaultPrefix, dataFile: objects.DefaultDataFile}

func TestDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, method, path, query string
		header                    http.Header
		want                      request
	}{
		{"lease object", "HEAD", "/v1/reddb/leases/clusters/dev/data.rdb.lease.json", "", nil,
			request{method: "HEAD", class: classLease, key: "leases/clusters/dev/data.rdb.lease.json", databaseKey: "clusters/dev/data.rdb"}},
		{"lease create", "PUT", "/v1/reddb/leases/a/data.rdb.lease.json", "", http.Header{"If-None-Match": {"*"}},
			request{method: "PUT", class: classLease, key: "leases/a/data.rdb.lease.json", databaseKey: "a/data.rdb", cond: objects.Condition{IfNoneMatch: true}}},
		{"lease replace", "PUT", "/v1/reddb/leases/a/data.rdb.lease.json", "", http.Header{"If-Match": {`"abc"`}},
			request{method: "PUT", class: classLease, key: "leases/a/data.rdb.lease.json", databaseKey: "a/data.rdb", cond: objects.Condition{IfMatch: `"abc"`}}},
		{"snapshot", "PUT", "/v1/reddb/clusters/dev/snapshots/000000000001-1.snapshot", "", nil,
			request{method: "PUT", class: classData, key: "clusters/dev/snapshots/000000000001-1.snapshot", databaseKey: "clusters/dev/data.rdb"}},
		{"percent-encoded once", "GET", "/v1/reddb/a%20b/data.rdb", "", nil,
			request{method: "GET", class: classData, key: "a b/data.rdb", databaseKey: "a b/data.rdb"}},
		{"list at the root", "GET", "/v1/reddb/", "list=clusters%2Fdev%2Fsnapshots%2F", nil,
			request{method: "GET", class: classList, listPrefix: "clusters/dev/snapshots/"}},
		{"list under a prefix", "GET", "/v1/reddb/t/a", "list=clusters/dev/wal/", nil,
			request{method: "GET", class: classList, listBase: "t/a/", listPrefix: "t/a/clusters/dev/wal/"}},
		{"empty list", "GET", "/v1/reddb/", "list=", nil, request{method: "GET", class: classList}},
	}
	for _, tc := range tests {
		h := tc.header
		if h == nil {
			h = http.Header{}
		}
		got, err := testDecoder.decode(api.Request{Method: tc.method, Path: tc.path, Query: tc.query, Header: h})
		if err != nil || got != tc.want {
			t.Errorf("%s: decode = %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
}

// FuzzDecode: the decoder never panics, and what it accepts is what the
// face may act on: a lease object is exactly {prefix}{K}.lease.json, a
// data object is a valid key outside the lease prefix, a listing is a GET
// of a valid prefix, and at most one condition is set.
func FuzzDecode(f *testing.F) {
	f.Add("PUT", "/v1/reddb/leases/clusters/dev/data.rdb.lease.json", "", "", "*")
	f.Add("PUT", "/v1/reddb/leases/clusters/dev/data.rdb.lease.json", "", `"e"`, "")
	f.Add("GET", "/v1/reddb/", "list=clusters/dev/snapshots/", "", "")
	f.Add("DELETE", "/v1/reddb/clusters/dev/wal/x.wal", "", "", "")
	f.Add("PUT", "/v1/reddb/clusters/%2e%2e/leases/x.lease.json", "", "", "")
	f.Add("GET", "/v1/reddb/t/a", "list=..%2F", "", "")
	f.Add("HEAD", "/v1/reddb/leases/.lease.json", "", "W/\"x\"", "")
	f.Fuzz(func(t *testing.T, method, path, query, ifMatch, ifNoneMatch string) {
		h := http.Header{}
		if ifMatch != "" {
			h.Set("If-Match", ifMatch)
		}
		if ifNoneMatch != "" {
			h.Set("If-None-Match", ifNoneMatch)
		}
		r, err := testDecoder.decode(api.Request{Method: method, Path: path, Query: query, Header: h})
		if err != nil {
			var ref *refusal
			if !errors.As(err, &ref) && !errors.Is(err, lease.ErrInvalid) {
				t.Fatalf("decode error %v is neither a refusal nor invalid", err)
			}
			return
		}
		if !strings.Contains(allowHeader, method) || r.method != method {
			t.Fatalf("accepted method %q", method)
		}
		if r.cond.IfNoneMatch && r.cond.IfMatch != "" {
			t.Fatalf("both conditions set: %+v", r.cond)
		}
		if (method == "GET" || method == "HEAD") && !r.cond.Unconditional() {
			t.Fatalf("a conditional %s was accepted", method)
		}
		switch r.class {
		case classLease:
			if r.databaseKey == "" || r.key != lease.DefaultPrefix+r.databaseKey+lease.ObjectSuffix {
				t.Fatalf("lease object %q for database %q", r.key, r.databaseKey)
			}
		case classData:
			if objects.ValidateKey(r.key) != nil || strings.HasPrefix(r.key, lease.DefaultPrefix) || strings.HasSuffix(r.key, lease.ObjectSuffix) {
				t.Fatalf("accepted data key %q", r.key)
			}
			if r.databaseKey != objects.DatabaseKey(r.key, objects.DefaultDataFile) {
				t.Fatalf("data key %q fenced by %q", r.key, r.databaseKey)
			}
		case classList:
			if method != "GET" || objects.ValidatePrefix(r.listPrefix) != nil || !strings.HasPrefix(r.listPrefix, r.listBase) {
				t.Fatalf("accepted listing %+v", r)
			}
		default:
			t.Fatalf("accepted request of no class: %+v", r)
		}
	})
}
