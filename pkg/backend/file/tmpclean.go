package file

import (
	"io/fs"
	"os"
	"strings"
	"time"
)

// staleTempAge is the age past which a temporary file is a leftover of a
// write that never finished (the process crashed between create and
// rename): a write in flight holds its temporary file for milliseconds, so
// a minute leaves a wide margin for another process's write under way.
const staleTempAge = time.Minute

// tempPrefix and tempSuffix frame the name of a write's temporary file.
const (
	tempPrefix = ".redlease-"
	tempSuffix = ".tmp"
)

func isTempName(name string) bool {
	return strings.HasPrefix(name, tempPrefix) && strings.HasSuffix(name, tempSuffix) &&
		len(name) > len(tempPrefix)+len(tempSuffix)
}

// removeStaleTemps removes the temporary files under the record tree whose
// modification time is staleTempAge or more before now, and returns how
// many it removed. It is best effort: what it cannot read or remove stays,
// as harmless as before (Load and List ignore temporary files). It follows
// no symlink and removes only regular files.
func removeStaleTemps(root *os.Root, tree string, now time.Time) int {
	removed := 0
	_ = fs.WalkDir(root.FS(), tree, func(p string, d fs.DirEntry, err error) error {
		// What cannot be read is skipped; only regular temporary files go.
		if err == nil && d.Type().IsRegular() && isTempName(d.Name()) && stale(d, now) && root.Remove(p) == nil {
			removed++
		}
		return nil
	})
	return removed
}

// stale reports whether the file d was last modified staleTempAge or more
// before now.
func stale(d fs.DirEntry, now time.Time) bool {
	info, err := d.Info()
	return err == nil && now.Sub(info.ModTime()) >= staleTempAge
}
