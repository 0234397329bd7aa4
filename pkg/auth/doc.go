// Package auth is redlease's bearer-token authentication, for callers that
// cannot sign SigV4 (a stock RedDB sends one static Authorization header).
//
// A tokens document names each token's principal, the database-key
// prefixes it may touch and whether it may break glass; it holds only the
// SHA-256 of each token, never the token:
//
//	{"tokens": [
//	  {"name": "tenant-a-reddb", "sha256": "<64 hex digits>", "prefixes": ["tenants/a/"]},
//	  {"name": "ops", "sha256": "<64 hex digits>", "prefixes": [""], "admin": true}
//	]}
//
// Parse validates a document (a bad one is an error naming the entry) into
// a Set, which authenticates "Authorization: Bearer <token>" by hashing the
// token and looking the hash up. Reloading keeps a Set current from a
// Source (a file here; the deployed stack's S3 object in internal/wire),
// re-reading it on the request path at most once per interval, since a
// Lambda instance runs no goroutine between invocations.
//
// The package imports pkg/lease for the Principal it returns and nothing
// of AWS; Set and Reloading are api.Authenticators.
package auth
