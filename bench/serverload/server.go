package serverload

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"syscall"
	"time"

	"github.com/redlease/redlease/internal/config"
	"github.com/redlease/redlease/internal/wire"
	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/api/httpserver"
)

// server is one `redlease serve` under load.
type server struct {
	url  string
	stop func()
}

var listening = regexp.MustCompile(`"url":"(http://[^"]+)"`)

// startProcess runs the real binary (`redlease serve`) on a free loopback
// port with backend ("memory", or "file" in dataDir) and waits for its
// "listening" log line. Its logs (one JSON line per request, as `make run`
// prints them) go to logFile.
func startProcess(bin, backend, dataDir, logFile string) (*server, error) {
	args := []string{"serve", "--addr", "127.0.0.1:0", "--backend", backend}
	if backend == config.BackendFile {
		args = append(args, "--data", dataDir)
	}
	cmd := exec.Command(bin, args...) //nolint:gosec // the redlease binary make build put in bin/
	cmd.Env = append(os.Environ(), "REDLEASE_LOG_LEVEL=info")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logs, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		logs.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logs.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	stop := func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		logs.Close()
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		found := false
		for sc.Scan() {
			line := sc.Text()
			if !found {
				if m := listening.FindStringSubmatch(line); m != nil {
					found = true
					urls <- m[1]
				}
			}
			_, _ = io.WriteString(logs, line+"\n")
		}
		if !found {
			close(urls)
		}
	}()
	select {
	case u, ok := <-urls:
		if !ok {
			stop()
			return nil, fmt.Errorf("%s serve exited before listening (log: %s)", bin, logFile)
		}
		return &server{url: u, stop: stop}, nil
	case <-time.After(30 * time.Second):
		stop()
		return nil, errors.New(bin + " serve did not log its address within 30 s")
	}
}

// startInProcess serves what `redlease serve` serves (wire.Load, App.Face,
// the net/http adapter) on a loopback httptest server, for the smoke run
// where no binary is built.
func startInProcess(ctx context.Context, backend, dataDir string) (*server, error) {
	cfg, err := config.FromEnv(func(k string) string {
		switch k {
		case config.EnvBackend:
			return backend
		case config.EnvDataDir:
			return dataDir
		}
		return ""
	})
	if err != nil {
		return nil, err
	}
	app, err := wire.Load(ctx, cfg, false)
	if err != nil {
		return nil, err
	}
	app.Auth = api.Open() // as redlease serve without --tokens on loopback
	face, err := app.Face(ctx, slog.New(slog.DiscardHandler), nil, wire.FaceOptions{})
	if err != nil {
		return nil, err
	}
	srv := httptest.NewServer(httpserver.Handler(face))
	return &server{url: srv.URL, stop: srv.Close}, nil
}

// newClient keeps enough idle connections for the highest concurrency, so
// that the run measures requests rather than TCP handshakes.
func newClient(maxConcurrency int) *http.Client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        2 * maxConcurrency,
		MaxIdleConnsPerHost: 2 * maxConcurrency,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}
