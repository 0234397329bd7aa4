package badinput

import (
	"net/http"
	"strings"

	"github.com/redlease/redlease/pkg/api"
)

// The RedDB face's bad input (/v1/reddb/), against the seeded leases: the
// held key's lease object, the released key's data objects (fenced: the
// lease is not held), and requests RedDB's protocol does not have. Every
// one must leave the data directory as it was. The lease objects' versions
// depend on the seeding's times, so the rows name none that matches.
const (
	heldLeaseObject = api.PathRedDB + "leases/" + heldKey + ".lease.json"
	form            = "application/x-www-form-urlencoded" // what RedDB's curl sends
)

// redLease is a lease record as RedDB writes one.
func redLease(key, holder string, generation int) string {
	return `{"acquired_at_ms":1767225600000,"database_key":"` + key + `","expires_at_ms":1767225603000,"generation":` +
		itoa(generation) + `,"holder_id":"` + holder + `","term":1}`
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + itoa(n%10)
}

func put(path, body string, header map[string]string) request {
	return request{method: http.MethodPut, path: path, ctype: form, body: body, header: header}
}

func (r request) withQuery(q string) request { r.query = q; return r }

var (
	ifNoneMatch = map[string]string{"If-None-Match": "*"}
	staleMatch  = map[string]string{"If-Match": `"not-the-stored-version"`}
	binaryBody  = "\x00\x01\xfe\xff\r\n page\x80"
	redAllow    = "HEAD, GET, PUT, DELETE"
)

