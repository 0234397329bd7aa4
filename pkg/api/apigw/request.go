package apigw

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/lease"
)

// How API Gateway hands over the path (docs/api-gateway.md has the sources
// and what is verified where):
//
//   - An HTTP API percent-decodes the path before the function sees it:
//     rawPath (payload 2.0), path (its payload 1.0) and, by all reports,
//     the path parameters. Reports differ on one escape: fully decoded
//     (a client's "a%252Fb" arrives as "a%2Fb"), or decoded except "%25",
//     which stays (it arrives as "a%252Fb"; MiniStack models this). Both
//     turn a client's "a%2Fb" into "a/b".
//   - A REST API hands over path still percent-encoded, as the client sent
//     it (after the stage); its pathParameters are not to be relied on
//     for the encoding, so the greedy parameter is taken from path.
//   - A Lambda function URL (payload 2.0 too, requestContext.domainName
//     "<url-id>.lambda-url.<region>.on.aws") hands over rawPath still
//     percent-encoded, as the client sent it.
//
// The face wants the path and the parameters percent-encoded, to decode
// them exactly once (api.Request.Path). So the adapter never decodes what
// an HTTP API decoded: it only turns a "%25" that may have stayed into
// "%", then encodes the result again; a REST API's path goes as it is.
// The key the face decodes is the key the client meant under either
// reading of an HTTP API (save a key holding a literal "%25" under the
// first, which decodes to "%"): the literal key "a%2Fb" is never the lease
// of "a/b".

// functionURL reports whether a 2.0 event's domain is a Lambda function
// URL's rather than an HTTP API's.
func functionURL(domain string) bool { return strings.Contains(domain, ".lambda-url.") }

// fromHTTPAPI is a path or parameter an HTTP API decoded, in the encoded
// form the face decodes once.
func fromHTTPAPI(decoded string) string {
	return encodePath(strings.ReplaceAll(decoded, "%25", "%"))
}

// encodePath percent-encodes a decoded path segment by segment, keeping
// its slashes, so that one url.PathUnescape gives it back unchanged.
func encodePath(decoded string) string {
	segs := strings.Split(decoded, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// encodeParams re-encodes path parameters an HTTP API decoded.
func encodeParams(decoded map[string]string) map[string]string {
	if decoded == nil {
		return nil
	}
	out := make(map[string]string, len(decoded))
	for k, v := range decoded {
		out[k] = fromHTTPAPI(v)
	}
	return out
}

// restParams are the path parameters of a REST event, percent-encoded: the
// resource's greedy last parameter ("/v1/leases/{database_key+}") is the
// part of path after the resource's literal prefix, as the client encoded
// it; a path that does not hold the prefix (a resource with no greedy
// parameter, an event put together by hand) keeps the event's parameters,
// taken as decoded like an HTTP API's.
func restParams(resource, path string, params map[string]string) map[string]string {
	out := encodeParams(params)
	open := strings.LastIndexByte(resource, '{')
	if open < 0 || !strings.HasSuffix(resource, "+}") {
		return out
	}
	prefix, name := resource[:open], resource[open+1:len(resource)-2]
	// The first occurrence: a custom domain's base path may come before
	// the resource, a key may hold the prefix again after it.
	at := strings.Index(path, prefix)
	if at < 0 {
		return out
	}
	if out == nil {
		out = make(map[string]string, 1)
	}
	out[name] = path[at+len(prefix):]
	return out
}

// header builds the face's header: one value a name, the value API
// Gateway puts in headers (in 2.0 the values of a repeated header joined
// with commas; in 1.0 the last of them, so a name only multiValueHeaders
// has gets its last value too). An event that names one header twice, in
// different case, with different values is refused: API Gateway sends no
// such event (2.0 lowercases every name and joins repeats), and no rule
// picking one of them would be more than a guess.
func header(single map[string]string, multi map[string][]string) (http.Header, error) {
	h := make(http.Header, len(single)+len(multi))
	seen := make(map[string]string, len(single)) // canonical name -> the event's spelling
	add := func(name, value string) error {
		if name == "" {
			return nil
		}
		canon := http.CanonicalHeaderKey(name)
		if prev, ok := seen[canon]; ok {
			if h.Get(canon) != value {
				return &lease.InvalidError{Field: strings.ToLower(canon),
					Reason: fmt.Sprintf("header is given twice with different values (as %q and %q)", prev, name)}
			}
			return nil
		}
		seen[canon] = name
		h.Set(canon, value)
		return nil
	}
	// Sorted, so that the answer never depends on map order.
	for _, name := range slices.Sorted(maps.Keys(single)) {
		if err := add(name, single[name]); err != nil {
			return nil, err
		}
	}
	inSingle := make(map[string]bool, len(seen))
	for canon := range seen {
		inSingle[canon] = true
	}
	for _, name := range slices.Sorted(maps.Keys(multi)) {
		vs := multi[name]
		if len(vs) == 0 || inSingle[http.CanonicalHeaderKey(name)] {
			continue // headers has the name: its value is API Gateway's
		}
		if err := add(name, vs[len(vs)-1]); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// ensureID is id, or a fresh random one for an event that carried none:
// every answer has a request id.
func ensureID(id string) string {
	if id != "" {
		return id
	}
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// noMethod is the answer to an event without an HTTP method: no
// requestContext (2.0), no httpMethod (1.0). It is no request API Gateway
// sent, so there is no route or method to speak of.
func noMethod(requestID, where string) api.Response {
	return api.ProtocolError(requestID, http.StatusBadRequest,
		"the API Gateway event has no HTTP method ("+where+" is missing): it is not a request API Gateway sent", 0)
}
