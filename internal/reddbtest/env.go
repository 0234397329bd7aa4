package reddbtest

import (
	"strconv"
	"time"
)

// HTTPBackend is the configuration of RedDB's http remote backend with its
// writer lease on: what a RedDB instance behind redlease is given, by
// environment only.
type HTTPBackend struct {
	// URL is RED_HTTP_BACKEND_URL, the base every object URL starts with
	// (RedDB trims a trailing slash).
	URL string
	// Prefix is RED_HTTP_BACKEND_PREFIX, put between the base and every
	// key; empty for none.
	Prefix string
	// Auth is sent verbatim as the Authorization header
	// (RED_HTTP_BACKEND_AUTH_HEADER), e.g. "Bearer <token>"; empty for none.
	Auth string
	// RemoteKey is RED_REMOTE_KEY, the database key; RedDB's default is
	// clusters/dev/data.rdb.
	RemoteKey string
	// LeaseTTL is RED_LEASE_TTL_SECS, whole seconds (RedDB's default is 60);
	// RedDB refreshes every max(TTL/3, 1 s).
	LeaseTTL time.Duration
	// HolderID is RED_LEASE_HOLDER_ID; RedDB's default is $HOSTNAME-<pid>.
	HolderID string
	// LeasePrefix is RED_LEASE_PREFIX; RedDB's default is leases/.
	LeasePrefix string
	// NoLease leaves RED_LEASE_REQUIRED unset: the instance then writes
	// without a lease, as stock RedDB does by default.
	NoLease bool
}

// Env renders the configuration as environment entries.
func (b HTTPBackend) Env() []string {
	env := []string{
		"RED_BACKEND=http",
		"RED_HTTP_BACKEND_URL=" + b.URL,
		"RED_HTTP_CONDITIONAL_WRITES=true",
	}
	if !b.NoLease {
		env = append(env, "RED_LEASE_REQUIRED=true")
	}
	add := func(name, value string) {
		if value != "" {
			env = append(env, name+"="+value)
		}
	}
	add("RED_HTTP_BACKEND_PREFIX", b.Prefix)
	add("RED_HTTP_BACKEND_AUTH_HEADER", b.Auth)
	add("RED_REMOTE_KEY", b.RemoteKey)
	add("RED_LEASE_HOLDER_ID", b.HolderID)
	add("RED_LEASE_PREFIX", b.LeasePrefix)
	if b.LeaseTTL > 0 {
		secs := int64(b.LeaseTTL / time.Second)
		if secs < 1 {
			secs = 1
		}
		add("RED_LEASE_TTL_SECS", strconv.FormatInt(secs, 10))
	}
	return env
}

// LeaseObjectKey is the key of the lease object RedDB reads and writes for
// databaseKey under leasePrefix (RedDB's default prefix when empty).
func LeaseObjectKey(leasePrefix, databaseKey string) string {
	if leasePrefix == "" {
		leasePrefix = "leases/"
	}
	if leasePrefix[len(leasePrefix)-1] != '/' {
		leasePrefix += "/"
	}
	return leasePrefix + databaseKey + ".lease.json"
}
