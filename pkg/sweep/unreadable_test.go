package sweep_test

import (
	"testing"

	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/sweep"
)

// One object that is not a lease record must not stop the sweep from
// reporting the expiries listed after it, run after run.
func TestUnreadableRecordDoesNotStallTheSweep(t *testing.T) {
	t.Parallel()
	now := t0 + 3_600_000
	store := memory.New(memory.Options{})
	store.PutRaw("a/garbage", []byte(`{"generation":1.5}`))
	seed(t, store, rec("b/expired", "h", 1, 1, now-60_000))
	pub := &fakePublisher{}
	s := newSweeper(t, sweep.Config{Store: store, Publisher: pub, Now: newClock(now).Now, PageSize: 1})
	res := run(t, s)
	if res.Unreadable != 1 || res.Reported != 1 {
		t.Fatalf("result %+v, want 1 unreadable and 1 reported", res)
	}
	if got := keysOf(pub.take()); got["b/expired"] != 1 || len(got) != 1 {
		t.Fatalf("published %v, want only b/expired", got)
	}
	garbage, _ := store.Raw("a/garbage")
	if string(garbage) != `{"generation":1.5}` {
		t.Fatalf("the sweep changed an unreadable object to %s", garbage)
	}
}
