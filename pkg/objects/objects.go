// Package objects is the vocabulary shared by the object stores behind
// redlease's RedDB face (/v1/reddb/) and the face itself: what a stored
// object is (Info), the precondition of a write (Condition), the hook that
// fences a write at its commit (PutOptions.BeforeCommit), and the rules that
// say which keys are objects at all and which database a data object
// belongs to.
//
// The stores live with the lease stores they share storage with
// (pkg/backend/memory, file and s3); the interface they satisfy is declared
// where it is consumed, by the face (pkg/api/reddb), and
// pkg/objects/objectstest is the conformance suite every one of them runs.
//
// Errors are pkg/lease's sentinels, so that one table maps every error to
// an HTTP status: a missing object matches lease.ErrNotFound, a write whose
// Condition does not hold matches lease.ErrPrecondition, a refused key or
// body matches lease.ErrInvalid, and a storage failure matches
// lease.ErrUnavailable (for a write: it may or may not have been applied).
//
// The package has no AWS imports and imports nothing of redlease's but
// pkg/lease.
package objects

import (
	"context"
	"time"

	"github.com/redlease/redlease/pkg/lease"
)

// Info describes one stored object.
type Info struct {
	// ETag is a strong HTTP entity-tag (a quoted token, lease.NewVersion's
	// form). It changes with every write of the object and stays the same
	// as long as the object is not written, so that a client can HEAD,
	// GET and HEAD again and compare, as RedDB does.
	ETag lease.Version
	// Size is the object's length in bytes.
	Size int64
}

// Condition is the precondition of a write, as HTTP's If-None-Match: * and
// If-Match carry it. The zero Condition is an unconditional write.
type Condition struct {
	// IfNoneMatch: the write succeeds only if the object does not exist.
	IfNoneMatch bool
	// IfMatch, when not empty: the write succeeds only if the object
	// exists at exactly this ETag (strong comparison, byte for byte).
	IfMatch lease.Version
}

// Unconditional reports whether c sets no precondition.
func (c Condition) Unconditional() bool { return !c.IfNoneMatch && c.IfMatch == "" }

// Holds reports whether c admits a write over the object described by cur
// (nil when the object does not exist).
func (c Condition) Holds(cur *Info) bool {
	switch {
	case c.IfNoneMatch:
		return cur == nil
	case c.IfMatch != "":
		return cur != nil && cur.ETag == c.IfMatch
	}
	return true
}

// PutOptions tune one write.
type PutOptions struct {
	// Condition is checked at the commit, atomically with it.
	Condition Condition
	// BeforeCommit, when set, is called once the whole body has been
	// received and staged (a temporary file, buffered or uploaded parts),
	// immediately before the object becomes visible. An error aborts the
	// write, leaves the stored object as it was and is returned as is. A
	// non-zero deadline bounds the commit itself: a commit that cannot
	// finish by then is abandoned. The RedDB face decides its data fence
	// here, so that a body that took longer to arrive than the lease lasted
	// cannot land after the lease moved.
	BeforeCommit func(ctx context.Context) (deadline time.Time, err error)
}

// UnknownSize is the size of a body whose length is not known in advance.
const UnknownSize int64 = -1

// CheckDelete decides a delete's condition against the object described by
// cur (nil when absent): a delete cannot require absence (lease.ErrInvalid),
// and an If-Match that does not hold is a *lease.PreconditionError.
func CheckDelete(c Condition, cur *Info) error {
	if c.IfNoneMatch {
		return &lease.InvalidError{Field: "if-none-match", Reason: "a delete cannot require the object to be absent"}
	}
	if !c.Holds(cur) {
		return &lease.PreconditionError{}
	}
	return nil
}
