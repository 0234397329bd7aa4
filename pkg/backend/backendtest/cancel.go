package backendtest

import (
	"context"
	"errors"
	"testing"

	"github.com/redlease/redlease/pkg/lease"
)

// testCancelledContext: every call made with a cancelled context answers
// ErrUnavailable (the caller gave up; retrying later is the right reaction)
// and leaves the store as it was.
func testCancelledContext(t *testing.T, s lease.ListingStore, _ Options) {
	const held, absent = "cancel/held", "cancel/absent"
	first := Record(held, "a", 1)
	v := mustCreate(t, s, first)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := []struct {
		name string
		call func() error
	}{
		{"Load", func() error { _, err := s.Load(ctx, held); return err }},
		{"Create", func() error { _, err := s.Create(ctx, Record(absent, "b", 1)); return err }},
		{"Replace", func() error { _, err := s.Replace(ctx, Record(held, "b", 2), v); return err }},
		{"List", func() error { _, err := s.List(ctx, "", 10); return err }},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, lease.ErrUnavailable) {
			t.Errorf("%s with a cancelled context: got %v, want ErrUnavailable", c.name, err)
		}
	}
	if got := mustLoad(t, s, held); got.Record != first || got.Version != v {
		t.Errorf("after a cancelled Replace the store holds %+v, want %+v at %q", got, first, v)
	}
	if _, err := s.Load(context.Background(), absent); !errors.Is(err, lease.ErrNotFound) {
		t.Errorf("after a cancelled Create, Load = %v, want ErrNotFound", err)
	}
}
