package objects

import (
	"errors"
	"fmt"
	"io"

	"github.com/redlease/redlease/pkg/lease"
)

// BodyError is a request body that did not arrive as declared: shorter or
// longer than its size, or broken off. It matches lease.ErrInvalid; nothing
// was stored.
type BodyError struct {
	Reason string
	Err    error // the read error, when there was one
}

func (e *BodyError) Error() string {
	if e.Err != nil {
		return "body " + e.Reason + ": " + e.Err.Error()
	}
	return "body " + e.Reason
}

// Is makes errors.Is(err, lease.ErrInvalid) true.
func (e *BodyError) Is(target error) bool { return target == lease.ErrInvalid }

// Unwrap exposes the read error.
func (e *BodyError) Unwrap() error { return e.Err }

// Body is a request body checked against its declared size as it is read:
// it yields exactly size bytes and then io.EOF, or a *BodyError when the
// source ends early, has more, or fails. A size of UnknownSize accepts
// whatever arrives. Stores read every body through one, so a truncated
// upload can never replace an object.
type Body struct {
	r    io.Reader
	size int64
	n    int64
	err  error
}

// NewBody wraps r, which should hold size bytes (or UnknownSize).
func NewBody(r io.Reader, size int64) *Body {
	if r == nil {
		r = eof{}
	}
	return &Body{r: r, size: size}
}

type eof struct{}

func (eof) Read([]byte) (int, error) { return 0, io.EOF }

// Read implements io.Reader.
func (b *Body) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.size >= 0 && b.n == b.size {
		// Everything declared has arrived; one more byte means the body
		// is longer than it said.
		var probe [1]byte
		n, err := io.ReadFull(b.r, probe[:])
		switch {
		case n > 0:
			b.err = &BodyError{Reason: fmt.Sprintf("is longer than its declared %d bytes", b.size)}
		case errors.Is(err, io.EOF):
			b.err = io.EOF
		default:
			b.err = &BodyError{Reason: "could not be read completely", Err: err}
		}
		return 0, b.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if b.size >= 0 && int64(len(p)) > b.size-b.n {
		p = p[:b.size-b.n]
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	switch {
	case err == nil:
	case errors.Is(err, io.EOF):
		if b.size >= 0 && b.n < b.size {
			b.err = &BodyError{Reason: fmt.Sprintf("ended after %d of its declared %d bytes", b.n, b.size)}
			return n, b.err
		}
		b.err = io.EOF
	default:
		b.err = &BodyError{Reason: "could not be read completely", Err: err}
		return n, b.err
	}
	if n == 0 && b.err == nil {
		return 0, nil
	}
	return n, b.err
}

// Count is the number of bytes read so far.
func (b *Body) Count() int64 { return b.n }

// Complete reports whether every declared byte has been read (never for a
// body of unknown size, whose end only a read can tell).
func (b *Body) Complete() bool { return b.size >= 0 && b.n == b.size }
