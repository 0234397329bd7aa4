// Package reddbtest runs a stock RedDB server (`red`, crate reddb-io, built
// from crates.io by scripts/ensure-reddb.sh) as a child process in tests, so
// that redlease's RedDB face is exercised by the real client and not by a
// model of it.
//
// A test starts one or more instances with Start, each in a temp directory
// of its own, on a free loopback port, with an environment that the test
// states completely (nothing RED_* or REDDB_* leaks in from the developer's
// shell). It then drives them the way an operator or an orchestrator would:
// WaitLease polls GET /admin/status for the writer_lease state, Drain and
// Shutdown post to /admin/drain and /admin/shutdown, Freeze and Thaw send
// SIGSTOP and SIGCONT, Kill sends SIGKILL, and Wait returns the exit code
// together with everything the process printed. Every instance is killed and
// reaped in t.Cleanup, by process group, whatever the test did.
//
// Signals go to the instance's process group: RedDB forks one curl per
// remote request, and a paused or crashed machine pauses or loses those
// requests too.
//
// Clock skew: Config.ClockOffset preloads Debian's libfaketime
// (scripts/ensure-faketime.sh) with FAKETIME_DONT_FAKE_MONOTONIC=1, so the
// instance's wall clock, which RedDB's lease times come from, runs ahead or
// behind while its timers keep real time.
//
// The package lives under internal/ because it is a test helper of this
// module (the RedDB-in-the-loop tests of the harness itself, of the RedDB
// adapter and of the end-to-end suite import it) and not an API for users.
// Its own tests that start `red` carry the build tag "reddb" and run through
// `make test-reddb`, which builds the binary first; the tests without the
// tag run in `make test-unit` and need no binary.
package reddbtest
