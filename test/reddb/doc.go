// Package reddb holds the tests of redlease's RedDB face with stock RedDB
// in the loop: real `red server` instances (internal/reddbtest) whose
// remote backend is a real `redlease serve` (file backend, bearer tokens),
// or the RedDB function's Lambda handler behind an in-test HTTP server that
// turns each request into the function URL's payload-2.0 event. They carry
// the build tag "reddb" and run in `make test-reddb` (part of `make
// test`), which builds the pinned RedDB once and caches it.
//
// The scenarios are the issue's: one holder at a time, RedDB's own `held
// by` refusal, release that keeps the generation, a paused writer whose
// uploads are refused once it is deposed, a crashed holder's lease taken
// over at generation + 1, and a RedDB whose clock runs ahead held to the
// service's clock. Each says which of RedDB's lease defects
// (docs/reddb-protocol.md) it shows fixed or mitigated.
package reddb
