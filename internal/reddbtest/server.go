package reddbtest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Config describes one RedDB instance.
type Config struct {
	// Name labels the instance in logs and failure messages ("red" if empty).
	Name string
	// Binary is the `red` executable; Binary(t) if empty.
	Binary string
	// Env is the instance's configuration, e.g. HTTPBackend{...}.Env().
	// Nothing else from the test's environment reaches the instance except
	// PATH and HOME (RedDB needs curl on PATH).
	Env []string
	// Dir holds the instance's data file and temp files; t.TempDir() if
	// empty. Two instances of one database need two directories: RedDB
	// takes an exclusive lock on its local data file.
	Dir string
	// ClockOffset runs the instance's wall clock ahead (positive) or behind
	// (negative) through libfaketime; its monotonic clock stays real.
	ClockOffset time.Duration
	// Args are appended to the server command line.
	Args []string
}

// Server is one running (or exited) RedDB instance.
type Server struct {
	Name     string
	Dir      string
	DataPath string // --path, the local database file
	Addr     string // host:port of its HTTP API
	URL      string // http://Addr

	t      testing.TB
	cmd    *exec.Cmd
	stdout output
	stderr output
	done   chan struct{}
	exit   Exit // valid once done is closed
}

// Exit is how an instance ended.
type Exit struct {
	// Code is the exit status, or -1 when a signal ended the process.
	Code int
	// Signal is the signal that ended it, 0 for a normal exit.
	Signal syscall.Signal
	Stdout string
	Stderr string
}

// String summarises the exit for messages.
func (e Exit) String() string {
	if e.Signal != 0 {
		return fmt.Sprintf("killed by signal %d (%s)", int(e.Signal), e.Signal)
	}
	return "exit status " + strconv.Itoa(e.Code)
}

// Start launches `red server` on a free loopback port and returns at once;
// use WaitLease to wait until it serves. The instance is killed (with its
// process group) and reaped when the test ends.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "red"
	}
	if cfg.Binary == "" {
		cfg.Binary = Binary(t)
	}
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatalf("reddbtest: RedDB forks curl for every remote request: %v", err)
	}
	tmp := filepath.Join(cfg.Dir, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	addr := freeLoopbackAddr(t)
	s := &Server{
		Name:     cfg.Name,
		Dir:      cfg.Dir,
		DataPath: filepath.Join(cfg.Dir, "data.rdb"),
		Addr:     addr,
		URL:      "http://" + addr,
		t:        t,
		done:     make(chan struct{}),
	}
	args := append([]string{"server", "--path", s.DataPath, "--http-bind", addr, "--no-auth", "--no-log-file"}, cfg.Args...)
	s.cmd = exec.Command(cfg.Binary, args...) //nolint:gosec // running the binary under test is the point
	s.cmd.Dir = cfg.Dir
	s.cmd.Env = childEnv(t, cfg, tmp)
	s.cmd.Stdout = &s.stdout
	s.cmd.Stderr = &s.stderr
	// Own process group, so signals reach the curl children too. Pdeathsig
	// kills the instance if the test binary dies without running cleanups
	// (a go test timeout); it is tied to the forking thread, which the
	// goroutine below keeps alive, locked, until the child has exited.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}

	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := s.cmd.Start(); err != nil {
			started <- err
			runtime.UnlockOSThread()
			return
		}
		started <- nil
		err := s.cmd.Wait()
		s.exit = exitOf(s.cmd, err)
		s.exit.Stdout, s.exit.Stderr = s.stdout.String(), s.stderr.String()
		close(s.done)
		// The thread ends with this goroutine (it stays locked); the child
		// is gone by now, so its death signal has no one left to hit.
	}()
	if err := <-started; err != nil {
		t.Fatalf("reddbtest: start %s: %v", cfg.Name, err)
	}
	t.Cleanup(s.cleanup)
	return s
}

func childEnv(t testing.TB, cfg Config, tmp string) []string {
	t.Helper()
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		// RedDB writes its lease temp files to the temp directory: keep
		// each instance's apart and inside the test's directory.
		"TMPDIR=" + tmp,
		"LANG=C.UTF-8",
	}
	if cfg.ClockOffset != 0 {
		env = append(env,
			"LD_PRELOAD="+FaketimeLib(t),
			"FAKETIME="+faketimeOffset(cfg.ClockOffset),
			// Faking the monotonic clock too (what the faketime wrapper
			// does) makes red hang; only the wall clock matters here.
			"FAKETIME_DONT_FAKE_MONOTONIC=1",
		)
	}
	return append(env, cfg.Env...)
}

