// Package badinput holds the bad-input table: one list of refused requests
// (malformed, truncated and mistyped JSON, out-of-range numbers, hostile
// keys, oversized bodies, wrong methods, routes and content types, and
// requests the lease rules refuse) driven through both ways the service is
// reached:
//
//   - the Lambda entry point (lambda.NewHandler(adapter.Handle).Invoke),
//     with API Gateway HTTP API 2.0 and REST 1.0 events, on functions built
//     by lambdafn.BuildAPI exactly as functions/<name>/main.go builds them,
//     and routed as the deployed API routes (api.Routes);
//   - the local server (the cmd/redlease serve wiring: config, wire.Load,
//     App.Face, httpserver) over real TCP with hand-written HTTP/1.1, so that
//     nothing a Go client would normalise away is lost.
//
// Both transports share one file-backend data directory, seeded with real
// leases through the API. After every request the whole directory (every
// path and every byte) must be exactly as it was: the contract promises
// that nothing is written when a request is refused.
//
// The deployed HTTP API declares one route per function, so API Gateway
// itself answers requests no route matches (wrong method, unknown path);
// for those rows the event is delivered through a $default route to a
// function serving every operation, which is what the function would answer
// behind a catch-all route. The local server sits behind Go's HTTP parser,
// which refuses request lines with raw control bytes or bad percent-escapes
// before any handler runs; those rows say so and assert the parser's 400.
//
// FuzzBadInputNeverChangesTheStore explores beyond the table on a memory
// store: whatever the method, path and body, an answer that is not 2xx is a
// 4xx with a contract code and leaves every stored byte as it was.
package badinput
