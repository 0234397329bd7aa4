package badinput

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/redlease/redlease/pkg/api"
)

// The seeded leases. Bad-input rows aim at them with otherwise valid
// requests (the held lease's own holder, generation 1), so a check that
// slipped would write: a re-acquire, a refresh or a release.
const (
	heldKey     = "clusters/dev/data.rdb" // held by heldHolder, term 1, generation 1, for a day
	heldHolder  = "reddb-0-1"
	releasedKey = "clusters/old/data.rdb"  // released by reddb-old, term 3, generation 1
	fencedKey   = "clusters/prod/data.rdb" // held by reddb-5 at term 5, generation 1, for a day
)

// JSON members of the bodies; the text is JSON source, so `\u0000` below is
// an escape and "\x00" a raw byte.
const (
	kHeld = `"database_key":"clusters/dev/data.rdb"`
	hHeld = `"holder_id":"reddb-0-1"`
	ttl   = `"ttl_ms":60000`
	gen1  = `"generation":1`
)

// j builds a JSON object from member texts.
func j(members ...string) string { return "{" + strings.Join(members, ",") + "}" }

func key(text string) string    { return `"database_key":"` + text + `"` }
func holder(text string) string { return `"holder_id":"` + text + `"` }

// acquireKey is the held lease's holder acquiring another key: a new record
// if the key slipped through.
func acquireKey(text string) string { return j(key(text), hHeld, ttl) }

// pad fills body with trailing whitespace (valid JSON) up to n bytes.
func pad(body string, n int) string { return body + strings.Repeat(" ", n-len(body)) }

type request struct {
	method, path string
	query        string            // the raw query string, without '?'
	header       map[string]string // further headers (If-Match, ...)
	ctype        string            // the Content-Type header; none when empty
	body         string
	chunked      bool // the local server gets the body chunked
	// auth is the Authorization header: the seeded leases' principal's
	// bearer token when empty, none when noAuth.
	auth   string
	noAuth bool
}

// authorization is the header a request carries.
func (r request) authorization() string {
	switch {
	case r.noAuth:
		return ""
	case r.auth != "":
		return r.auth
	}
	return "Bearer " + tokenDev
}

func (r request) as(token string) request   { r.auth = "Bearer " + token; return r }
func (r request) withAuth(h string) request { r.auth = h; return r }
func (r request) withoutAuth() request      { r.noAuth = true; return r }

const ctJSON = "application/json"

func post(path, body string) request {
	return request{method: http.MethodPost, path: path, ctype: ctJSON, body: body}
}
func get(path string) request { return request{method: http.MethodGet, path: path} }

func (r request) withCT(ct string) request    { r.ctype = ct; return r }
func (r request) withMethod(m string) request { r.method = m; return r }

// want is an answer: status and code, with field, Allow, current_term and
// whether "current" is present where the contract has them.
type want struct {
	status      int
	code        string
	field       string
	allow       string
	challenge   string // WWW-Authenticate of a 401
	currentTerm uint64
	current     bool
	preHandler  bool // Go's HTTP parser refuses the request; no handler runs
	head        bool // a HEAD answer: no body, Content-Length: 0, the code in X-Redlease-Error
}

func invalid(field string) want { return want{status: 400, code: api.CodeInvalidRequest, field: field} }
func notAllowed(allow string) want {
	return want{status: 405, code: api.CodeMethodNotAllowed, allow: allow}
}
func fenced(term uint64) want { return want{status: 409, code: api.CodeFenced, currentTerm: term} }
func stale(current bool) want { return want{status: 409, code: api.CodeStale, current: current} }

var (
	forbidden    = want{status: 403, code: api.CodeForbidden}
	noToken      = want{status: 401, code: api.CodeUnauthorized, challenge: api.BearerChallenge(false)}
	refusedToken = want{status: 401, code: api.CodeUnauthorized, challenge: api.BearerChallenge(true)}
	tooLarge     = want{status: 413, code: api.CodeTooLarge}
	notFound     = want{status: 404, code: api.CodeNotFound}
	held         = want{status: 409, code: api.CodeHeld}
	success      = want{status: 200}
	// parserRejects is net/http's own 400 for a request line it cannot
	// parse (raw control bytes, bad percent-escapes in the target).
	parserRejects = &want{status: 400, preHandler: true}
	// invalidHTTPAPIPath: an HTTP API decodes the path before the function
	// sees it, and a JSON event cannot carry invalid UTF-8, so bytes that
	// are no UTF-8 arrive as U+FFFD and a bad escape as literal text
	// (decodeHTTPAPI, as MiniStack builds rawPath): the function sees
	// another, valid key, which has no lease. What AWS does is unverified
	// (docs/api-gateway.md).
	invalidHTTPAPIPath = &notFound
)

type row struct {
	name string
	req  request
	want want
	// local, when set, is the local server's answer where it legitimately
	// differs from the Lambda functions'; note says why.
	local *want
	// httpAPI, when set, is the answer through an HTTP API (payload 2.0),
	// where the gateway's decoding of the path makes another key of it
	// (invalidHTTPAPIPath).
	httpAPI *want
	note    string
}

var (
	key513    = strings.Repeat("k/", 256) + "k" // 513 bytes, every segment short
	holder257 = strings.Repeat("h", 257)
)

