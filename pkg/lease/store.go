package lease

import "context"

// Version identifies one stored state of a record (an S3 ETag, a content
// hash, a DynamoDB counter). It is always a strong HTTP entity-tag, the
// backend's opaque token in double quotes (see NewVersion), so that an HTTP
// face can hand it out as an ETag and take it back from If-Match as is.
// Backends compare it byte for byte.
type Version string

// Versioned is a record together with the version it was read at.
type Versioned struct {
	Record  Record
	Version Version
}

// Store is the compare-and-swap storage the Service needs. Keys are database
// keys that already passed ValidateKey.
//
// Errors: Load returns an error matching ErrNotFound when no record exists.
// Create and Replace return a *PreconditionError (errors.Is ErrPrecondition)
// when the record exists, or does not match the expected version or is
// missing. Transient failures match ErrUnavailable. A write that fails with
// ErrUnavailable may or may not have been applied.
type Store interface {
	Load(ctx context.Context, key string) (Versioned, error)
	Create(ctx context.Context, rec Record) (Version, error)
	Replace(ctx context.Context, rec Record, expect Version) (Version, error)
}

// Page is one page of a listing.
type Page struct {
	Records []Versioned
	// Next is the cursor for the following page; empty on the last page.
	Next string
	// Unreadable names the keys on this page whose stored object is not a
	// lease record (ErrCorrupt). They are left out of Records rather than
	// failing the page, so one bad object cannot stall every later sweep.
	Unreadable []string
}

// Lister enumerates every record, page by page, for the expiry sweep. Order
// is backend-defined; a record written during the listing may or may not
// appear. Records that do not decode are reported in Page.Unreadable.
type Lister interface {
	List(ctx context.Context, cursor string, limit int) (Page, error)
}

// ListingStore is a Store the sweep can walk.
type ListingStore interface {
	Store
	Lister
}
