// Package syncbuf is a bytes.Buffer that a running process's output (or
// any writer on another goroutine) may write while a test or benchmark
// reads what has arrived so far.
package syncbuf

import (
	"bytes"
	"sync"
)

// Buffer is safe for one writer and any number of readers at once; the
// zero Buffer is empty and ready.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
