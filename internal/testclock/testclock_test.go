package testclock_test

import (
	"sync"
	"testing"
	"time"

	"github.com/redlease/redlease/internal/testclock"
)

func TestClockMovesOnlyWhenTold(t *testing.T) {
	t.Parallel()
	c := testclock.New(testclock.Epoch)
	if got := c.Now(); !got.Equal(testclock.Epoch) {
		t.Fatalf("Now = %v, want the start %v", got, testclock.Epoch)
	}
	if got := c.Ms(); got != 1767225600000 {
		t.Fatalf("Ms = %d, want 1767225600000", got)
	}
	c.Advance(1500 * time.Millisecond)
	if got := c.Ms(); got != 1767225601500 {
		t.Errorf("after Advance(1.5s) Ms = %d, want 1767225601500", got)
	}
	c.Advance(-time.Second)
	if got := c.Ms(); got != 1767225600500 {
		t.Errorf("after Advance(-1s) Ms = %d, want 1767225600500", got)
	}
	c.SetMs(42)
	if got := c.Now(); !got.Equal(time.UnixMilli(42)) {
		t.Errorf("after SetMs(42) Now = %v", got)
	}
	c.Set(time.UnixMilli(-5))
	if got := c.Ms(); got != 0 {
		t.Errorf("before 1970 Ms = %d, want 0", got)
	}
}

func TestClockIsSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	c := testclock.New(time.UnixMilli(0))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				c.Advance(time.Millisecond)
				_ = c.Now()
			}
		})
	}
	wg.Wait()
	if got := c.Ms(); got != 800 {
		t.Fatalf("Ms = %d after 800 advances of 1ms, want 800", got)
	}
}
