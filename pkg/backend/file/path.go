package file

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/redlease/redlease/pkg/lease"
)

const (
	// DefaultPrefix is where records live under DIR, as in the bucket.
	DefaultPrefix = lease.DefaultPrefix
	// lockDirName holds the per-key lock files. A prefix may not start with
	// it, so the lock files never appear in the record tree.
	lockDirName = ".redlease-locks"
	// maxNameBytes is NAME_MAX of the common file systems.
	maxNameBytes = 255
)

// objectPath locates one record.
type objectPath struct {
	object string   // prefix + key + ".lease.json": the S3 object key
	dirs   []string // directory names from DIR down to the record's directory
	base   string   // the record's file name
	lock   string   // the lock file's name inside lockDirName
}

// splitPrefix checks a prefix and returns its directory names. The prefix
// must name a directory ("a/b/"): a partial name such as "tenant-" would
// make records of different tenants share directories.
func splitPrefix(prefix string) ([]string, error) {
	if !strings.HasSuffix(prefix, "/") {
		return nil, fmt.Errorf("file: prefix %q must end in '/'", prefix)
	}
	dirs := strings.Split(strings.TrimSuffix(prefix, "/"), "/")
	for _, d := range dirs {
		if reason := badSegment(d); reason != "" {
			return nil, fmt.Errorf("file: prefix %q: %s", prefix, reason)
		}
		if len(d) > maxNameBytes {
			return nil, fmt.Errorf("file: prefix %q: a segment is longer than %d bytes", prefix, maxNameBytes)
		}
	}
	if dirs[0] == lockDirName || dirs[0] == stateDirName {
		return nil, fmt.Errorf("file: prefix %q: %q is reserved for the store's own files", prefix, dirs[0])
	}
	return dirs, nil
}

// badSegment says why a path segment is unsafe, or "" when it is fine.
func badSegment(seg string) string {
	switch {
	case seg == "":
		return "empty segment"
	case seg == "." || seg == "..":
		return "'.' or '..' segment"
	case strings.ContainsRune(seg, 0):
		return "NUL byte"
	}
	return ""
}

// pathOf maps a database key to its record. The service has validated the
// key already; this is defence in depth, so that no key can name a path
// outside the prefix tree whatever the caller checked.
func (s *Store) pathOf(key string) (objectPath, error) {
	invalid := func(reason string) error {
		return &lease.InvalidError{Field: "database_key", Reason: reason}
	}
	switch {
	case key == "":
		return objectPath{}, invalid("must not be empty")
	case !utf8.ValidString(key):
		return objectPath{}, invalid("must be valid UTF-8")
	case strings.HasPrefix(key, "/"):
		return objectPath{}, invalid("must not start with '/'")
	}
	segs := strings.Split(key, "/")
	for i, seg := range segs {
		if reason := badSegment(seg); reason != "" {
			return objectPath{}, invalid("must not contain an " + reason)
		}
		last := i == len(segs)-1
		if !last && strings.HasSuffix(seg, lease.ObjectSuffix) {
			return objectPath{}, invalid("only the last segment may end in " + lease.ObjectSuffix)
		}
		if n := len(seg); n > maxNameBytes || (last && n+len(lease.ObjectSuffix) > maxNameBytes) {
			return objectPath{}, invalid(fmt.Sprintf("segment too long for a file name (%d bytes)", n))
		}
	}
	object := s.prefix + key + lease.ObjectSuffix
	sum := sha256.Sum256([]byte(object))
	dirs := make([]string, 0, len(s.prefixDirs)+len(segs)-1)
	dirs = append(append(dirs, s.prefixDirs...), segs[:len(segs)-1]...)
	return objectPath{
		object: object,
		dirs:   dirs,
		base:   segs[len(segs)-1] + lease.ObjectSuffix,
		lock:   hex.EncodeToString(sum[:]) + ".lock",
	}, nil
}

// recordKeySegment returns the last key segment a file name stands for, and
// false for anything that is not a record name the store could have written
// (temporary files, strays, ".lease.json" alone).
func recordKeySegment(name string) (string, bool) {
	seg, ok := strings.CutSuffix(name, lease.ObjectSuffix)
	if !ok || badSegment(seg) != "" {
		return "", false
	}
	return seg, true
}

// versionOf is the version of stored bytes: their SHA-256 in hex.
func versionOf(data []byte) lease.Version {
	sum := sha256.Sum256(data)
	return lease.NewVersion(hex.EncodeToString(sum[:]))
}