func rows() []row {
	return append([]row{
		// Body framing.
		{name: "malformed JSON", req: post(api.PathAcquire, `{database_key:"clusters/dev/data.rdb"}`), want: invalid("body")},
		{name: "truncated JSON mid-string", req: post(api.PathAcquire, `{"database_key":"clust`), want: invalid("body")},
		{name: "truncated JSON after a value", req: post(api.PathRefresh, `{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-0-1","generation":1,"ttl_ms":60000`), want: invalid("body")},
		{name: "truncated JSON after a colon", req: post(api.PathRelease, `{"database_key":"clusters/dev/data.rdb","holder_id":`), want: invalid("body")},
		{name: "empty body", req: post(api.PathAcquire, ""), want: invalid("body")},
		{name: "whitespace-only body", req: post(api.PathRelease, " \r\n\t "), want: invalid("body")},
		{name: "JSON array", req: post(api.PathAcquire, "["+j(kHeld, hHeld, ttl)+"]"), want: invalid("body")},
		{name: "empty JSON array", req: post(api.PathRefresh, `[]`), want: invalid("body")},
		{name: "JSON string", req: post(api.PathAcquire, `"clusters/dev/data.rdb"`), want: invalid("body")},
		{name: "JSON null", req: post(api.PathRelease, `null`), want: invalid("body")},
		{name: "JSON number", req: post(api.PathAcquire, `60000`), want: invalid("body")},
		{name: "JSON true", req: post(api.PathRefresh, `true`), want: invalid("body")},
		{name: "second object after the body", req: post(api.PathAcquire, j(kHeld, hHeld, ttl)+`{}`), want: invalid("body")},
		{name: "garbage after the body", req: post(api.PathRelease, j(kHeld, hHeld, gen1)+` x`), want: invalid("body")},
		{name: "trailing comma", req: post(api.PathAcquire, `{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-0-1","ttl_ms":60000,}`), want: invalid("body")},
		{name: "single quotes", req: post(api.PathAcquire, `{'database_key':'clusters/dev/data.rdb','holder_id':'reddb-0-1','ttl_ms':60000}`), want: invalid("body")},
		{name: "byte order mark", req: post(api.PathAcquire, "\ufeff"+j(kHeld, hHeld, ttl)), want: invalid("body")},
		{name: "comment", req: post(api.PathAcquire, `/* hi */`+j(kHeld, hHeld, ttl)), want: invalid("body")},
		{name: "NaN", req: post(api.PathAcquire, j(kHeld, hHeld, `"ttl_ms":NaN`)), want: invalid("body")},
		{name: "leading zero", req: post(api.PathAcquire, j(kHeld, hHeld, `"ttl_ms":060000`)), want: invalid("body")},
		{name: "plus sign", req: post(api.PathAcquire, j(kHeld, hHeld, `"ttl_ms":+60000`)), want: invalid("body")},
		{name: "hex number", req: post(api.PathAcquire, j(kHeld, hHeld, `"ttl_ms":0xEA60`)), want: invalid("body")},

		// Unknown, duplicate and missing members.
		{name: "unknown field instead of ttl_ms", req: post(api.PathAcquire, j(kHeld, hHeld, `"ttl":60000`)), want: invalid("ttl")},
		{name: "unknown field next to valid ones", req: post(api.PathAcquire, j(kHeld, hHeld, ttl, `"lease_id":1`)), want: invalid("lease_id")},
		{name: "field name in another case", req: post(api.PathAcquire, j(`"Database_Key":"clusters/dev/data.rdb"`, hHeld, ttl)), want: invalid("Database_Key")},
		{name: "generation on acquire", req: post(api.PathAcquire, j(kHeld, hHeld, ttl, gen1)), want: invalid("generation")},
		{name: "current_term on acquire", req: post(api.PathAcquire, j(kHeld, hHeld, ttl, `"current_term":1`)), want: invalid("current_term")},
		{name: "ttl_ms on release", req: post(api.PathRelease, j(kHeld, hHeld, gen1, ttl)), want: invalid("ttl_ms")},
		{name: "empty member name", req: post(api.PathRelease, j(kHeld, hHeld, gen1, `"":1`)), want: invalid("body")},
		{name: "over-long member name", req: post(api.PathRefresh, j(kHeld, hHeld, gen1, ttl, `"`+strings.Repeat("x", 100)+`":1`)), want: invalid("body")},
		{name: "duplicate field", req: post(api.PathAcquire, j(kHeld, hHeld, ttl, key("clusters/other/data.rdb"))), want: invalid("database_key")},
		{name: "duplicate field spelled with an escape", req: post(api.PathRelease, j(kHeld, hHeld, gen1, `"holder_\u0069d":"reddb-0-1"`)), want: invalid("holder_id")},
		{name: "empty object", req: post(api.PathAcquire, `{}`), want: invalid("database_key")},
		{name: "missing holder_id", req: post(api.PathAcquire, j(kHeld, ttl)), want: invalid("holder_id")},
		{name: "missing ttl_ms", req: post(api.PathAcquire, j(kHeld, hHeld)), want: invalid("ttl_ms")},
		{name: "refresh missing generation", req: post(api.PathRefresh, j(kHeld, hHeld, ttl)), want: invalid("generation")},
		{name: "release missing generation", req: post(api.PathRelease, j(kHeld, hHeld)), want: invalid("generation")},

		// Wrong types.
		{name: "string ttl_ms", req: post(api.PathAcquire, j(kHeld, hHeld, `"ttl_ms":"60000"`)), want: invalid("ttl_ms")},
		{name: "bool term", req: post(api.PathAcquire, j(kHeld, hHeld, ttl, `"term":true`)), want: invalid("term")},
		{name: "object key", req: post(api.PathAcquire, j(`"database_key":{"path":"clusters/dev/data.rdb"}`, hHeld, ttl)), want: invalid("database_key")},
		{name: "array holder_id", req: post(api.PathAcquire, j(kHeld, `"holder_id":["reddb-0-1"]`, ttl)), want: invalid("holder_id")},
		{name: "number holder_id", req: post(api.PathRelease, j(kHeld, `"holder_id":42`, gen1)), want: invalid("holder_id")},
		{name: "null database_key", req: post(api.PathAcquire, j(`"database_key":null`, hHeld, ttl)), want: invalid("database_key")},
		{name: "null term", req: post(api.PathAcquire, j(kHeld, hHeld, ttl, `"term":null`)), want: invalid("term")},
		{name: "object ttl_ms", req: post(api.PathRefresh, j(kHeld, hHeld, gen1, `"ttl_ms":{"ms":60000}`)), want: invalid("ttl_ms")},
		{name: "string generation", req: post(api.PathRefresh, j(kHeld, hHeld, `"generation":"1"`, ttl)), want: invalid("generation")},
		{name: "bool current_term", req: post(api.PathRefresh, j(kHeld, hHeld, gen1, ttl, `"current_term":false`)), want: invalid("current_term")},
		{name: "key nested 5000 arrays deep", req: post(api.PathAcquire, j(`"database_key":`+strings.Repeat("[", 5000)+strings.Repeat("]", 5000), hHeld, ttl)), want: invalid("database_key")},

		// Numbers: fractions, exponents, signs, and beyond 2^53 and 2^64.
		{name: "float ttl_ms", req: post(api.PathAcquire, j(kHeld, hHeld, `"ttl_ms":60000.0`)), want: invalid("ttl_ms")},
		{name: "exponent ttl_ms", req: post(api.PathAcquire, j(kHeld, hHeld, `"ttl_ms":6e4`)), want: invalid("ttl_ms")},
		{name: "exponent term", req: post(api.PathAcquire, j(kHeld, hHeld, ttl, `"term":1E0`)), want: invalid("term")},
		{name: "float generation", req: post(api.PathRelease, j(kHeld, hHeld, `"generation":1.0`)), want: invalid("generation")},
		{name: "ttl_ms 1e400", req: post(api.PathAcquire, j(kHeld, hHeld, `"ttl_ms":1e400`)), want: invalid("ttl_ms")},
		{name: "negative ttl_ms", req: post(api.PathAcquire, j(kHeld, hHeld, `"ttl_ms":-60000`)), want: invalid("ttl_ms")},
		{name: "negative term", req: post(api.PathAcquire, j(kHeld, hHeld, ttl, `"term":-1`)), want: invalid("term")},
		{name: "negative zero term", req: post(api.PathAcquire, j(kHeld, hHeld, ttl, `"term":-0`)), want: invalid("term")},
		{name: "negative generation", req: post(api.PathRefresh, j(kHeld, hHeld, `"generation":-1`, ttl)), want: invalid("generation")},
		{name: "negative current_term", req: post(api.PathRefresh, j(kHeld, hHeld, gen1, ttl, `"current_term":-3`)), want: invalid("current_term")},
		{name: "ttl_ms 2^64", req: post(api.PathAcquire, j(kHeld, hHeld, `"ttl_ms":18446744073709551616`)), want: invalid("ttl_ms")},
		{name: "term of 40 digits", req: post(api.PathAcquire, j(kHeld, hHeld, ttl, `"term":1234567890123456789012345678901234567890`)), want: invalid("term")},
		{name: "generation 2^64", req: post(api.PathRelease, j(kHeld, hHeld, `"generation":18446744073709551616`)), want: invalid("generation")},
		{name: "generation 2^64-1", req: post(api.PathRelease, j(kHeld, hHeld, `"generation":18446744073709551615`)), want: invalid("generation")},
		{name: "term 2^53", req: post(api.PathAcquire, j(kHeld, hHeld, ttl, `"term":9007199254740992`)), want: invalid("term")},
		{name: "generation 2^53+1", req: post(api.PathRefresh, j(kHeld, hHeld, `"generation":9007199254740993`, ttl)), want: invalid("generation")},
		{name: "current_term 2^53", req: post(api.PathRefresh, j(kHeld, hHeld, gen1, ttl, `"current_term":9007199254740992`)), want: invalid("current_term")},
		{name: "ttl_ms 2^53+1", req: post(api.PathAcquire, j(kHeld, hHeld, `"ttl_ms":9007199254740993`)), want: invalid("ttl_ms")},

		// Zero and out-of-range values.
		{name: "ttl_ms 0", req: post(api.PathAcquire, j(kHeld, hHeld, `"ttl_ms":0`)), want: invalid("ttl_ms")},
		{name: "ttl_ms 999", req: post(api.PathAcquire, j(kHeld, hHeld, `"ttl_ms":999`)), want: invalid("ttl_ms")},
		{name: "ttl_ms 86400001", req: post(api.PathAcquire, j(kHeld, hHeld, `"ttl_ms":86400001`)), want: invalid("ttl_ms")},
		{name: "refresh ttl_ms 999", req: post(api.PathRefresh, j(kHeld, hHeld, gen1, `"ttl_ms":999`)), want: invalid("ttl_ms")},
		{name: "refresh ttl_ms 86400001", req: post(api.PathRefresh, j(kHeld, hHeld, gen1, `"ttl_ms":86400001`)), want: invalid("ttl_ms")},
		{name: "term 0", req: post(api.PathAcquire, j(kHeld, hHeld, ttl, `"term":0`)), want: invalid("term")},
		{name: "refresh generation 0", req: post(api.PathRefresh, j(kHeld, hHeld, `"generation":0`, ttl)), want: invalid("generation")},
		{name: "release generation 0", req: post(api.PathRelease, j(kHeld, hHeld, `"generation":0`)), want: invalid("generation")},
		{name: "current_term 0", req: post(api.PathRefresh, j(kHeld, hHeld, gen1, ttl, `"current_term":0`)), want: invalid("current_term")},
		{name: "refresh term 0", req: post(api.PathRefresh, j(kHeld, hHeld, gen1, ttl, `"term":0`)), want: invalid("term")},

		// Keys in the body. None exists, so a slip would create a record.
		{name: "key with a .. segment", req: post(api.PathAcquire, acquireKey("clusters/../dev/data.rdb")), want: invalid("database_key")},
		{name: "key that is ..", req: post(api.PathAcquire, acquireKey("..")), want: invalid("database_key")},
		{name: "key ending in ..", req: post(api.PathAcquire, acquireKey("clusters/..")), want: invalid("database_key")},
		{name: "key with a . segment", req: post(api.PathAcquire, acquireKey("clusters/./data.rdb")), want: invalid("database_key")},
		{name: "key starting with ./", req: post(api.PathAcquire, acquireKey("./data.rdb")), want: invalid("database_key")},
		{name: "key with //", req: post(api.PathAcquire, acquireKey("clusters//dev/data.rdb")), want: invalid("database_key")},
		{name: "key with a leading /", req: post(api.PathAcquire, acquireKey("/clusters/dev/data.rdb")), want: invalid("database_key")},
		{name: "key with a trailing /", req: post(api.PathAcquire, acquireKey("clusters/dev/")), want: invalid("database_key")},
		{name: "empty key", req: post(api.PathAcquire, acquireKey("")), want: invalid("database_key")},
		{name: "key with an escaped NUL", req: post(api.PathAcquire, acquireKey(`clusters/a\u0000b`)), want: invalid("database_key")},
		{name: "key with an escaped newline", req: post(api.PathAcquire, acquireKey(`clusters/a\nb`)), want: invalid("database_key")},
		{name: "key with an escaped tab", req: post(api.PathAcquire, acquireKey(`clusters/a\tb`)), want: invalid("database_key")},
		{name: "key with an escaped ESC", req: post(api.PathAcquire, acquireKey(`clusters/a\u001bb`)), want: invalid("database_key")},
		{name: "key with a raw DEL", req: post(api.PathAcquire, acquireKey("clusters/a\x7fb")), want: invalid("database_key"),
			note: "DEL is legal unescaped in JSON, so the key check must catch it"},
		{name: "key with an escaped C1 control", req: post(api.PathAcquire, acquireKey(`clusters/a\u0085b`)), want: invalid("database_key")},
		{name: "key with a zero-width space", req: post(api.PathAcquire, acquireKey(`clusters/a\u200bb`)), want: invalid("database_key")},
		{name: "key with a raw newline", req: post(api.PathAcquire, acquireKey("clusters/a\nb")), want: invalid("body")},
		{name: "key with a raw NUL", req: post(api.PathAcquire, acquireKey("clusters/a\x00b")), want: invalid("body")},
		{name: "key with raw invalid UTF-8", req: post(api.PathAcquire, acquireKey("clusters/a\xffb")), want: invalid("body")},
		{name: "key with a truncated UTF-8 sequence", req: post(api.PathAcquire, acquireKey("clusters/a\xe2\x82")), want: invalid("body")},
		{name: "key with an overlong /", req: post(api.PathAcquire, acquireKey("clusters/..\xc0\xafetc")), want: invalid("body")},
		// A lone surrogate escape names no character. encoding/json turns it
		// into U+FFFD, so "a\ud800" and "a\udc00" would share one lease.
		{name: "key with a lone surrogate escape", req: post(api.PathAcquire, acquireKey(`clusters/a\ud800`)), want: invalid("database_key")},
		{name: "513-byte key", req: post(api.PathAcquire, acquireKey(key513)), want: invalid("database_key")},
		{name: "201-byte segment", req: post(api.PathAcquire, acquireKey("clusters/"+strings.Repeat("s", 201))), want: invalid("database_key")},
		{name: "record suffix inside the key", req: post(api.PathAcquire, acquireKey("clusters/dev/data.rdb.lease.json/x")), want: invalid("database_key")},
		{name: "refresh of a .. key", req: post(api.PathRefresh, j(key("clusters/../dev/data.rdb"), hHeld, gen1, ttl)), want: invalid("database_key")},
		{name: "release of a /-led key", req: post(api.PathRelease, j(key("/clusters/dev/data.rdb"), hHeld, gen1)), want: invalid("database_key")},

		// Holder ids.
		{name: "257-byte holder", req: post(api.PathAcquire, j(kHeld, holder(holder257), ttl)), want: invalid("holder_id")},
		{name: "empty holder", req: post(api.PathAcquire, j(kHeld, holder(""), ttl)), want: invalid("holder_id")},
		{name: "holder with an escaped newline", req: post(api.PathAcquire, j(kHeld, holder(`reddb\n0`), ttl)), want: invalid("holder_id")},
		{name: "holder with an escaped NUL", req: post(api.PathRelease, j(kHeld, holder(`reddb-0-1\u0000`), gen1)), want: invalid("holder_id")},
		{name: "holder with raw invalid UTF-8", req: post(api.PathAcquire, j(kHeld, holder("reddb-\xfe"), ttl)), want: invalid("body")},
		{name: "holder with a lone surrogate escape", req: post(api.PathAcquire, j(key("clusters/surrogate/data.rdb"), holder(`reddb-\udfff`), ttl)), want: invalid("holder_id"),
			note: "as for keys: the holder would silently become reddb-U+FFFD"},

		// Sizes: the limit is 16 KiB of body.
		{name: "17 KiB body", req: post(api.PathAcquire, pad(j(kHeld, hHeld, ttl), 17<<10)), want: tooLarge},
		{name: "17 KiB body, chunked", req: request{method: http.MethodPost, path: api.PathRefresh, ctype: ctJSON,
			body: pad(j(kHeld, hHeld, gen1, ttl), 17<<10), chunked: true}, want: tooLarge,
			note: "no Content-Length: the limit is the adapter's read, not the header"},
		{name: "16 KiB + 1 body", req: post(api.PathRelease, pad(j(kHeld, hHeld, gen1), api.MaxBodyBytes+1)), want: tooLarge},
		{name: "exactly 16 KiB is not too large", req: post(api.PathAcquire, pad(j(kHeld, holder("reddb-9"), ttl), api.MaxBodyBytes)), want: held},

		// Content types: the body is a valid re-acquire that would write.
		{name: "missing Content-Type", req: post(api.PathAcquire, j(kHeld, hHeld, ttl)).withCT(""), want: invalid("content-type")},
		{name: "text/plain", req: post(api.PathAcquire, j(kHeld, hHeld, ttl)).withCT("text/plain"), want: invalid("content-type")},
		{name: "form content type", req: post(api.PathAcquire, j(kHeld, hHeld, ttl)).withCT("application/x-www-form-urlencoded"), want: invalid("content-type")},
		{name: "charset latin1", req: post(api.PathAcquire, j(kHeld, hHeld, ttl)).withCT("application/json; charset=latin1"), want: invalid("content-type")},
		{name: "malformed media type", req: post(api.PathAcquire, j(kHeld, hHeld, ttl)).withCT("application/json; charset"), want: invalid("content-type")},
		{name: "json suffix type", req: post(api.PathAcquire, j(kHeld, hHeld, ttl)).withCT("application/merge-patch+json"), want: invalid("content-type")},
		{name: "bare json", req: post(api.PathAcquire, j(kHeld, hHeld, ttl)).withCT("json"), want: invalid("content-type")},
		{name: "refresh without Content-Type", req: post(api.PathRefresh, j(kHeld, hHeld, gen1, ttl)).withCT(""), want: invalid("content-type")},
		{name: "release as text/json", req: post(api.PathRelease, j(kHeld, hHeld, gen1)).withCT("text/json"), want: invalid("content-type")},

		// Wrong methods: API Gateway has no route for these (see doc.go).
		{name: "GET acquire", req: get(api.PathAcquire), want: notAllowed("POST")},
		{name: "PUT acquire", req: post(api.PathAcquire, j(kHeld, hHeld, ttl)).withMethod(http.MethodPut), want: notAllowed("POST")},
		{name: "OPTIONS acquire", req: get(api.PathAcquire).withMethod(http.MethodOptions), want: notAllowed("POST")},
		{name: "lower-case post", req: post(api.PathAcquire, j(kHeld, hHeld, ttl)).withMethod("post"), want: notAllowed("POST")},
		{name: "DELETE refresh", req: get(api.PathRefresh).withMethod(http.MethodDelete), want: notAllowed("POST")},
		{name: "GET refresh", req: get(api.PathRefresh), want: notAllowed("POST")},
		{name: "PATCH release", req: post(api.PathRelease, j(kHeld, hHeld, gen1)).withMethod(http.MethodPatch), want: notAllowed("POST")},
		{name: "TRACE release", req: get(api.PathRelease).withMethod(http.MethodTrace), want: notAllowed("POST")},
		{name: "POST a lease", req: post(api.PathLeases+heldKey, j(kHeld, hHeld, ttl)), want: notAllowed("GET")},
		{name: "DELETE a lease", req: get(api.PathLeases + heldKey).withMethod(http.MethodDelete), want: notAllowed("GET")},
		{name: "PUT a lease", req: post(api.PathLeases+heldKey, j(kHeld, hHeld, ttl)).withMethod(http.MethodPut), want: notAllowed("GET")},

		// Unknown routes: API Gateway answers these itself (see doc.go).
		{name: "root", req: get("/"), want: notFound},
		{name: "acquire with a trailing /", req: post(api.PathAcquire+"/", j(hHeld, ttl)), want: invalid("database_key"),
			note: "the path route's greedy parameter needs a character in API Gateway, whose own 404 answers there; the service refuses the empty key"},
		{name: "acquire in another case", req: post("/v1/Acquire", j(kHeld, hHeld, ttl)), want: notFound},
		{name: "acquire without version", req: post("/acquire", j(kHeld, hHeld, ttl)), want: notFound},
		{name: "acquire in v2", req: post("/v2/acquire", j(kHeld, hHeld, ttl)), want: notFound},
		{name: "acquire with //", req: post("/v1//acquire", j(kHeld, hHeld, ttl)), want: notFound},
		// An HTTP API decodes the %2F: the path route with an empty key.
		{name: "acquire with an encoded /", req: post("/v1/acquire%2F", j(kHeld, hHeld, ttl)), want: notFound,
			httpAPI: &want{status: 400, code: api.CodeInvalidRequest, field: "database_key"}},
		{name: "leases without a key", req: get("/v1/leases"), want: notFound},
		{name: "lease in the singular", req: get("/v1/lease/" + heldKey), want: notFound},
		{name: "leases with an empty key", req: get(api.PathLeases), want: invalid("database_key"),
			note: "API Gateway's greedy parameter needs a character, so its own 404 answers there; the service refuses the empty key"},

		// Keys in the GET path, sent raw.
		{name: "path with ..", req: get(api.PathLeases + "clusters/../dev/data.rdb"), want: invalid("database_key")},
		{name: "path with encoded ..", req: get(api.PathLeases + "clusters/%2E%2E/dev/data.rdb"), want: invalid("database_key")},
		{name: "path with encoded /../", req: get(api.PathLeases + "clusters%2F..%2Fdev%2Fdata.rdb"), want: invalid("database_key")},
		{name: "path with .", req: get(api.PathLeases + "clusters/./data.rdb"), want: invalid("database_key")},
		{name: "path with //", req: get(api.PathLeases + "clusters//dev/data.rdb"), want: invalid("database_key")},
		{name: "path with a leading /", req: get(api.PathLeases + "/clusters/dev/data.rdb"), want: invalid("database_key")},
		{name: "path with an encoded leading /", req: get(api.PathLeases + "%2Fclusters"), want: invalid("database_key")},
		{name: "path with a trailing /", req: get(api.PathLeases + "clusters/dev/"), want: invalid("database_key")},
		{name: "path with %00", req: get(api.PathLeases + "clusters/a%00b"), want: invalid("database_key")},
		{name: "path with %0A", req: get(api.PathLeases + "clusters/a%0Ab"), want: invalid("database_key")},
		{name: "path with %09", req: get(api.PathLeases + "clusters/a%09b"), want: invalid("database_key")},
		{name: "path with %7F", req: get(api.PathLeases + "clusters/a%7Fb"), want: invalid("database_key")},
		{name: "path with %1B", req: get(api.PathLeases + "clusters/a%1Bb"), want: invalid("database_key")},
		{name: "path with %FF", req: get(api.PathLeases + "clusters/a%FFb"), want: invalid("database_key"), httpAPI: invalidHTTPAPIPath},
		{name: "path with an encoded overlong /", req: get(api.PathLeases + "clusters/..%C0%AFetc"), want: invalid("database_key"), httpAPI: invalidHTTPAPIPath},
		{name: "path with raw invalid UTF-8", req: get(api.PathLeases + "clusters/a\xffb"), want: invalid("database_key"), httpAPI: invalidHTTPAPIPath},
		{name: "path with a raw NUL", req: get(api.PathLeases + "clusters/a\x00b"), want: invalid("database_key"), local: parserRejects,
			note: "Go's HTTP parser refuses control bytes in the request line before the handler"},
		{name: "path with a raw tab", req: get(api.PathLeases + "clusters/a\tb"), want: invalid("database_key"), local: parserRejects,
			note: "Go's HTTP parser refuses control bytes in the request line before the handler"},
		{name: "path with a raw DEL", req: get(api.PathLeases + "clusters/a\x7fb"), want: invalid("database_key"), local: parserRejects,
			note: "Go's HTTP parser refuses control bytes in the request line before the handler"},
		{name: "path with a bad escape", req: get(api.PathLeases + "clusters/a%zz"), want: invalid("database_key"), httpAPI: invalidHTTPAPIPath, local: parserRejects,
			note: "Go's HTTP parser refuses a bad percent-escape before the handler"},
		{name: "path decoded only once", req: get(api.PathLeases + "clusters/%252E%252E/dev"), want: notFound,
			note: `the key is the literal "clusters/%2E%2E/dev", which has no record`},
		{name: "513-byte key in the path", req: get(api.PathLeases + key513), want: invalid("database_key")},
		{name: "key without a record", req: get(api.PathLeases + "clusters/none/data.rdb"), want: notFound},

		// Refusals by the lease rules, on the seeded leases.
		{name: "acquire of a held lease by another holder", req: post(api.PathAcquire, j(kHeld, holder("reddb-9"), ttl)), want: held},
		{name: "acquire of a held lease at a higher term", req: post(api.PathAcquire, j(kHeld, holder("reddb-9"), ttl, `"term":2`)), want: held},
		{name: "acquire below term 5 by its holder", req: post(api.PathAcquire, j(key(fencedKey), holder("reddb-5"), ttl, `"term":4`)), want: fenced(5)},
		{name: "acquire below term 5 before held", req: post(api.PathAcquire, j(key(fencedKey), holder("reddb-9"), ttl)), want: fenced(5)},
		{name: "acquire of a released lease below its term", req: post(api.PathAcquire, j(key(releasedKey), holder("reddb-9"), ttl, `"term":2`)), want: fenced(3)},
		{name: "refresh of another generation", req: post(api.PathRefresh, j(kHeld, hHeld, `"generation":2`, ttl)), want: stale(true)},
		{name: "refresh by another holder", req: post(api.PathRefresh, j(kHeld, holder("reddb-9"), gen1, ttl)), want: stale(true)},
		{name: "refresh of a released lease", req: post(api.PathRefresh, j(key(releasedKey), holder("reddb-old"), gen1, ttl)), want: stale(true)},
		{name: "refresh with another term", req: post(api.PathRefresh, j(key(fencedKey), holder("reddb-5"), gen1, ttl, `"term":3`)), want: stale(true)},
		{name: "refresh behind current_term", req: post(api.PathRefresh, j(key(fencedKey), holder("reddb-5"), gen1, ttl, `"current_term":6`)), want: fenced(6)},
		{name: "refresh fenced before storage", req: post(api.PathRefresh, j(key(fencedKey), holder("reddb-5"), gen1, ttl, `"term":4`, `"current_term":5`)), want: fenced(5)},
		{name: "refresh of a key without a record", req: post(api.PathRefresh, j(key("clusters/none/data.rdb"), hHeld, gen1, ttl)), want: stale(false)},
		{name: "release by another holder", req: post(api.PathRelease, j(kHeld, holder("reddb-9"), gen1)), want: stale(true)},
		{name: "release of another generation", req: post(api.PathRelease, j(kHeld, hHeld, `"generation":7`)), want: stale(true)},
		{name: "release of a key without a record", req: post(api.PathRelease, j(key("clusters/none/data.rdb"), hHeld, gen1)), want: stale(false)},
		{name: "release of a released lease by another holder", req: post(api.PathRelease, j(key(releasedKey), holder("reddb-9"), gen1)), want: stale(true)},
		{name: "second release answers and rewrites nothing", req: post(api.PathRelease, j(key(releasedKey), holder("reddb-old"), gen1)), want: success},

		// Keys in the path of the path-key routes.
		{name: "path route with a body key that differs", req: post(api.PathRefresh+"/"+heldKey, j(key("clusters/other/data.rdb"), hHeld, gen1, ttl)), want: invalid("database_key")},
		{name: "path route with ..", req: post(api.PathAcquire+"/clusters/../dev/data.rdb", j(hHeld, ttl)), want: invalid("database_key")},
		{name: "path route with encoded ..", req: post(api.PathRelease+"/clusters/%2E%2E/dev/data.rdb", j(hHeld, gen1)), want: invalid("database_key")},
		{name: "path route refresh of another generation", req: post(api.PathRefresh+"/"+heldKey, j(hHeld, `"generation":2`, ttl)), want: stale(true)},
		{name: "path route acquire by another holder", req: post(api.PathAcquire+"/"+heldKey, j(holder("reddb-9"), ttl)), want: held},
		{name: "GET a path route", req: get(api.PathAcquire + "/" + heldKey), want: notAllowed("POST")},

		// Abuse limits: terms, Unicode forms, look-alike separators.
		{name: "acquire 1001 terms above the stored one", req: post(api.PathAcquire, j(key(fencedKey), holder("reddb-5"), ttl, `"term":1006`)), want: invalid("term")},
		{name: "first acquire at term 1002", req: post(api.PathAcquire, j(key("clusters/new/data.rdb"), hHeld, ttl, `"term":1002`)), want: invalid("term")},
		{name: "first acquire at 2^53-1", req: post(api.PathAcquire, j(key("clusters/new/data.rdb"), hHeld, ttl, `"term":9007199254740991`)), want: invalid("term"),
			note: "one request must not fence a key for ever"},
		{name: "key in NFD, escaped", req: post(api.PathAcquire, acquireKey(`clusters/cafe\u0301`)), want: invalid("database_key")},
		{name: "key in NFD, raw", req: post(api.PathAcquire, acquireKey("clusters/cafe\u0301")), want: invalid("database_key")},
		{name: "key in NFD in the path", req: get(api.PathLeases + "clusters/cafe%CC%81"), want: invalid("database_key")},
		{name: "key in NFD in a path route", req: post(api.PathAcquire+"/clusters/cafe%CC%81", j(hHeld, ttl)), want: invalid("database_key")},
		{name: "key with a fullwidth solidus", req: post(api.PathAcquire, acquireKey(`clusters\uff0fdev/data.rdb`)), want: invalid("database_key")},
		{name: "key with a division slash", req: post(api.PathAcquire, acquireKey("clusters\u2215dev/data.rdb")), want: invalid("database_key")},
		{name: "key with a fraction slash", req: post(api.PathAcquire, acquireKey(`clusters\u2044dev/data.rdb`)), want: invalid("database_key")},
		{name: "key with a big solidus", req: post(api.PathAcquire, acquireKey(`clusters\u29f8dev/data.rdb`)), want: invalid("database_key")},
		{name: "path with a fullwidth solidus", req: get(api.PathLeases + "clusters%EF%BC%8Fdev/data.rdb"), want: invalid("database_key")},

		// Credentials: missing, unknown, malformed.
		{name: "no Authorization header", req: post(api.PathRefresh, j(kHeld, hHeld, gen1, ttl)).withoutAuth(), want: noToken},
		{name: "no Authorization header on a read", req: get(api.PathLeases + heldKey).withoutAuth(), want: noToken},
		{name: "no Authorization header on a key without a record", req: get(api.PathLeases + "clusters/none/data.rdb").withoutAuth(), want: noToken},
		{name: "unknown bearer token", req: post(api.PathRelease, j(kHeld, hHeld, gen1)).as("not-a-token-we-issued"), want: refusedToken},
		{name: "a token's hash as the token", req: post(api.PathRelease, j(kHeld, hHeld, gen1)).as(hashDev), want: refusedToken},
		{name: "Basic credentials", req: post(api.PathRefresh, j(kHeld, hHeld, gen1, ttl)).withAuth("Basic ZGV2OnNlY3JldA=="), want: refusedToken},
		{name: "Bearer without a token", req: post(api.PathRefresh, j(kHeld, hHeld, gen1, ttl)).withAuth("Bearer"), want: refusedToken},
		{name: "Bearer token with a space", req: post(api.PathRefresh, j(kHeld, hHeld, gen1, ttl)).withAuth("Bearer " + tokenDev + " x"), want: refusedToken},
		{name: "Bearer token in quotes", req: post(api.PathRefresh, j(kHeld, hHeld, gen1, ttl)).withAuth(`Bearer "` + tokenDev + `"`), want: refusedToken},
		{name: "a SigV4 signature where a token is wanted", req: post(api.PathAcquire, j(kHeld, hHeld, ttl)).withAuth(
			"AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/eu-west-1/execute-api/aws4_request, SignedHeaders=host, Signature=00"), want: refusedToken},
		{name: "unauthenticated before a bad body", req: post(api.PathAcquire, `{`).withoutAuth(), want: noToken,
			note: "credentials come first: an unauthenticated caller learns nothing about its request"},

		// Principals: another tenant's token, another principal of the prefix.
		{name: "another tenant refreshes the held lease", req: post(api.PathRefresh, j(kHeld, hHeld, gen1, ttl)).as(tokenOther), want: forbidden},
		{name: "another tenant releases it", req: post(api.PathRelease+"/"+heldKey, j(hHeld, gen1)).as(tokenOther), want: forbidden},
		{name: "another tenant reads it", req: get(api.PathLeases + heldKey).as(tokenOther), want: forbidden},
		{name: "another tenant reads a key without a record", req: get(api.PathLeases + "clusters/none/data.rdb").as(tokenOther), want: forbidden,
			note: "the same answer as for a key with a record: a refusal never tells whether the key exists"},
		{name: "another tenant acquires a free key", req: post(api.PathAcquire, acquireKey("clusters/free/data.rdb")).as(tokenOther), want: forbidden},
		{name: "another tenant acquires by the path route", req: post(api.PathAcquire+"/clusters/free/data.rdb", j(hHeld, ttl)).as(tokenOther), want: forbidden},
		{name: "another tenant acquires a released key", req: post(api.PathAcquire, j(key(releasedKey), hHeld, ttl, `"term":3`)).as(tokenOther), want: forbidden},
		{name: "another principal refreshes with the holder's values", req: post(api.PathRefresh, j(kHeld, hHeld, gen1, ttl)).as(tokenBatch), want: forbidden},
		{name: "another principal releases with the holder's values", req: post(api.PathRelease, j(kHeld, hHeld, gen1)).as(tokenBatch), want: forbidden},
		{name: "another principal acquires with the holder's id", req: post(api.PathAcquire, j(kHeld, hHeld, ttl)).as(tokenBatch), want: held},
		{name: "break glass without admin", req: post(api.PathAdminRelease+heldKey, "").withCT(""), want: forbidden},
		{name: "break glass by another tenant", req: post(api.PathAdminRelease+heldKey, "").withCT("").as(tokenOther), want: forbidden},
		{name: "break glass with an unknown member", req: post(api.PathAdminRelease+heldKey, `{"force":true}`).as(tokenOps), want: invalid("force")},
	}, redDBRows()...)
}

