package lease_test

import (
	"context"
	"testing"
	"time"

	"github.com/redlease/redlease/pkg/lease"
)

// TestUnknownMembersKeepTheirCanonicalPlace: members redlease does not know
// survive a decode and encode, each in its alphabetical place among the
// others, values compacted, names re-escaped as RedDB escapes.
func TestUnknownMembersKeepTheirCanonicalPlace(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{
			"first, middle and last",
			`{"zz":[1, 2.50, "x"],"term":3,"holder_id":"h","generation":4,"expires_at_ms":20,"database_key":"k","acquired_at_ms":10,"aa":null,"note" : { "b" : true , "a" : 1e3 }}`,
			`{"aa":null,"acquired_at_ms":10,"database_key":"k","expires_at_ms":20,"generation":4,"holder_id":"h","note":{"b":true,"a":1e3},"term":3,"zz":[1,2.50,"x"]}`,
		},
		{
			"between redlease's own members",
			`{"acquired_at_ms":10,"database_key":"k","expires_at_ms":20,"generation":4,"holder_id":"","principal":"p","released_at_ms":15,"released_holder_id":"h","releaser":"ops","term":1,"ttl_ms":10,"written_at_ms":12,"x":{}}`,
			`{"acquired_at_ms":10,"database_key":"k","expires_at_ms":20,"generation":4,"holder_id":"","principal":"p","released_at_ms":15,"released_holder_id":"h","releaser":"ops","term":1,"ttl_ms":10,"written_at_ms":12,"x":{}}`,
		},
		{
			"escaped name, byte order",
			`{"acquired_at_ms":10,"database_key":"k","expires_at_ms":20,"generation":4,"holder_id":"h","term":1,"\u00e9t\u00e9":"x","Z":1,"a\n":2}`,
			`{"Z":1,"a\n":2,"acquired_at_ms":10,"database_key":"k","expires_at_ms":20,"generation":4,"holder_id":"h","term":1,"été":"x"}`,
		},
		{
			"term absent, written as 1",
			`{"acquired_at_ms":10,"database_key":"k","expires_at_ms":20,"generation":4,"holder_id":"h","u":1}`,
			`{"acquired_at_ms":10,"database_key":"k","expires_at_ms":20,"generation":4,"holder_id":"h","term":1,"u":1}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec, err := lease.DecodeRecord([]byte(tc.in))
			if err != nil {
				t.Fatalf("DecodeRecord: %v", err)
			}
			if got := string(lease.EncodeRecord(rec)); got != tc.want {
				t.Fatalf("re-encoded:\n got %s\nwant %s", got, tc.want)
			}
			again, err := lease.DecodeRecord([]byte(tc.want))
			if err != nil || again != rec {
				t.Fatalf("canonical bytes decode to %+v, %v; want %+v", again, err, rec)
			}
		})
	}
}

// TestServiceRewritesKeepUnknownMembers: every write the service makes
// over a record with members it does not know keeps them: refresh,
// release, an acquire by someone else, the sweep's mark.
func TestServiceRewritesKeepUnknownMembers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := f.clock.Ms()
	stored := lease.EncodeLease(lease.Lease{DatabaseKey: "db", HolderID: "h", Term: 1, Generation: 2,
		AcquiredAtMs: now, ExpiresAtMs: now + 10_000})
	stored = append(stored[:len(stored)-1], `,"zz_future":{"k":[1,2]}}`...)
	stored = append([]byte(`{"a_future":"x",`), stored[1:]...)
	f.store.PutRaw("db", stored)
	keeps := func(step string) {
		t.Helper()
		raw, _ := f.store.Raw("db")
		rec, err := lease.DecodeRecord(raw)
		if err != nil {
			t.Fatalf("after %s: %v", step, err)
		}
		if rec.Unknown != `{"a_future":"x","zz_future":{"k":[1,2]}}` {
			t.Fatalf("after %s the stored object is %s: unknown members lost", step, raw)
		}
		if string(raw[:16]) != `{"a_future":"x",` || string(raw[len(raw)-25:]) != `,"zz_future":{"k":[1,2]}}` {
			t.Fatalf("after %s the stored object is %s: not in canonical order", step, raw)
		}
	}
	l := lease.Lease{DatabaseKey: "db", HolderID: "h", Term: 1, Generation: 2}
	f.clock.Advance(time.Second)
	if _, err := f.refresh(l, 10*time.Second, 0); err != nil {
		t.Fatal(err)
	}
	keeps("refresh")
	if _, err := f.release(l); err != nil {
		t.Fatal(err)
	}
	keeps("release")
	next := f.acquire(t, "db", "other", time.Second, 1)
	keeps("acquire by another holder")
	f.clock.Advance(time.Minute)
	listed, err := f.store.Load(context.Background(), "db")
	if err != nil || listed.Record.Generation != next.Generation {
		t.Fatalf("Load: %+v, %v", listed, err)
	}
	if _, err := f.svc.MarkExpiryReported(context.Background(), listed); err != nil {
		t.Fatal(err)
	}
	keeps("the sweep's mark")
}
