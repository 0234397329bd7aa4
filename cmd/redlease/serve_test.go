package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeAndGracefulShutdown runs `redlease serve` on a free loopback
// port with the file backend, talks to it, then cancels its context as
// SIGINT would and expects a clean exit.
func TestServeAndGracefulShutdown(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	url, done, cancel := startServe(t, "--data", dir)
	defer cancel()

	resp, err := http.Post(url+"/v1/acquire", "application/json",
		strings.NewReader(`{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-0-1","ttl_ms":60000}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("acquire = %d, want 200", resp.StatusCode)
	}
	if _, err := os.Stat(filepath.Join(dir, "leases", "clusters", "dev", "data.rdb.lease.json")); err != nil {
		t.Errorf("file backend did not store the record under DIR/leases/: %v", err)
	}
	// The RedDB face is always on: the lease object is the same record,
	// and a data object lands beside it in the data directory.
	head, err := http.Head(url + "/v1/reddb/leases/clusters/dev/data.rdb.lease.json")
	if err != nil {
		t.Fatal(err)
	}
	head.Body.Close()
	if head.StatusCode != 200 || head.Header.Get("ETag") == "" || head.ContentLength != 0 {
		t.Errorf("HEAD of the lease object = %d, ETag %q, length %d; want 200, an ETag, 0", head.StatusCode, head.Header.Get("ETag"), head.ContentLength)
	}
	put, err := http.NewRequest(http.MethodPut, url+"/v1/reddb/clusters/dev/data.rdb", strings.NewReader("\x00data"))
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := http.DefaultClient.Do(put); err != nil || resp.StatusCode != 200 {
		t.Fatalf("PUT of a data object: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if b, err := os.ReadFile(filepath.Join(dir, "clusters", "dev", "data.rdb")); err != nil || string(b) != "\x00data" {
		t.Errorf("data object on disk %q, %v", b, err)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited %d after shutdown, want 0", code)
		}
	case <-time.After(shutdownTimeout + 5*time.Second):
		t.Fatal("serve did not stop")
	}
}

func TestServeRejectsBadFlags(t *testing.T) {
	t.Parallel()
	var stderr strings.Builder
	e := env{Stdout: io.Discard, Stderr: &stderr, Getenv: func(string) string { return "" }}
	if code := run(context.Background(), e, []string{"serve", "--backend", "s3"}); code != 2 {
		t.Errorf("serve --backend s3 without bucket exited %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "REDLEASE_BUCKET") {
		t.Errorf("stderr %q does not name the missing setting", stderr.String())
	}
	if code := run(context.Background(), e, []string{"nosuch"}); code != 2 {
		t.Errorf("unknown command exited %d, want 2", code)
	}
}

// startServe runs `redlease serve` with args on a free loopback port and
// returns its URL, the channel its exit status arrives on, and the cancel
// that stops it as SIGINT would (also at the end of the test).
func startServe(t *testing.T, args ...string) (string, chan int, context.CancelFunc) {
	t.Helper()
	logR, logW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	done := make(chan int, 1)
	go func() {
		defer logW.Close()
		done <- run(ctx, env{Stdout: io.Discard, Stderr: logW, Getenv: func(string) string { return "" }},
			append([]string{"serve", "--addr", "127.0.0.1:0"}, args...))
	}()
	lines := bufio.NewScanner(logR)
	var url string
	for lines.Scan() {
		var rec struct{ Msg, URL string }
		if json.Unmarshal(lines.Bytes(), &rec) == nil && rec.Msg == "listening" {
			url = rec.URL
			break
		}
	}
	if url == "" {
		t.Fatal("serve never logged its listen address")
	}
	go func() { _, _ = io.Copy(io.Discard, logR) }()
	return url, done, cancel
}
