// Package lease is the domain core of redlease: the RedDB-compatible lease
// record and its byte-exact codec, input validation, the typed errors of the
// API contract, and the Service that applies RedDB's acquire, refresh and
// release rules on top of any Store that offers compare-and-swap.
//
// The package has no AWS imports. Storage backends live in pkg/backend and
// satisfy Store; HTTP and Lambda adapters live in pkg/api.
//
// One deliberate difference from RedDB: a record is never deleted. Release
// marks it released (RedDB's reader then sees an expired lease of nobody),
// so the next acquire gets generation+1 and the term fence survives.
package lease
