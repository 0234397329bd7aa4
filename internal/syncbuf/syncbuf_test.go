package syncbuf_test

import (
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/redlease/redlease/internal/syncbuf"
)

// Concurrent writers and readers: every write lands whole (run with -race).
func TestConcurrentWritesAndReads(t *testing.T) {
	t.Parallel()
	var b syncbuf.Buffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 100 {
				fmt.Fprintf(&b, "w%d;", i)
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if got, want := strings.Count(b.String(), ";"), 800; got != want {
		t.Errorf("%d writes landed, want %d", got, want)
	}
}

func ExampleBuffer() {
	var out syncbuf.Buffer
	cmd := exec.Command("echo", "listening")
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(out.String())
	// Output: listening
}
