// Package api is the one implementation of redlease's HTTP contract
// (docs/api.md, api/openapi.yaml): routing, strict request decoding, the
// mapping of domain errors to statuses and codes, response bodies, and one
// log line and one metrics line per request.
//
// It is transport-neutral. A Request is a method, a path (and the route
// template a gateway matched), headers and a body to read; a Response is a
// status, headers and a body. A Face answers Requests: Handler is the JSON
// lease API, and a second protocol (RedDB's object protocol under
// /v1/reddb/) is a sibling Face on the same Service, joined to it by a Mux
// that routes by path prefix. The adapters in the subpackages take any Face
// and only translate: apigw from API Gateway events (HTTP API payload 2.0
// and REST proxy 1.0) for the Lambda functions, httpserver from net/http for
// the local server. Both therefore answer byte for byte alike.
//
// Routes (routes.go) is the one declaration of the routes: method, path
// template, operation, the Lambda function that serves it and where the key
// is. The Handler routes by it; tests hold api/openapi.yaml, the stack
// (infra/stack), the functions/ folders and the Makefile to it.
//
// Every request must carry a principal, established by the entry point
// (Request.Principal: the IAM caller from apigw, a bearer token through
// Authenticate, lease.Anonymous on an open server); a request without one
// is 401 before its body is read, and the Service refuses keys outside the
// principal's prefixes (403) before any storage request.
//
// Decisions where the contract is silent (extensions, none of which change
// a documented answer):
//
//   - A POST whose Content-Type is not application/json (parameters such as
//     charset=utf-8 allowed) is refused as 400 invalid_request with field
//     "content-type", not 415, so clients only meet the contract's codes.
//   - A known route called with another method answers 405 with code
//     method_not_allowed and an Allow header.
//   - Refresh accepts an optional "term" (the term the lease was acquired
//     at); with current_term it lets the fence refuse before any storage I/O,
//     and it must match the stored lease.
//   - Explicit zeros in optional fields (term, current_term) are refused;
//     only absence means "default" or "none". JSON null, duplicate keys,
//     trailing data and invalid UTF-8 are refused too.
//   - Every response carries Content-Type: application/json, X-Request-Id
//     and Cache-Control: no-store (a lease answer must never be cached).
//   - The request id is the service's own (API Gateway's request id behind
//     API Gateway, a random one otherwise); a client's X-Request-Id is not
//     trusted.
//   - A record RedDB could not read, or a symlink or special file where a
//     record or lock file belongs (ErrCorrupt), is 500 storage_corrupt: not
//     transient, an operator must repair it. An exhausted fencing token is
//     500 internal. The details are in the log only.
//   - The key in a path is percent-decoded exactly once by this package;
//     adapters hand it over as it appears in the path. On the routes with
//     the key in the path the body may repeat database_key only as the
//     same key (400 otherwise), so one request never names two keys.
//   - A 403 says why (outside the prefixes, another principal's lease,
//     not an admin) but never whose lease it is.
package api
