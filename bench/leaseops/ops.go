// Package leaseops measures lease operations side by side: RedDB's own S3
// lease protocol replayed request for request, redlease's S3 and DynamoDB
// stores through lease.Service, the experimental one-write acquire, and
// (once it exists) RedDB's protocol through redlease's /v1/reddb gateway.
// Every row runs against the same emulators in the same run, interleaved
// one iteration at a time, and every storage request is counted on the
// SDK's HTTP transport (package reqcount).
package leaseops

import (
	"context"
	"errors"

	"github.com/redlease/redlease/bench/reqcount"
)

// Op is one lease operation as the report names it.
type Op string

// The operations measured, in report order. Warm means the instance that
// wrote the key last serves the request (its cached version is current);
// cold means a fresh instance (a new Lambda execution environment, or a
// different function: acquire, refresh and release are separate functions);
// stale means an instance whose cached version another instance has since
// replaced (several instances of the refresh function take turns).
const (
	AcquireNew      Op = "acquire, new key"
	AcquireTakeover Op = "acquire, takeover"
	RefreshWarm     Op = "refresh, warm"
	RefreshCold     Op = "refresh, cold"
	RefreshStale    Op = "refresh, stale cache"
	ReleaseWarm     Op = "release, warm"
	ReleaseCold     Op = "release, cold"
	Read            Op = "read"
)

// Ops lists every operation in report order.
var Ops = []Op{AcquireNew, AcquireTakeover, RefreshWarm, RefreshCold, RefreshStale, ReleaseWarm, ReleaseCold, Read}

// ErrNotMeasured is returned by Subject.Prepare for an operation the row
// does not measure (the experimental rows only acquire).
var ErrNotMeasured = errors.New("not measured by this row")

// Kind says what a row is, for the report's grouping and goals.
type Kind string

// The kinds of rows.
const (
	KindRedDB        Kind = "reddb"        // RedDB's own protocol, replayed
	KindRedlease     Kind = "redlease"     // redlease's lease.Service on a store
	KindExperimental Kind = "experimental" // a proposed change, measured outside pkg/lease
	KindGateway      Kind = "gateway"      // RedDB's protocol through /v1/reddb
)

// Names of the rows, shared with the report and the cost model.
const (
	RowRedDB            = "RedDB's own S3 lease, replayed"
	RowRedleaseS3       = "redlease, S3 store"
	RowRedleaseDynamoDB = "redlease, DynamoDB store"
	RowOneWriteS3       = "experimental: one-write acquire, S3"
	RowOneWriteDynamoDB = "experimental: one-write acquire, DynamoDB"
	RowGatewayS3        = "RedDB via /v1/reddb, S3"
	RowGatewayDynamoDB  = "RedDB via /v1/reddb, DynamoDB"
)

// RowInfo describes a row of the table.
type RowInfo struct {
	Name    string `json:"name"`
	Backend string `json:"backend"` // "S3" or "DynamoDB"
	Kind    Kind   `json:"kind"`
	// Notes are footnotes about how the row was measured.
	Notes []string `json:"notes,omitempty"`
	// Pending, when set, says why the row has no figures yet.
	Pending string `json:"pending,omitempty"`
}

// Action is the timed part of one iteration.
type Action func(ctx context.Context) error

// Calls are the requests an action made: Storage to S3 or DynamoDB, and
// Front to redlease itself (only for rows that go through a redlease face).
type Calls struct {
	Storage reqcount.Counts
	Front   reqcount.Counts
}

// Subject is one row: it prepares each iteration (untimed, uncounted) and
// reports the requests the timed action made.
type Subject interface {
	Info() RowInfo
	// Prepare sets up iteration i of op and returns the action to time,
	// or ErrNotMeasured.
	Prepare(ctx context.Context, op Op, i int) (Action, error)
	// Take returns the requests made since the previous Take.
	Take() Calls
}
