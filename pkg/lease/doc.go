// Package lease is the domain core of redlease: the RedDB-compatible lease
// record and its byte-exact codec, input validation, the typed errors of the
// API contract, and the Service that applies RedDB's acquire, refresh and
// release rules on top of any Store that offers compare-and-swap.
//
// Every request is made by a Principal, established by the entry point
// (an IAM identity, a bearer token's name, Anonymous on an open local
// server) and handed in with the request. The Service refuses a key outside
// the principal's prefixes before any storage request, stores the principal
// in the record it acquires, and lets only that principal refresh or
// release the lease (records without a principal behave as before until
// their next acquire). An admin principal may break glass (ForceRelease).
//
// Time is the service's clock (Config.Now). A record carries the times its
// writers' clocks read (Record.ProvenMs); a Service whose clock reads more
// than Config.ClockTolerance before them refuses to change the record
// (ErrClockSkew), since a stepped-back clock would write expiries that
// others read as too early.
//
// The package has no AWS imports. Storage backends live in pkg/backend and
// satisfy Store; HTTP and Lambda adapters live in pkg/api.
//
// One deliberate difference from RedDB: a record is never deleted. Release
// marks it released (RedDB's reader then sees an expired lease of nobody),
// so the next acquire gets generation+1 and the term fence survives.
package lease
