package reddbtest

import (
	"strings"
	"sync"
)

// maxOutput bounds what is kept of one stream; RedDB logs every request at
// info level, and a long test must not grow without bound.
const maxOutput = 4 << 20

// output collects a child's stream. It keeps the first half of the bound
// and the latest half, so both the start-up and the final lines survive.
type output struct {
	mu      sync.Mutex
	head    []byte
	tail    []byte
	dropped int
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := len(p)
	if room := maxOutput/2 - len(o.head); room > 0 {
		k := min(room, len(p))
		o.head = append(o.head, p[:k]...)
		p = p[k:]
	}
	o.tail = append(o.tail, p...)
	if over := len(o.tail) - maxOutput/2; over > 0 {
		o.dropped += over
		o.tail = append(o.tail[:0], o.tail[over:]...)
	}
	return n, nil
}

// String is what was kept, with a marker where bytes were dropped.
func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var b strings.Builder
	b.Write(o.head)
	if o.dropped > 0 {
		b.WriteString("\n[... output dropped ...]\n")
	}
	b.Write(o.tail)
	return b.String()
}

// lastLines returns up to n final lines, for failure messages.
func lastLines(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
