package lease_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redlease/redlease/pkg/lease"
)

// The RedDB face's PUT and DELETE of the lease object are held to the
// clock check like Refresh and Release: an instance 8 s behind refuses
// RedDB's refresh and release of a lease acquired through a correct one,
// writes nothing, and the correct instance still serves them.
func TestLeaseObjectWritesRefuseABehindClock(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	acquired, err := f.create(redA, f.redRecord("red-a", 1, 0, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	behind, err := lease.New(lease.Config{Store: f.store, Now: func() time.Time { return f.clock.Now().Add(-8 * time.Second) }})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Second)
	f.store.reset()
	ctx := context.Background()
	_, err = behind.PutLeaseObject(ctx, lease.LeaseObjectPut{Principal: redA, DatabaseKey: redKey,
		Body: f.redRecord("red-a", 1, 0, 10*time.Second), IfMatch: acquired.Version})
	if !errors.Is(err, lease.ErrClockSkew) {
		t.Fatalf("refresh through an instance 8 s behind: %v, want ErrClockSkew", err)
	}
	_, err = behind.DeleteLeaseObject(ctx, lease.LeaseObjectDelete{Principal: redA, DatabaseKey: redKey, IfMatch: acquired.Version})
	if !errors.Is(err, lease.ErrClockSkew) {
		t.Fatalf("release through an instance 8 s behind: %v, want ErrClockSkew", err)
	}
	if w := f.store.writes.Load(); w != 0 {
		t.Fatalf("refused lease object writes made %d writes", w)
	}
	refreshed, err := f.replace(redA, f.redRecord("red-a", 1, 0, 10*time.Second), acquired.Version)
	if err != nil {
		t.Fatalf("refresh through the correct instance: %v", err)
	}
	if now := f.clock.Ms(); refreshed.Record.WrittenAtMs != now || refreshed.Record.ExpiresAtMs != now+10_000 {
		t.Fatalf("refresh through the face stored %+v, want written_at_ms %d", refreshed.Record, now)
	}
}

// A record's unknown members survive RedDB's rewrites through the face
// (RedDB itself drops them), and members RedDB sends of its own are added.
func TestLeaseObjectWritesKeepUnknownMembers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if _, err := f.create(redA, f.redRecord("red-a", 1, 0, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	raw, _ := f.store.Raw(redKey)
	version := f.store.PutRaw(redKey, append([]byte(`{"a_later":1,`), raw[1:]...))
	f.clock.Advance(time.Second)
	body := f.redRecord("red-a", 1, 0, 10*time.Second)
	body = append(body[:len(body)-1], `,"zz_reddb":"new"}`...)
	v, err := f.replace(redA, body, version)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"a_later":1,"zz_reddb":"new"}`; v.Record.Unknown != want {
		t.Fatalf("refresh through the face kept %q, want %q", v.Record.Unknown, want)
	}
	if _, err := f.svc.DeleteLeaseObject(context.Background(), lease.LeaseObjectDelete{Principal: redA, DatabaseKey: redKey, IfMatch: v.Version}); err != nil {
		t.Fatal(err)
	}
	if got := f.stored(t).Record.Unknown; got != `{"a_later":1,"zz_reddb":"new"}` {
		t.Fatalf("release through the face kept %q", got)
	}
}