// TestBadInputLeavesTheStoreUnchanged runs every row through the Lambda
// entry point (payload 2.0 and 1.0) and the local server, and compares the
// whole data directory after each request with the seeded one.
func TestBadInputLeavesTheStoreUnchanged(t *testing.T) {
	r := newRig(t)
	base := r.seed(t)
	legs := []struct {
		name  string
		local bool
		send  func(*testing.T, request, string) answer
	}{
		{"lambda 2.0", false, r.invokeV2},
		{"lambda 1.0", false, r.invokeV1},
		{"local server", true, func(t *testing.T, rq request, _ string) answer { return r.sendRaw(t, rq) }},
	}
	all := rows()
	seen := map[string]bool{}
	for i, row := range all {
		if seen[row.name] {
			t.Fatalf("row name %q used twice", row.name)
		}
		seen[row.name] = true
		t.Run(row.name, func(t *testing.T) {
			for _, leg := range legs {
				w, gwID := row.want, fmt.Sprintf("gw-%d-%s", i, leg.name)
				if leg.local {
					gwID = ""
					if row.local != nil {
						w = *row.local
					}
				}
				if leg.name == "lambda 2.0" && row.httpAPI != nil {
					w = *row.httpAPI
				}
				got := leg.send(t, row.req, gwID)
				check(t, leg.name, got, w, gwID, r.dataDir)
				after := snapshot(t, r.dataDir)
				if d := diffSnapshots(base, after); d != "" {
					t.Errorf("%s: the store changed: %s", leg.name, d)
					base = after // report each change once, not on every later row
				}
			}
		})
	}
	t.Logf("%d rows, %d requests", len(all), len(all)*len(legs))
}

