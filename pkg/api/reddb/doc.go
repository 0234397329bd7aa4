// Package reddb is redlease's second face: RedDB's HTTP remote-backend
// protocol under /v1/reddb/, so that a stock, unmodified RedDB
// (RED_BACKEND=http) keeps its data and its writer lease in redlease and
// gets the service's clock, fencing tokens that only grow, and storage-side
// fencing of its data writes. docs/reddb-protocol.md is what RedDB sends
// and how it reads each answer; docs/design-reddb-gateway.md is the design.
//
// The path after /v1/reddb/ is the object key, and object keys are storage
// keys. Each key is one of:
//
//   - a lease object, {lease prefix}{K}.lease.json: it IS the lease record
//     of database key K, the one the JSON API serves. HEAD and GET read
//     it; a PUT (If-None-Match: * or If-Match) is RedDB's intent, decided
//     by pkg/lease with the service's clock (Service.PutLeaseObject); a
//     DELETE (If-Match) is a release that writes the released marker.
//   - a data object (anything else): stored as sent by the Objects store,
//     byte for byte. A PUT or DELETE is fenced: it is accepted only from
//     the principal that holds the live lease of the object's database
//     (objects.DatabaseKey), decided at the commit with one uncached read
//     (Service.CheckDataWrite). Reads are never fenced, only scoped to the
//     principal's prefixes.
//   - a listing, GET {dir}?list={sub-prefix}: the keys under dir/sub-prefix,
//     one a line, relative to dir, in the form RedDB passes back to GET.
//
// Answers follow what RedDB's curl-based client needs: every HEAD answer,
// 404 and errors included, carries Content-Length: 0 and no body; ETags are
// strong and compared byte for byte; refusals of a lease intent are 412,
// which RedDB reads as a failed precondition. Error bodies are the JSON
// API's error shape, which RedDB quotes in its log.
package reddb
