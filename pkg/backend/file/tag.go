package file

import (
	"io/fs"
	"strconv"
	"syscall"
)

// fileTag is a listing's change tag for a record file, taken from one
// lstat and no read: inode, size, modification and change time. Every
// write of the store renames a new file over the record, so each write
// changes the inode and both times; an edit in place by anyone else
// changes the times. A false "unchanged" would only delay what the sweep
// learns, never let it write: its mark is conditional on the content hash.
func fileTag(fi fs.FileInfo) string {
	b := make([]byte, 0, 64)
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		b = strconv.AppendUint(b, st.Ino, 36)
		b = append(b, '.')
		b = strconv.AppendInt(b, st.Size, 36)
		b = append(b, '.')
		b = strconv.AppendInt(b, st.Mtim.Nano(), 36)
		b = append(b, '.')
		b = strconv.AppendInt(b, st.Ctim.Nano(), 36)
		return string(b)
	}
	b = strconv.AppendInt(b, fi.Size(), 36)
	b = append(b, '.')
	b = strconv.AppendInt(b, fi.ModTime().UnixNano(), 36)
	return string(b)
}

// describeMode names what a non-regular file is, for error messages.
func describeMode(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symlink"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a directory"
	case m.IsRegular():
		return "a regular file"
	}
	return "a special file"
}
