package lease

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
)

// member is one top-level member of a stored object: its name, unescaped,
// and its value as stored.
type member struct {
	name  string
	value json.RawMessage
}

// objectMembers splits a JSON object into its top-level members, in the
// order they are stored. It refuses anything but exactly one object, and an
// object that names a member twice: RedDB reads records with its own JSON
// module, and whether that keeps the first value, the last or refuses is not
// something a lease should depend on, so a duplicate is corrupt. Names are
// compared unescaped ("gener\u0061tion" is "generation").
func objectMembers(data []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, formatError("lease json parse: %v", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, formatError("lease json is not an object")
	}
	var (
		members []member
		seen    = make(map[string]struct{}, 8)
	)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, formatError("lease json parse: %v", err)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, formatError("lease json parse: member name is not a string")
		}
		if _, dup := seen[name]; dup {
			return nil, formatError("member %q appears more than once", name)
		}
		seen[name] = struct{}{}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, formatError("lease json parse: %v", err)
		}
		members = append(members, member{name: name, value: value})
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, formatError("lease json parse: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, formatError("lease json parse: data after the object")
	}
	return members, nil
}

// knownMembers are the names EncodeRecord writes itself; any other member
// of a stored object is kept in Record.Unknown.
var knownMembers = map[string]bool{
	fieldAcquiredAt: true, fieldDatabaseKey: true, fieldExpiresAt: true,
	fieldExpiryReported: true, fieldGeneration: true, fieldHolderID: true,
	fieldPrincipal: true, fieldReleasedAt: true, fieldReleasedHolderID: true,
	fieldTerm: true, fieldTTL: true, fieldWrittenAt: true,
}

// encodeUnknown renders the unknown members as Record.Unknown keeps them:
// one compact object, sorted by name.
func encodeUnknown(members []member) (string, error) {
	if len(members) == 0 {
		return "", nil
	}
	slices.SortFunc(members, func(a, b member) int { return strings.Compare(a.name, b.name) })
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(&b, m.name)
		b.WriteByte(':')
		if err := json.Compact(&b, m.value); err != nil {
			return "", formatError("member %q: %v", m.name, err)
		}
	}
	b.WriteByte('}')
	return b.String(), nil
}

// objectWriter writes a record's members in canonical order: it is handed
// the known members in alphabetical order and slips each unknown member in
// before the first known one whose name sorts after it.
type objectWriter struct {
	b       *bytes.Buffer
	unknown []member
	started bool
}

func newObjectWriter(b *bytes.Buffer, unknown string) *objectWriter {
	w := &objectWriter{b: b}
	if unknown != "" {
		members, err := objectMembers([]byte(unknown))
		if err == nil { // not as DecodeRecord made it: nothing to keep
			for _, m := range members {
				if !knownMembers[m.name] {
					w.unknown = append(w.unknown, m)
				}
			}
			slices.SortFunc(w.unknown, func(a, b member) int { return strings.Compare(a.name, b.name) })
		}
	}
	b.WriteByte('{')
	return w
}

// key starts the known member name; its value follows.
func (w *objectWriter) key(name string) {
	w.flush(name)
	w.sep()
	w.b.WriteByte('"')
	w.b.WriteString(name)
	w.b.WriteString(`":`)
}

// flush writes the unknown members that sort before name ("" for all).
func (w *objectWriter) flush(name string) {
	for len(w.unknown) > 0 && (name == "" || w.unknown[0].name < name) {
		m := w.unknown[0]
		w.unknown = w.unknown[1:]
		w.sep()
		writeJSONString(w.b, m.name)
		w.b.WriteByte(':')
		w.b.Write(m.value) // compact already: Record.Unknown is
	}
}

func (w *objectWriter) sep() {
	if w.started {
		w.b.WriteByte(',')
	}
	w.started = true
}

func (w *objectWriter) close() {
	w.flush("")
	w.b.WriteByte('}')
}

// UnknownMembers renders members that a backend without JSON objects
// stored apart (DynamoDB attributes) as Record.Unknown: canonical order,
// compact values. A name EncodeRecord writes itself is refused as corrupt,
// as is a value that is not JSON.
func UnknownMembers(members map[string]json.RawMessage) (string, error) {
	list := make([]member, 0, len(members))
	for name, value := range members {
		if knownMembers[name] {
			return "", formatError("member %q is not an unknown member", name)
		}
		list = append(list, member{name: name, value: value})
	}
	return encodeUnknown(list)
}

// CheckStoredToken refuses, as corrupt, a stored term or generation that
// no acquire hands out (0, or above MaxSafeInteger); DecodeRecord applies
// it, and so must a backend that decodes records itself.
func CheckStoredToken(term, generation uint64) error {
	if err := fencingBounds("term", term); err != nil {
		return err
	}
	return fencingBounds("generation", generation)
}

// mergeUnknown is the unknown members of a stored record (stored) with
// those of a record RedDB sent through its face (sent) added: RedDB drops
// members it does not know when it rewrites its object, so the stored
// ones would otherwise be lost, and a later RedDB may send members of its
// own. A name in both takes the sent value.
func mergeUnknown(stored, sent string) string {
	if sent == "" || stored == "" {
		return stored + sent
	}
	a, errA := objectMembers([]byte(stored))
	b, errB := objectMembers([]byte(sent))
	if errA != nil || errB != nil { // not as DecodeRecord made them
		return stored
	}
	byName := make(map[string]json.RawMessage, len(a)+len(b))
	for _, m := range append(a, b...) {
		byName[m.name] = m.value
	}
	merged, err := UnknownMembers(byName)
	if err != nil {
		return stored
	}
	return merged
}
