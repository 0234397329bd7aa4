package clienttest

import (
	"slices"
	"testing"
	"time"
)

func fired(ch <-chan time.Time) (time.Time, bool) {
	select {
	case t := <-ch:
		return t, true
	default:
		return time.Time{}, false
	}
}

func TestClockFiresTimersAsTimePasses(t *testing.T) {
	t.Parallel()
	start := time.Unix(1000, 0)
	c := NewClock(start)
	a, b, stopped := c.NewTimer(2*time.Second), c.NewTimer(time.Second), c.NewTimer(time.Second)
	if !stopped.Stop() || stopped.Stop() {
		t.Error("Stop: want true once, then false")
	}
	if got, want := c.Pending(), []time.Duration{time.Second, 2 * time.Second}; !slices.Equal(got, want) {
		t.Errorf("Pending: got %v, want %v", got, want)
	}
	c.Advance(time.Second)
	if at, ok := fired(b.C()); !ok || !at.Equal(start.Add(time.Second)) {
		t.Errorf("1 s timer: fired %v at %v", ok, at)
	}
	if _, ok := fired(a.C()); ok {
		t.Error("2 s timer fired after 1 s")
	}
	if _, ok := fired(stopped.C()); ok {
		t.Error("a stopped timer fired")
	}
	c.AdvanceTo(start.Add(5 * time.Second))
	if _, ok := fired(a.C()); !ok {
		t.Error("2 s timer did not fire by 5 s")
	}
	if now := c.Now(); !now.Equal(start.Add(5 * time.Second)) {
		t.Errorf("Now: got %v", now)
	}
	if _, ok := fired(c.NewTimer(0).C()); !ok {
		t.Error("a zero timer must fire at once")
	}
}

func TestAutoAdvanceRecordsSleeps(t *testing.T) {
	t.Parallel()
	c := NewClock(time.Unix(0, 0))
	c.AutoAdvance(true)
	for _, d := range []time.Duration{time.Second, 3 * time.Millisecond} {
		if _, ok := fired(c.NewTimer(d).C()); !ok {
			t.Errorf("%v timer did not fire at once", d)
		}
	}
	if got := c.Slept(); !slices.Equal(got, []time.Duration{time.Second, 3 * time.Millisecond}) {
		t.Errorf("Slept: got %v", got)
	}
	if got := c.Now(); !got.Equal(time.Unix(1, 3e6)) {
		t.Errorf("Now: got %v", got)
	}
}

func TestWaitForSeesATimerSetLater(t *testing.T) {
	t.Parallel()
	c := NewClock(time.Unix(0, 0))
	go func() {
		time.Sleep(10 * time.Millisecond)
		c.NewTimer(7 * time.Second)
	}()
	if !c.WaitForTimer(5*time.Second, 7*time.Second) {
		t.Fatal("did not see the timer")
	}
	if c.WaitForTimer(20*time.Millisecond, time.Second) {
		t.Error("saw a timer that does not exist")
	}
	if !c.AdvanceToNext(time.Second) || !c.Now().Equal(time.Unix(7, 0)) {
		t.Errorf("AdvanceToNext: now %v", c.Now())
	}
}
