package sweep

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/redlease/redlease/pkg/lease"
)

// The state's stored form: a 5-byte header (stateMagic, then the format
// version), then a gzip stream of
//
//	uvarint cycle, uvarint cycleStartedMs, string cursor, uvarint count,
//	count entries in key order, each:
//	  uvarint shared, string suffix   the key, front-coded on the previous one
//	  string tag, string version      version "" when it is the tag
//	  byte kind, uvarint cycle-seen
//	  kindOpen:     string record   its stored bytes (lease.EncodeRecord)
//	  kindReported: uvarint expires
//
// where a string is its uvarint length and its bytes. An open lease keeps
// its whole record, every member ("principal" and any a later record
// gains), because the store's content hash of those bytes is what proves
// an expiry without a read: a state that dropped a member would never
// match a record that has it. Front coding and
// gzip (its fastest level: the state is rewritten every run) keep 100,000
// keys to about 2.4 MB, which a versioned bucket also keeps as noncurrent
// versions for a while.
const (
	stateMagic   = "RLSW"
	stateFormat  = 2 // 2: an open lease keeps its record's bytes
	maxStateKeys = 50_000_000
	maxStateStr  = 1 << 20
	// maxStateInflated bounds the decompressed stream (a hostile or broken
	// object must not exhaust the function's memory).
	maxStateInflated = 2 << 30
)

var errBadState = errors.New("sweep state does not decode")

// encodeState renders s in its stored form.
func encodeState(s *state) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	var raw bytes.Buffer
	w := stateWriter{b: &raw}
	w.uvarint(s.cycle)
	w.uvarint(s.cycleStartedMs)
	w.str(s.cursor)
	keys := make([]string, 0, len(s.known))
	for k := range s.known {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	w.uvarint(uint64(len(keys)))
	prev := ""
	for _, key := range keys {
		k := s.known[key]
		shared := commonPrefix(prev, key)
		w.uvarint(uint64(shared)) //nolint:gosec // a length, never negative
		w.str(key[shared:])
		w.str(k.tag)
		w.str(string(k.version))
		raw.WriteByte(byte(k.kind))
		w.uvarint(s.cycle - min(k.seen, s.cycle))
		switch k.kind {
		case kindOpen:
			w.str(string(lease.EncodeRecord(k.rec)))
		case kindReported:
			w.uvarint(k.rec.ExpiresAtMs)
		}
		prev = key
	}
	var out bytes.Buffer
	out.WriteString(stateMagic)
	out.WriteByte(stateFormat)
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestSpeed) // the level is valid
	_, _ = zw.Write(raw.Bytes())                       // writes to a bytes.Buffer do not fail
	_ = zw.Close()
	return out.Bytes()
}

// decodeState reads what encodeState wrote; anything else is errBadState.
func decodeState(data []byte) (*state, error) {
	if len(data) < len(stateMagic)+1 || string(data[:len(stateMagic)]) != stateMagic {
		return nil, fmt.Errorf("%w: no %q header", errBadState, stateMagic)
	}
	if v := data[len(stateMagic)]; v != stateFormat {
		return nil, fmt.Errorf("%w: format %d, this sweep reads %d", errBadState, v, stateFormat)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data[len(stateMagic)+1:]))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBadState, err)
	}
	r := stateReader{r: bufio.NewReader(io.LimitReader(zr, maxStateInflated))}
	s := &state{known: map[string]*known{}}
	s.cycle = r.uvarint()
	s.cycleStartedMs = r.uvarint()
	s.cursor = r.str()
	n := r.uvarint()
	if r.err == nil && (n > maxStateKeys || s.cycle == 0) {
		r.fail("%d keys in cycle %d", n, s.cycle)
	}
	prev := ""
	for i := uint64(0); i < n && r.err == nil; i++ {
		shared := r.uvarint()
		if shared > uint64(len(prev)) {
			r.fail("key %d shares %d bytes of a %d-byte key", i, shared, len(prev))
			break
		}
		key := prev[:shared] + r.str()
		k := &known{tag: r.str(), version: lease.Version(r.str()), kind: kind(r.byte())}
		age := r.uvarint()
		switch k.kind {
		case kindOpen:
			k.rec = r.record(key)
		case kindReported:
			k.rec.ExpiresAtMs = r.uvarint()
		case kindReleased, kindCorrupt:
		default:
			r.fail("key %q has kind %d", key, k.kind)
		}
		switch {
		case r.err != nil:
		case key <= prev && i > 0, key == "", k.tag == "":
			r.fail("key %d (%q after %q) is out of order or empty", i, key, prev)
		case age > s.cycle:
			r.fail("key %q was seen %d cycles before cycle %d", key, age, s.cycle)
		}
		k.seen = s.cycle - age
		s.known[key] = k
		prev = key
	}
	if r.err == nil {
		if _, err := r.r.ReadByte(); err != io.EOF {
			r.fail("trailing bytes after %d keys", n)
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	return s, nil
}

func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

type stateWriter struct{ b *bytes.Buffer }

func (w stateWriter) uvarint(v uint64) {
	var buf [binary.MaxVarintLen64]byte
	w.b.Write(buf[:binary.PutUvarint(buf[:], v)])
}

func (w stateWriter) str(s string) {
	w.uvarint(uint64(len(s)))
	w.b.WriteString(s)
}

// stateReader reads the stream and keeps the first error, so the decoder
// reads straight through and checks once.
type stateReader struct {
	r   *bufio.Reader
	err error
}

func (r *stateReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format, append([]any{errBadState}, args...)...)
	}
}

func (r *stateReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, err := binary.ReadUvarint(r.r)
	if err != nil {
		r.fail("%v", err)
	}
	return v
}

func (r *stateReader) byte() byte {
	if r.err != nil {
		return 0
	}
	b, err := r.r.ReadByte()
	if err != nil {
		r.fail("%v", err)
	}
	return b
}

// record decodes an open lease's stored bytes, which must be key's record.
func (r *stateReader) record(key string) lease.Record {
	b := r.str()
	if r.err != nil {
		return lease.Record{}
	}
	rec, err := lease.DecodeRecord([]byte(b))
	switch {
	case err != nil:
		r.fail("key %q: %v", key, err)
	case rec.DatabaseKey != key:
		r.fail("key %q holds the record of %q", key, rec.DatabaseKey)
	}
	return rec
}

func (r *stateReader) str() string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if n > maxStateStr {
		r.fail("a %d-byte string", n)
		return ""
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r.r, buf); err != nil {
		r.fail("%v", err)
		return ""
	}
	return string(buf)
}