func redDBRows() []row {
	invalidKey := invalid("key")
	forbiddenWrite := want{status: 403, code: api.CodeLeaseNotHeld}
	precondition := want{status: 412, code: api.CodePreconditionFailed}
	required := want{status: 428, code: api.CodePreconditionRequired}
	return []row{
		// The data fence: the released key's database has no live lease.
		{name: "reddb: data upload to a released database", req: put(api.PathRedDB+"clusters/old/data.rdb", binaryBody, nil), want: forbiddenWrite},
		{name: "reddb: snapshot upload to a released database", req: put(api.PathRedDB+"clusters/old/snapshots/000000000001-1.snapshot", binaryBody, nil), want: forbiddenWrite},
		{name: "reddb: manifest upload to a released database", req: put(api.PathRedDB+"clusters/old/MANIFEST.json", "{}", nil), want: forbiddenWrite},
		{name: "reddb: data delete in a released database", req: request{method: http.MethodDelete, path: api.PathRedDB + "clusters/old/wal/000000000001-000000000002.wal"}, want: forbiddenWrite},
		{name: "reddb: conditional data upload to a released database", req: put(api.PathRedDB+"clusters/old/data.rdb", binaryBody, ifNoneMatch), want: forbiddenWrite},

		// The lease object: intents that do not hold, missing or bad
		// conditions, bodies that are no lease record.
		{name: "reddb: lease create over an existing lease", req: put(heldLeaseObject, redLease(heldKey, "red-x", 1), ifNoneMatch), want: precondition},
		{name: "reddb: lease write at a stale version", req: put(heldLeaseObject, redLease(heldKey, "red-x", 2), staleMatch), want: precondition},
		{name: "reddb: lease release at a stale version", req: request{method: http.MethodDelete, path: heldLeaseObject, header: staleMatch}, want: precondition},
		{name: "reddb: weak If-Match", req: put(heldLeaseObject, redLease(heldKey, "red-x", 2), map[string]string{"If-Match": `W/"x"`}), want: precondition},
		{name: "reddb: lease write without a condition", req: put(heldLeaseObject, redLease(heldKey, heldHolder, 1), nil), want: required},
		{name: "reddb: lease release without If-Match", req: request{method: http.MethodDelete, path: heldLeaseObject}, want: required},
		{name: "reddb: If-Match *", req: put(heldLeaseObject, redLease(heldKey, "red-x", 2), map[string]string{"If-Match": "*"}), want: invalid("if-match")},
		{name: "reddb: If-Match unquoted", req: put(heldLeaseObject, redLease(heldKey, "red-x", 2), map[string]string{"If-Match": "abc"}), want: invalid("if-match")},
		{name: "reddb: If-None-Match not *", req: put(heldLeaseObject, redLease(heldKey, "red-x", 2), map[string]string{"If-None-Match": `"x"`}), want: invalid("if-none-match")},
		{name: "reddb: both conditions", req: put(heldLeaseObject, redLease(heldKey, "red-x", 2), map[string]string{"If-None-Match": "*", "If-Match": `"x"`}), want: invalid("if-match")},
		{name: "reddb: conditional GET", req: request{method: http.MethodGet, path: heldLeaseObject, header: staleMatch}, want: invalid("if-match")},
		{name: "reddb: lease body not JSON", req: put(heldLeaseObject, "not json", staleMatch), want: invalid("body")},
		{name: "reddb: lease body of another key", req: put(heldLeaseObject, redLease("clusters/other/data.rdb", "red-x", 2), staleMatch), want: invalid("database_key")},
		{name: "reddb: lease body with the service's members", req: put(heldLeaseObject,
			strings.Replace(redLease(heldKey, "red-x", 2), `"term":1}`, `"term":1,"ttl_ms":86400000}`, 1), staleMatch), want: invalid("body")},
		{name: "reddb: lease TTL below the minimum", req: put(api.PathRedDB+"leases/clusters/new/data.rdb.lease.json",
			strings.Replace(redLease("clusters/new/data.rdb", "red-x", 1), "1767225603000", "1767225600500", 1), ifNoneMatch), want: invalid("ttl_ms")},
		{name: "reddb: lease term jump", req: put(api.PathRedDB+"leases/clusters/new/data.rdb.lease.json",
			strings.Replace(redLease("clusters/new/data.rdb", "red-x", 1), `"term":1`, `"term":5000`, 1), ifNoneMatch), want: invalid("term")},
		{name: "reddb: lease body binary", req: put(heldLeaseObject, binaryBody, staleMatch), want: invalid("body")},
		{name: "reddb: lease body over 4 KiB", req: put(heldLeaseObject, pad(redLease(heldKey, "red-x", 2), 5000), staleMatch), want: tooLarge},
		{name: "reddb: lease of a key that is not a data file", req: put(api.PathRedDB+"leases/clusters/dev/main.lease.json",
			redLease("clusters/dev/main", "red-x", 1), ifNoneMatch), want: invalid("database_key")},
		{name: "reddb: lease of a key in a RedDB directory", req: put(api.PathRedDB+"leases/clusters/wal/data.rdb.lease.json",
			redLease("clusters/wal/data.rdb", "red-x", 1), ifNoneMatch), want: invalid("database_key")},
		{name: "reddb: lease object outside the lease prefix", req: put(api.PathRedDB+"tenant/leases/"+heldKey+".lease.json",
			redLease(heldKey, "red-x", 1), ifNoneMatch), want: invalidKey},
		{name: "reddb: another object under the lease prefix", req: put(api.PathRedDB+"leases/notes.txt", "x", nil), want: invalidKey},
		{name: "reddb: lease object of nothing", req: put(api.PathRedDB+"leases/.lease.json", "x", ifNoneMatch), want: invalidKey},

		// Keys, methods, queries.
		{name: "reddb: POST", req: request{method: http.MethodPost, path: api.PathRedDB + heldKey, ctype: form, body: "x"}, want: notAllowed(redAllow)},
		{name: "reddb: PATCH", req: request{method: http.MethodPatch, path: api.PathRedDB + heldKey, ctype: form, body: "x"}, want: notAllowed(redAllow)},
		{name: "reddb: no key", req: request{method: http.MethodGet, path: api.PathRedDB}, want: invalidKey},
		{name: "reddb: traversal", req: put(api.PathRedDB+"clusters/../leases/x", "x", nil), want: invalidKey},
		{name: "reddb: encoded traversal", req: put(api.PathRedDB+"clusters/%2E%2E/leases/x", "x", nil), want: invalidKey},
		{name: "reddb: empty segment", req: put(api.PathRedDB+"clusters//dev/data.rdb", "x", nil), want: invalidKey},
		{name: "reddb: the file backend's names", req: put(api.PathRedDB+".redlease-locks/x", "x", nil), want: invalidKey},
		{name: "reddb: the file backend's staging", req: put(api.PathRedDB+".redlease-staging/x", "x", nil), want: invalidKey},
		{name: "reddb: encoded NUL", req: put(api.PathRedDB+"clusters/a%00b", "x", nil), want: invalidKey},
		{name: "reddb: NFD key", req: put(api.PathRedDB+"clusters/cafe%CC%81/data.rdb", "x", nil), want: invalidKey},
		{name: "reddb: look-alike slash", req: put(api.PathRedDB+"clusters%E2%88%95dev/data.rdb", "x", nil), want: invalidKey},
		{name: "reddb: segment over 255 bytes", req: put(api.PathRedDB+"clusters/"+strings.Repeat("s", 256), "x", nil), want: invalidKey},
		{name: "reddb: unknown query parameter", req: request{method: http.MethodGet, path: api.PathRedDB + heldKey}.withQuery("versionId=1"), want: invalid("query")},
		{name: "reddb: list twice", req: request{method: http.MethodGet, path: api.PathRedDB}.withQuery("list=a&list=b"), want: invalid("list")},
		{name: "reddb: list with PUT", req: put(api.PathRedDB, "x", nil).withQuery("list=clusters/"), want: invalid("list")},
		{name: "reddb: list of a traversal", req: request{method: http.MethodGet, path: api.PathRedDB}.withQuery("list=..%2Fx"), want: invalid("list")},
		{name: "reddb: HEAD of a bad key", req: request{method: http.MethodHead, path: api.PathRedDB + "clusters//dev"},
			want: want{status: 400, code: api.CodeInvalidRequest, head: true}},
		{name: "reddb: HEAD of a lease object outside the prefix", req: request{method: http.MethodHead, path: api.PathRedDB + "x/y.lease.json"},
			want: want{status: 400, code: api.CodeInvalidRequest, head: true}},
	}
}
