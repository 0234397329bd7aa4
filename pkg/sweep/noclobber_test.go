package sweep_test

import (
	"fmt"
	"testing"

	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/sweep"
)

// The sweep never clobbers: it writes nothing but its mark, and only over
// the exact version it listed.

func TestRecordChangedUnderTheSweepIsSkipped(t *testing.T) {
	t.Parallel()
	const key = "clusters/dev/data.rdb"
	now := t0 + 100
	changes := map[string]func(cur lease.Versioned) lease.Record{
		"refreshed": func(cur lease.Versioned) lease.Record {
			next := lease.Record{Lease: cur.Record.Lease}
			next.ExpiresAtMs = now + 60_000
			return next
		},
		"released": func(cur lease.Versioned) lease.Record {
			return released(lease.Record{Lease: cur.Record.Lease}, now)
		},
		"re-acquired": func(cur lease.Versioned) lease.Record {
			return rec(key, "other", cur.Record.Term+1, cur.Record.Generation+1, now+60_000)
		},
		"re-acquired and already expired": func(cur lease.Versioned) lease.Record {
			return rec(key, "other", cur.Record.Term, cur.Record.Generation+1, now-1)
		},
	}
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			store := &changingStore{Store: memory.New(memory.Options{}), key: key, change: change}
			seed(t, store, rec(key, "h", 4, 9, t0), rec("other/expired", "x", 1, 1, t0-5))
			pub := &fakePublisher{}
			res := run(t, newSweeper(t, sweep.Config{Store: store, Publisher: pub, Now: newClock(now).Now}))

			if res.Skipped != 1 || res.Reported != 1 || res.Failed != 0 {
				t.Errorf("Skipped %d Reported %d Failed %d, want 1 1 0", res.Skipped, res.Reported, res.Failed)
			}
			raw, _ := store.Raw(key)
			if want := lease.EncodeRecord(store.wrote); string(raw) != string(want) {
				t.Errorf("the other writer's record was touched:\n got %s\nwant %s", raw, want)
			}
			// Publish-then-mark: the listed generation's expiry was
			// published before the mark lost; it did expire.
			for _, e := range pub.take() {
				if e.DatabaseKey == key && (e.Generation != 9 || e.ExpiresAtMs != t0) {
					t.Errorf("event for the changed key describes %+v, want the listed generation 9", e)
				}
			}
		})
	}
}

func TestSweepChangesNothingButTheMark(t *testing.T) {
	t.Parallel()
	now := t0 + 500_000
	store := memory.New(memory.Options{})
	var recs []lease.Record
	for i := range 60 {
		key := fmt.Sprintf("db/%02d.rdb", i)
		r := rec(key, fmt.Sprintf("holder-%d", i), uint64(1+i%4), uint64(1+i), now-uint64(i*10_000)+200_000)
		r.AcquiredAtMs = now - 900_000 + uint64(i)
		switch i % 5 {
		case 0:
			r = released(r, now-1)
		case 1:
			r = reported(r, now-2)
		}
		recs = append(recs, r)
	}
	seed(t, store, recs...)
	store.PutRaw("reddb/written.rdb", []byte(`{"acquired_at_ms":1767225600000,"database_key":"reddb/written.rdb","expires_at_ms":1767225660000,"generation":1,"holder_id":"reddb-0-1","term":1}`))
	before := snapshot(t, store)

	res := run(t, newSweeper(t, sweep.Config{Store: store, Publisher: &fakePublisher{}, Now: newClock(now).Now, PageSize: 7, Workers: 3}))
	if res.Reported == 0 {
		t.Fatal("nothing reported; the test would prove nothing")
	}
	after := snapshot(t, store)
	if len(after) != len(before) {
		t.Fatalf("sweep changed the number of records from %d to %d", len(before), len(after))
	}
	marked := 0
	for key, old := range before {
		oldRec, err := lease.DecodeRecord([]byte(old))
		if err != nil {
			t.Fatal(err)
		}
		newRec, err := lease.DecodeRecord([]byte(after[key]))
		if err != nil {
			t.Fatalf("%s after the sweep: %v", key, err)
		}
		if newRec.Lease != oldRec.Lease {
			t.Errorf("%s lease changed:\n got %+v\nwant %+v", key, newRec.Lease, oldRec.Lease)
		}
		if newRec.ExpiryReportedMs == oldRec.ExpiryReportedMs {
			if after[key] != old {
				t.Errorf("%s bytes changed without a new mark:\n got %s\nwant %s", key, after[key], old)
			}
			continue
		}
		marked++
		if oldRec.ExpiryReportedMs != 0 || newRec.ExpiryReportedMs != now {
			t.Errorf("%s mark went from %d to %d, want 0 to %d", key, oldRec.ExpiryReportedMs, newRec.ExpiryReportedMs, now)
		}
		if want := lease.EncodeRecord(lease.Record{Lease: oldRec.Lease, ExpiryReportedMs: now}); after[key] != string(want) {
			t.Errorf("%s stored bytes\n got %s\nwant %s", key, after[key], want)
		}
	}
	if marked != res.Reported {
		t.Errorf("%d records carry a new mark, result says %d reported", marked, res.Reported)
	}
}
