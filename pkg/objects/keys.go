package objects

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/redlease/redlease/pkg/lease"
)

var lookAlikeSlashes = lease.LookAlikeSlashes()

// Key limits. S3 allows 1024 bytes per key; a segment becomes a file name
// on the file backend, where NAME_MAX is 255 bytes.
const (
	MaxKeyBytes     = 1024
	MaxSegmentBytes = 255
)

// ReservedSegmentPrefix starts the names the file backend keeps for itself
// (its lock directory and temporary files); no object key may contain a
// segment that starts with it, on any backend, so that a store can move
// between backends unchanged.
const ReservedSegmentPrefix = ".redlease-"

// FieldKey names the object key in *lease.InvalidError.
const FieldKey = "key"

func invalidKey(format string, args ...any) error {
	return &lease.InvalidError{Field: FieldKey, Reason: fmt.Sprintf(format, args...)}
}

// ValidateKey checks an object key: 1 to MaxKeyBytes bytes of printable
// UTF-8 in NFC without characters that render as '/' (the database keys'
// rules, lease.Limits.ValidateKey, since object keys are scoped by the same
// principal prefixes), no leading '/', no empty, "." or ".." segments,
// segments of at most MaxSegmentBytes bytes, none starting with
// ReservedSegmentPrefix. Keys become S3 object keys and file paths, so
// anything that could escape a directory or alias another key is refused.
func ValidateKey(key string) error {
	switch {
	case key == "":
		return invalidKey("must not be empty")
	case len(key) > MaxKeyBytes:
		return invalidKey("must be at most %d bytes, got %d", MaxKeyBytes, len(key))
	case !utf8.ValidString(key):
		return invalidKey("must be valid UTF-8")
	case strings.HasPrefix(key, "/"):
		return invalidKey("must not start with '/'")
	}
	for _, r := range key {
		if !unicode.IsPrint(r) {
			return invalidKey("must contain only printable characters, found %U", r)
		}
		if slices.Contains(lookAlikeSlashes, r) {
			return invalidKey("must not contain %U, which renders as '/' without being a separator", r)
		}
	}
	if !norm.NFC.IsNormalString(key) {
		return invalidKey("must be in Unicode normalization form NFC")
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch {
		case seg == "":
			return invalidKey("must not contain empty segments ('//' or a trailing '/')")
		case seg == "." || seg == "..":
			return invalidKey("must not contain '.' or '..' segments")
		case len(seg) > MaxSegmentBytes:
			return invalidKey("segments must be at most %d bytes", MaxSegmentBytes)
		case strings.HasPrefix(seg, ReservedSegmentPrefix):
			return invalidKey("segments must not start with %q (reserved for the file backend)", ReservedSegmentPrefix)
		}
	}
	return nil
}

// ValidatePrefix checks a listing prefix: "" (everything) or a string that
// would be a valid key once completed. A trailing '/' is allowed, and the
// last segment may be partial ("clusters/dev/snap").
func ValidatePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	check := strings.TrimSuffix(prefix, "/")
	if check == "" {
		return invalidKey("a listing prefix must not be \"/\"")
	}
	return ValidateKey(check)
}

// DefaultDataFile is the name RedDB gives the data file of a database:
// its remote key is "{directory}data.rdb" (RED_REMOTE_KEY, default
// "clusters/dev/data.rdb"), and everything else it stores for that
// database lives in the same directory.
const DefaultDataFile = "data.rdb"

// databaseDirs are the directories RedDB keeps inside a database's
// directory: snapshots/ (with blob_cache/), wal/ and manifests/.
var databaseDirs = []string{"snapshots", "wal", "manifests"}

// DatabaseKey names the database whose lease fences writes of the data
// object objectKey. RedDB keeps everything of database key
// "{D}{dataFile}" under D: the data file, MANIFEST.json, and the
// directories snapshots/, wal/ and manifests/. So the directory D of an
// object is everything before its first segment named like one of those
// directories (when more follows it), else its parent directory, and the
// database is D + dataFile.
//
// The answer is only unambiguous because no database directory may itself
// contain such a segment; ValidateDatabaseKey refuses those keys for every
// lease taken through the RedDB face.
func DatabaseKey(objectKey, dataFile string) string {
	segs := strings.Split(objectKey, "/")
	end := len(segs) - 1 // the parent directory by default
	for i, seg := range segs[:len(segs)-1] {
		if slices.Contains(databaseDirs, seg) {
			end = i
			break
		}
	}
	dir := strings.Join(segs[:end], "/")
	if dir != "" {
		dir += "/"
	}
	return dir + dataFile
}

// ValidateDatabaseKey checks that a lease taken through the RedDB face
// names a database whose data objects DatabaseKey finds: its last segment
// is dataFile and no directory segment is one of RedDB's own directory
// names. Otherwise the lease would fence no data at all, or the data of
// another database.
func ValidateDatabaseKey(databaseKey, dataFile string) error {
	const field = "database_key"
	segs := strings.Split(databaseKey, "/")
	if segs[len(segs)-1] != dataFile {
		return &lease.InvalidError{Field: field, Reason: fmt.Sprintf(
			"a RedDB database key must end in %q (RED_REMOTE_KEY), so that its data objects are fenced by its lease", dataFile)}
	}
	for _, seg := range segs[:len(segs)-1] {
		if slices.Contains(databaseDirs, seg) {
			return &lease.InvalidError{Field: field, Reason: fmt.Sprintf(
				"a RedDB database directory must not contain a segment named %q (RedDB uses it inside every database directory)", seg)}
		}
	}
	if DatabaseKey(databaseKey, dataFile) != databaseKey {
		// Unreachable with the checks above; kept so that the two
		// functions can never drift apart silently.
		return &lease.InvalidError{Field: field, Reason: "does not name its own database directory"}
	}
	return nil
}
