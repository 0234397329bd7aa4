package backendtest

import (
	"errors"
	"testing"

	"github.com/redlease/redlease/pkg/lease"
)

// Want names the lease error a store call must end in, for the tests of a
// backend's error mapping.
type Want int

// The outcomes a store call can have for the Service.
const (
	WantOK           Want = iota // no error
	WantPrecondition             // a *lease.PreconditionError
	WantUnavailable              // lease.ErrUnavailable
	WantNotFound                 // lease.ErrNotFound
	WantCorrupt                  // lease.ErrCorrupt
	WantOther                    // none of the lease errors: the Service reports an internal error
)

func (w Want) String() string {
	return [...]string{"ok", "precondition", "unavailable", "not found", "corrupt", "other"}[w]
}

// Check fails tb unless err is exactly the outcome w: it matches w's
// lease error and none of the others.
func (w Want) Check(tb testing.TB, err error) {
	tb.Helper()
	is := map[Want]bool{
		WantPrecondition: errors.Is(err, lease.ErrPrecondition),
		WantUnavailable:  errors.Is(err, lease.ErrUnavailable),
		WantNotFound:     errors.Is(err, lease.ErrNotFound),
		WantCorrupt:      errors.Is(err, lease.ErrCorrupt),
	}
	switch w {
	case WantOK:
		if err != nil {
			tb.Fatalf("got %v, want success", err)
		}
	case WantOther:
		for k, v := range is {
			if v || err == nil {
				tb.Fatalf("got %v (matches %v: %v), want a plain error matching no lease sentinel", err, k, v)
			}
		}
	default:
		for k, v := range is {
			if v != (k == w) {
				tb.Fatalf("got %v; matches %v: %v, want only %v", err, k, v, w)
			}
		}
	}
	var pre *lease.PreconditionError
	if w == WantPrecondition && !errors.As(err, &pre) {
		tb.Fatalf("got %v, want a *lease.PreconditionError", err)
	}
}

func isNotFound(err error) bool { return errors.Is(err, lease.ErrNotFound) }

func isPrecondition(err error) bool {
	var pre *lease.PreconditionError
	return errors.As(err, &pre) && errors.Is(err, lease.ErrPrecondition)
}
