package lambdastart

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redlease/redlease/internal/syncbuf"
)

// emulator is one aws-lambda-rie process serving one bootstrap: one
// execution environment, cold until its first invoke.
type emulator struct {
	addr string
	cmd  *exec.Cmd
	out  *syncbuf.Buffer
	http *http.Client
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startRIE runs rie on free loopback ports in its own process group and
// waits until it accepts connections. The caller must stop it.
func startRIE(rie, bootstrap string, env []string) (*emulator, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	api, err := freeAddr()
	if err != nil {
		return nil, err
	}
	e := &emulator{addr: addr, out: &syncbuf.Buffer{}, http: &http.Client{Timeout: 60 * time.Second}}
	args := []string{"--log-level", "info",
		"--runtime-interface-emulator-address", addr, "--runtime-api-address", api, bootstrap}
	e.cmd = exec.Command(rie, args...) //nolint:gosec // the pinned RIE and the bootstraps make lambdas built
	e.cmd.Dir = filepath.Dir(bootstrap)
	e.cmd.Env = env
	e.cmd.Stdout, e.cmd.Stderr = e.out, e.out
	e.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := e.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", rie, err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return e, nil
		}
		if time.Now().After(deadline) {
			e.stop()
			return nil, fmt.Errorf("RIE never listened on %s:\n%s", addr, e.out.String())
		}
		time.Sleep(20 * time.Millisecond) // polling a process's readiness
	}
}

// invoke posts an event and returns the function's answer and the round
// trip. The RIE answers 200 even when the function failed.
func (e *emulator) invoke(ctx context.Context, payload []byte) ([]byte, time.Duration, error) {
	url := "http://" + e.addr + "/2015-03-31/functions/function/invocations"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return nil, 0, err
	}
	start := time.Now()
	resp, err := e.http.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return body, time.Since(start), err
}

// peakRSSKiB is the high-water mark of the bootstrap's resident set: the
// RIE's child process.
func (e *emulator) peakRSSKiB() int {
	for _, pid := range childrenOf(e.cmd.Process.Pid) {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
		if err == nil {
			if kib := PeakRSSKiB(string(b)); kib > 0 {
				return kib
			}
		}
	}
	return 0
}

// childrenOf lists the pids whose parent is pid, from /proc.
func childrenOf(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, ent := range entries {
		child, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + ent.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces, so cut at the last ')'.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, child)
		}
	}
	return out
}

// stop ends the RIE and its bootstrap (their process group) by pid:
// SIGTERM, then SIGKILL after 5 s.
func (e *emulator) stop() {
	pgid := e.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	var waitErr error
	done := make(chan struct{})
	go func() { waitErr = e.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-done
	}
	var exit *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &exit) {
		fmt.Fprintln(os.Stderr, "lambdastart: waiting for the RIE:", waitErr)
	}
}
