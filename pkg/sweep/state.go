package sweep

import (
	"sync"

	"github.com/redlease/redlease/pkg/lease"
)

// kind is what an earlier read of a record showed, as far as the sweep
// cares.
type kind uint8

const (
	// kindOpen: neither released nor reported; held until expires, then
	// an expiry to report. The whole record is kept (every member,
	// "principal" included), so that the store's content hash can prove
	// it unchanged and the report and the mark need no second read.
	kindOpen kind = iota + 1
	// kindReported: expired and marked; nothing to do until it changes.
	kindReported
	// kindReleased: released; nothing to do until it changes.
	kindReleased
	// kindCorrupt: the object is not a lease record; counted, not re-read.
	kindCorrupt
)

// known is what the sweep learnt of one key whose listing entry carries no
// record: valid only while the entry's tag is the one recorded.
type known struct {
	tag string
	// version is the record's version when it differs from tag (the file
	// backend, whose tags are not versions).
	version lease.Version
	kind    kind
	// seen is the cycle that last listed the key; keys no cycle listed are
	// dropped at its end.
	seen uint64
	// rec is the record as read: kindOpen keeps all of it, kindReported
	// only ExpiresAtMs (for OldestExpiredAgeMs).
	rec lease.Record
}

// versionOf is the record's version as known.
func (k *known) versionOf() lease.Version {
	if k.version != "" {
		return k.version
	}
	return lease.Version(k.tag)
}

// state is what one run hands to the next: where the cycle it was in
// stands, and what it learnt per key. It is a cache, never the truth: every
// decision it saves a read for is one the listing's tag proves still holds,
// and every write is still conditional on the version read. Losing it costs
// one run that reads every record, nothing else; the marks in the records
// are what keep an expiry from being reported twice.
type state struct {
	mu sync.Mutex
	// cycle counts the passes over the whole keyspace; a run continues
	// the cycle it finds unless that one is complete.
	cycle uint64
	// cursor is where the cycle continues; "" means it is complete and
	// the next run starts a new one.
	cursor string
	// cycleStartedMs is when the cycle in progress began.
	cycleStartedMs uint64
	known          map[string]*known
}

func newState() *state { return &state{cycle: 1, known: map[string]*known{}} }

// lookup returns what is known of key at tag, and marks it seen by the
// cycle; nil when nothing is, or the tag moved on.
func (s *state) lookup(key, tag string) *known {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.known[key]
	if k == nil || k.tag != tag {
		return nil
	}
	k.seen = s.cycle
	c := *k
	return &c
}

// learn records what a read of e's key returned.
func (s *state) learn(e lease.Entry, v lease.Versioned, nowMs uint64) {
	k := &known{tag: e.Tag, rec: v.Record}
	if lease.Version(e.Tag) != v.Version {
		k.version = v.Version
	}
	switch {
	case v.Record.Released():
		k.kind, k.rec = kindReleased, lease.Record{}
	case v.Record.ExpiryReportedMs != 0 && v.Record.StateAt(nowMs) == lease.StateExpired:
		k.kind, k.rec = kindReported, reportedAt(v.Record.ExpiresAtMs)
	default:
		k.kind = kindOpen
	}
	s.put(e.Key, k)
}

// learnCorrupt records that the object at e is not a lease record.
func (s *state) learnCorrupt(e lease.Entry) { s.put(e.Key, &known{tag: e.Tag, kind: kindCorrupt}) }

// learnReported records the mark this run wrote at version, when the
// listing's tags are versions (the next listing then shows exactly that
// tag); otherwise the key is forgotten and read again next time.
func (s *state) learnReported(e lease.Entry, l lease.Lease, version lease.Version) {
	if e.Version == "" {
		s.forget(e.Key)
		return
	}
	s.put(e.Key, &known{tag: string(version), kind: kindReported, rec: reportedAt(l.ExpiresAtMs)})
}

// reportedAt is what the state keeps of a reported record: when it expired.
func reportedAt(expiresAtMs uint64) lease.Record {
	return lease.Record{Lease: lease.Lease{ExpiresAtMs: expiresAtMs}}
}

func (s *state) put(key string, k *known) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k.seen = s.cycle
	s.known[key] = k
}

func (s *state) forget(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.known, key)
}

// advance records that the cycle has passed everything before cursor.
func (s *state) advance(cursor string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cursor = cursor
}

// beginCycle starts a cycle at the start of the listing.
func (s *state) beginCycle(nowMs uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cursor, s.cycleStartedMs = "", nowMs
}

// endCycle closes the cycle that just listed its last page: keys it did
// not list are gone from the store and are dropped.
func (s *state) endCycle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for key, k := range s.known {
		if k.seen < s.cycle {
			delete(s.known, key)
		}
	}
	s.cycle++
	s.cursor = ""
}
