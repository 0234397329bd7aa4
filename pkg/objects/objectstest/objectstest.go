// Package objectstest is the conformance suite every object store behind
// the RedDB face runs (memory, file, and S3 against LocalStack): the same
// assertions whatever the backend, so that the face can rely on one
// contract. Only tests import it.
package objectstest

import (
	"context"
	"io"
	"testing"

	"github.com/redlease/redlease/pkg/objects"
)

// Store is the method set under test. It is the RedDB face's Objects
// interface (pkg/api/reddb), which its tests hold equal to this one.
type Store interface {
	Head(ctx context.Context, key string) (objects.Info, error)
	Get(ctx context.Context, key string) (io.ReadCloser, objects.Info, error)
	Put(ctx context.Context, key string, body io.Reader, size int64, opts objects.PutOptions) (objects.Info, error)
	Delete(ctx context.Context, key string, cond objects.Condition) error
	List(ctx context.Context, prefix string, fn func(key string) error) error
}

// Factory returns an empty store for one subtest; stores from separate
// calls must not see each other's objects.
type Factory func(t *testing.T) Store

// Options tune the suite.
type Options struct {
	// Reserved is a key prefix the store must refuse (the lease prefix of a
	// store that shares storage with lease records); empty when none.
	Reserved string
	// LargeSize is the size of the object the streaming test writes and
	// reads back; it should span several of the store's parts or buffers.
	// Default 3 MiB.
	LargeSize int64
	// Racers is the number of concurrent creators of one key (default 8).
	Racers int
	// NoParallel runs the subtests one after another (slow emulators).
	NoParallel bool
	// NoConditionalDelete says the store cannot delete with If-Match (S3
	// can; LocalStack 4.14 answers 501 NotImplemented). The suite then only
	// checks that a conditional delete fails and changes nothing.
	NoConditionalDelete bool
}

func (o *Options) defaults() {
	if o.LargeSize <= 0 {
		o.LargeSize = 3 << 20
	}
	if o.Racers <= 0 {
		o.Racers = 8
	}
}

// Run runs the whole suite.
func Run(t *testing.T, newStore Factory, opts Options) {
	opts.defaults()
	tests := []struct {
		name string
		fn   func(*testing.T, Store, Options)
	}{
		{"MissingIsNotFound", testMissing},
		{"BinaryRoundTripsByteExact", testRoundTrip},
		{"ETagIsStableAndStrong", testETagStable},
		{"OverwriteChangesETag", testOverwrite},
		{"IfNoneMatch", testIfNoneMatch},
		{"IfMatch", testIfMatch},
		{"Delete", testDelete},
		{"ConditionalDelete", testConditionalDelete},
		{"EmptyObject", testEmptyObject},
		{"ShortBodyStoresNothing", testShortBody},
		{"LongBodyStoresNothing", testLongBody},
		{"UnknownSizeStreams", testUnknownSize},
		{"LargeObjectStreams", testLarge},
		{"BeforeCommitSeesTheWholeBody", testBeforeCommit},
		{"BeforeCommitRefusalStoresNothing", testBeforeCommitRefusal},
		{"ExpiredCommitDeadlineStoresNothing", testCommitDeadline},
		{"FailingBodyStoresNothing", testFailingBody},
		{"CancelledContextIsUnavailable", testCancelled},
		{"InvalidKeysAreRefused", testInvalidKeys},
		{"ReservedPrefixIsRefused", testReserved},
		{"ListInKeyOrder", testList},
		{"ListPartialSegment", testListPartial},
		{"ConcurrentCreateHasOneWinner", testConcurrentCreate},
		{"ReaderSeesOneVersion", testReaderSeesOneVersion},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !opts.NoParallel {
				t.Parallel()
			}
			tc.fn(t, newStore(t), opts)
		})
	}
}
