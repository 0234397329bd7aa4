// Package file is the embedded lease store: a local directory laid out
// exactly like the S3 bucket, safe for many goroutines and many processes
// sharing that directory. It is what `redlease serve --data DIR` uses.
//
// # Layout
//
// The record of database key K lives at DIR/{prefix}K.lease.json (prefix
// "leases/" by default), so "clusters/dev/data.rdb" is the file
// DIR/leases/clusters/dev/data.rdb.lease.json. Its contents are exactly
// lease.EncodeRecord(rec): the bytes RedDB reads, nothing else. The prefix
// tree holds nothing but records, their directories and, transiently, the
// temporary files of writes in flight, so it can be synced to or from a
// bucket as is.
//
// Per-key lock files live outside the prefix tree, in DIR/.redlease-locks/,
// named by the SHA-256 of the object name. Lock files next to the records
// ("K.lease.json.lock") would add non-record files to the tree, and would
// collide with the directory of another valid key: key "a" would lock
// "a.lease.json.lock" while key "a.lease.json.lock/b" needs a directory of
// that name. Hashed names cannot collide and never exceed NAME_MAX. Lock
// files are never deleted: a process that deleted one while another waited
// on it would let two writers lock two different inodes for the same key.
//
// # Writes
//
// Create and Replace are compare-and-swap under an exclusive lock on the
// key: take an in-process lock (so goroutines queue without burning file
// descriptors and honour their context), then flock(2) the key's lock file
// (so other processes are excluded; flock, unlike fcntl locks, also excludes
// other open file descriptions in the same process), read the record,
// compare, write, unlock. The write goes to a temporary file in the record's
// directory (".redlease-<random>.tmp", which never ends in ".lease.json"),
// which is fsynced, renamed over the record, and then the directory is
// fsynced. A crash at any point leaves the old record or the new one, never
// a torn one; a leftover temporary file is ignored by Load and List, and
// Open removes those a minute old or more (Options.Now is its clock; a
// write holds its temporary file for milliseconds).
//
// Reads take no lock: rename replaces the record atomically, so a reader
// sees one complete version or the other.
//
// # Listing and the sweep's state
//
// List walks the tree in key order without reading any record: an entry's
// tag is its file's inode, size and times from one lstat, and every write
// renames a new file over the record, so every write changes the tag. A
// symlink or special file in the tree is reported as unreadable, neither
// followed nor opened, and the walk goes on. The sweep keeps its state in
// DIR/.redlease-sweep/, one file per prefix, written like a record
// (compare-and-swap under a lock, atomic rename); a prefix may not start
// with that directory's name, nor with the lock directory's.
//
// # Versions
//
// A version is the hex SHA-256 of the stored bytes in double quotes, a
// strong ETag as every backend's version is (lease.NewVersion). Two
// identical records share a version; that is sound for compare-and-swap
// because a writer that expects a version then finds exactly the bytes it
// decided on.
//
// # Errors
//
// A missing record matches lease.ErrNotFound. A refused compare-and-swap is
// a *lease.PreconditionError whose Current is filled (the store read it
// under the lock) when the stored record decodes. Bytes that do not decode,
// a record whose database_key differs from its path, and anything in the
// tree that is not a plain directory or regular file where one is expected
// (a symlink, a FIFO), a lock file included, match lease.ErrCorrupt: the
// API answers them 500 storage_corrupt, since a retry would meet the same
// entry again; List reports those in the tree in Page.Unreadable instead of
// failing. An invalid key matches
// lease.ErrInvalid. Every failure of the file system itself (EIO, ENOSPC,
// EACCES, a missing DIR, ...) is wrapped with lease.Unavailable and a
// one-second retry hint: the client's right reaction is the same for all of
// them (retry later, and do not assume a failed write was not applied), and
// the errno stays available to logs through Unwrap. A cancelled context
// while waiting for the lock is lease.Unavailable too, with no hint.
//
// # Symlinks
//
// All access goes through an os.Root opened on DIR, so no path can leave
// DIR. On top of that the store refuses, as corrupt, any symlink in the path
// of a record (the prefix directories, the key's directories, the record
// file itself), and checks that each directory it opened is the very inode
// it inspected, so a swapped-in link is refused as well. Keys are validated
// again here (no empty, "." or ".." segments, no leading "/", no NUL) even
// though the service already checked them.
//
// The package needs flock(2), so it builds on Unix systems only.
package file
