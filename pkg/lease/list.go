package lease

import "context"

// The listing and the state the expiry sweep walks a store with. They are
// the sweep's alone: the Service never lists.

// Entry is one record as a listing describes it, often without reading it.
type Entry struct {
	// Key is the database key.
	Key string
	// Tag changes whenever the stored object changes, and an equal tag means
	// the same stored bytes, so that what an earlier read of the record
	// showed still holds while its tag is unchanged: S3's ETag, a file's
	// inode, size and times, DynamoDB's version counter. Never empty.
	Tag string
	// Version is the record's version when the listing knows it without
	// reading the record (S3's ETag), and then Tag is string(Version);
	// empty otherwise.
	Version Version
	// Record is the record at Version when the listing read it anyway
	// (DynamoDB's Scan, the memory store); nil means reading it takes a
	// Load.
	Record *Record
}

// Unreadable is an object in the listing that cannot become an Entry: it
// is not a lease record (ErrCorrupt: bytes that do not decode, a symlink or
// special file in the file backend's tree) or could not be read.
type Unreadable struct {
	// Key is the database key, or for an object where no record can be,
	// its path below the prefix.
	Key string
	Err error
}

// Page is one page of a listing.
type Page struct {
	Entries []Entry
	// Next is the cursor for the following page; empty on the last page.
	Next string
	// Unreadable are the objects on this page that are not entries. They
	// are reported rather than failing the page, so that one bad object
	// cannot stall every later sweep.
	Unreadable []Unreadable
	// ReadUnits is what the page cost in the backend's read capacity when
	// it says (DynamoDB's consumed read units); 0 otherwise.
	ReadUnits float64
}

// Lister enumerates every record, page by page, for the expiry sweep.
// Order is backend-defined; a record written during the listing may or may
// not appear. A page holds at most limit entries (fewer is fine, even none
// while Next is set).
//
// A cursor is a plain string that stays valid across calls, processes and
// time (the sweep keeps it between runs to continue where the previous run
// stopped); a cursor the backend cannot use any more is refused with an
// error matching ErrInvalid, and the caller starts again from "".
type Lister interface {
	List(ctx context.Context, cursor string, limit int) (Page, error)
}

// StateStore keeps one opaque object for the sweep, outside the lease
// records: its own state between runs. The object is never listed and no
// lease key can name it.
//
// LoadState returns an error matching ErrNotFound when nothing was saved.
// SaveState writes data only if the stored object is at version expect
// ("" meaning that none may exist), and returns a *PreconditionError
// otherwise, so that two sweeps that overlap cannot lose each other's
// state unnoticed.
type StateStore interface {
	LoadState(ctx context.Context) ([]byte, Version, error)
	SaveState(ctx context.Context, data []byte, expect Version) (Version, error)
}

// ListingStore is a Store the sweep can walk and keep its state in.
type ListingStore interface {
	Store
	Lister
	StateStore
}

// ContentVersioner is a store whose version of a record is a function of
// the record's stored bytes (a content hash: S3's MD5 ETag, the file
// backend's SHA-256), so that a caller holding a record can tell without a
// read whether a listed version is exactly that record. The sweep uses it
// to report an expiry it learnt of in an earlier run without reading the
// record again; a mismatch only costs that read.
type ContentVersioner interface {
	// ContentVersion is the version EncodeRecord(rec) has when stored.
	ContentVersion(rec Record) Version
}
