package reddbtest_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/redlease/redlease/internal/reddbtest"
)

func TestHTTPBackendEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   reddbtest.HTTPBackend
		want []string
	}{
		{"minimal", reddbtest.HTTPBackend{URL: "http://127.0.0.1:1/v1/reddb"}, []string{
			"RED_BACKEND=http", "RED_HTTP_BACKEND_URL=http://127.0.0.1:1/v1/reddb",
			"RED_HTTP_CONDITIONAL_WRITES=true", "RED_LEASE_REQUIRED=true",
		}},
		{"everything", reddbtest.HTTPBackend{
			URL: "http://h/b", Prefix: "t/a/", Auth: "Bearer x", RemoteKey: "k/data.rdb",
			LeaseTTL: 3 * time.Second, HolderID: "h1", LeasePrefix: "l/",
		}, []string{
			"RED_BACKEND=http", "RED_HTTP_BACKEND_URL=http://h/b", "RED_HTTP_CONDITIONAL_WRITES=true",
			"RED_LEASE_REQUIRED=true", "RED_HTTP_BACKEND_PREFIX=t/a/", "RED_HTTP_BACKEND_AUTH_HEADER=Bearer x",
			"RED_REMOTE_KEY=k/data.rdb", "RED_LEASE_HOLDER_ID=h1", "RED_LEASE_PREFIX=l/", "RED_LEASE_TTL_SECS=3",
		}},
		{"no lease, sub-second TTL rounds up", reddbtest.HTTPBackend{URL: "u", NoLease: true, LeaseTTL: time.Millisecond}, []string{
			"RED_BACKEND=http", "RED_HTTP_BACKEND_URL=u", "RED_HTTP_CONDITIONAL_WRITES=true", "RED_LEASE_TTL_SECS=1",
		}},
	}
	for _, tc := range tests {
		if got := tc.in.Env(); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestLeaseObjectKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ prefix, key, want string }{
		{"", "clusters/dev/data.rdb", "leases/clusters/dev/data.rdb.lease.json"},
		{"l", "main", "l/main.lease.json"},
		{"l/", "main", "l/main.lease.json"},
	} {
		if got := reddbtest.LeaseObjectKey(tc.prefix, tc.key); got != tc.want {
			t.Errorf("LeaseObjectKey(%q, %q) = %q, want %q", tc.prefix, tc.key, got, tc.want)
		}
	}
}

func ExampleHTTPBackend() {
	b := reddbtest.HTTPBackend{URL: "http://127.0.0.1:8080/v1/reddb", Auth: "Bearer t0ken", LeaseTTL: 3 * time.Second}
	for _, kv := range b.Env() {
		fmt.Println(kv)
	}
	// Output:
	// RED_BACKEND=http
	// RED_HTTP_BACKEND_URL=http://127.0.0.1:8080/v1/reddb
	// RED_HTTP_CONDITIONAL_WRITES=true
	// RED_LEASE_REQUIRED=true
	// RED_HTTP_BACKEND_AUTH_HEADER=Bearer t0ken
	// RED_LEASE_TTL_SECS=3
}