// seed writes the leases the rows aim at through the API, checks that each
// transport really reaches this data directory (a write through it shows in
// the snapshot, so "unchanged" below is not vacuous), and returns the
// snapshot the rows are compared with.
func (r *rig) seed(t *testing.T) map[string]string {
	t.Helper()
	for _, s := range []struct{ path, body string }{
		{api.PathAcquire, j(kHeld, hHeld, `"ttl_ms":86400000`)},
		{api.PathAcquire, j(key(releasedKey), holder("reddb-old"), ttl, `"term":3`)},
		{api.PathRelease, j(key(releasedKey), holder("reddb-old"), gen1)},
		{api.PathAcquire, j(key(fencedKey), holder("reddb-5"), `"ttl_ms":86400000`, `"term":5`)},
	} {
		got := r.sendRaw(t, post(s.path, s.body))
		if got.status != http.StatusOK || !strings.Contains(string(got.body), `"generation":1`) {
			t.Fatalf("seed %s %s: %d %s", s.path, s.body, got.status, got.body)
		}
	}
	snap := snapshot(t, r.dataDir)
	for _, k := range []string{heldKey, releasedKey, fencedKey} {
		if _, ok := snap["leases/"+k+".lease.json"]; !ok {
			t.Fatalf("seeded record of %s not found in the data directory: %v", k, snap)
		}
	}
	// Distinct TTLs give distinct bytes, so each refresh must show.
	for i, send := range []func() answer{
		func() answer {
			return r.invokeV2(t, post(api.PathRefresh, j(kHeld, hHeld, gen1, `"ttl_ms":86000000`)), "gw-seed-2.0")
		},
		func() answer {
			return r.invokeV1(t, post(api.PathRefresh, j(kHeld, hHeld, gen1, `"ttl_ms":86100000`)), "gw-seed-1.0")
		},
		func() answer { return r.sendRaw(t, post(api.PathRefresh, j(kHeld, hHeld, gen1, `"ttl_ms":86200000`))) },
	} {
		got := send()
		if got.status != http.StatusOK {
			t.Fatalf("refresh %d: %d %s", i, got.status, got.body)
		}
		after := snapshot(t, r.dataDir)
		if diffSnapshots(snap, after) == "" {
			t.Fatalf("refresh %d answered 200 but the data directory did not change: the transport uses another store", i)
		}
		snap = after
	}
	return snap
}