// faketimeOffset renders a relative FAKETIME value in seconds, e.g. "+30"
// or "-1.500".
func faketimeOffset(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%+d", int64(d/time.Second))
	}
	return fmt.Sprintf("%+.3f", d.Seconds())
}

// freeLoopbackAddr asks the kernel for a free port. Another process could
// take it before RedDB binds it; RedDB then exits with a bind error, which
// WaitLease reports.
func freeLoopbackAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

func exitOf(cmd *exec.Cmd, err error) Exit {
	var e Exit
	state := cmd.ProcessState
	if state == nil {
		e.Code = -1
		return e
	}
	e.Code = state.ExitCode()
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		e.Signal = ws.Signal()
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		e.Code = -1
	}
	return e
}

// Pid is the instance's process id (also its process group id).
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Done is closed once the process has exited and been reaped.
func (s *Server) Done() <-chan struct{} { return s.done }

// Exited reports whether the process has exited.
func (s *Server) Exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Stdout and Stderr are what the instance printed so far.
func (s *Server) Stdout() string { return s.stdout.String() }

// Stderr is what the instance printed on standard error so far.
func (s *Server) Stderr() string { return s.stderr.String() }

// Wait waits up to timeout for the instance to exit by itself.
func (s *Server) Wait(timeout time.Duration) (Exit, error) {
	select {
	case <-s.done:
		return s.exit, nil
	case <-time.After(timeout):
		return Exit{}, fmt.Errorf("%s (pid %d) still running after %s", s.Name, s.Pid(), timeout)
	}
}

// MustWait is Wait that fails the test on a timeout.
func (s *Server) MustWait(timeout time.Duration) Exit {
	s.t.Helper()
	e, err := s.Wait(timeout)
	if err != nil {
		s.t.Fatalf("reddbtest: %v\nstderr:\n%s", err, lastLines(s.Stderr(), 20))
	}
	return e
}

// Freeze stops the instance and its curl children (SIGSTOP), as a paused
// VM or a long GC pause would.
func (s *Server) Freeze() { s.signal(syscall.SIGSTOP) }

// Thaw resumes a frozen instance (SIGCONT).
func (s *Server) Thaw() { s.signal(syscall.SIGCONT) }

// Terminate asks the instance to shut down (SIGTERM), as an orchestrator
// does.
func (s *Server) Terminate() { s.signal(syscall.SIGTERM) }

// Kill crashes the instance and its children (SIGKILL) and waits until it
// is reaped.
func (s *Server) Kill() Exit {
	s.t.Helper()
	s.signal(syscall.SIGKILL)
	return s.MustWait(10 * time.Second)
}

func (s *Server) signal(sig syscall.Signal) {
	s.t.Helper()
	if s.Exited() {
		s.t.Fatalf("reddbtest: %s %s: already exited (%s)", sig, s.Name, s.exit)
	}
	if err := syscall.Kill(-s.Pid(), sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		s.t.Fatalf("reddbtest: %s %s: %v", sig, s.Name, err)
	}
}

// cleanup kills whatever is left of the instance and, when the test failed,
// logs the end of what it printed.
func (s *Server) cleanup() {
	if !s.Exited() {
		_ = syscall.Kill(-s.Pid(), syscall.SIGKILL)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			s.t.Errorf("reddbtest: %s (pid %d) not reaped 10 s after SIGKILL", s.Name, s.Pid())
		}
	} else {
		// The leader is gone; curl children may still be around.
		_ = syscall.Kill(-s.Pid(), syscall.SIGKILL)
	}
	if s.t.Failed() {
		s.t.Logf("%s (pid %d, %s) stderr, last lines:\n%s", s.Name, s.Pid(), s.describe(), lastLines(s.Stderr(), 40))
		if out := strings.TrimSpace(s.Stdout()); out != "" {
			s.t.Logf("%s stdout, last lines:\n%s", s.Name, lastLines(out, 20))
		}
	}
}

func (s *Server) describe() string {
	if s.Exited() {
		return s.exit.String()
	}
	return "running"
}
