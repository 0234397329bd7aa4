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
