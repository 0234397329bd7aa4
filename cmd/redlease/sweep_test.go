package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redlease/redlease/internal/syncbuf"
	"github.com/redlease/redlease/pkg/backend/file"
	"github.com/redlease/redlease/pkg/eventsink"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/sweep"
)

// seedExpiredFile writes, in the file store in dir, a lease that expired at
// the start of 2026.
func seedExpiredFile(t *testing.T, dir, key string) {
	t.Helper()
	s, err := file.Open(file.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(context.Background(), lease.Record{Lease: lease.Lease{DatabaseKey: key, HolderID: "reddb-0-1",
		Term: 1, Generation: 3, AcquiredAtMs: 1767225540000, ExpiresAtMs: 1767225600000}}); err != nil {
		t.Fatal(err)
	}
}

func sweepCLI(t *testing.T, args ...string) (sweep.Result, string, int) {
	t.Helper()
	var stdout, stderr syncbuf.Buffer
	code := run(context.Background(), env{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }},
		append([]string{"sweep"}, args...))
	var res sweep.Result
	if code == 0 {
		if err := json.Unmarshal([]byte(stdout.String()), &res); err != nil {
			t.Fatalf("stdout is not the result as JSON: %v\n%s", err, stdout.String())
		}
	}
	return res, stderr.String(), code
}

// `redlease sweep` sweeps a store once: the result as JSON on stdout, the
// event as a JSON line on stderr, the mark in the record; a second sweep
// finds it reported.
func TestSweepCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	seedExpiredFile(t, dir, "clusters/dev/data.rdb")
	res, logs, code := sweepCLI(t, "--data", dir)
	if code != 0 || res.Reported != 1 || res.Listed != 1 {
		t.Fatalf("sweep exited %d with %+v; logs:\n%s", code, res, logs)
	}
	var event struct {
		Msg    string             `json:"msg"`
		Detail sweep.ExpiredEvent `json:"detail"`
	}
	for line := range strings.Lines(logs) {
		if json.Unmarshal([]byte(line), &event) == nil && event.Msg == sweep.DetailType {
			break
		}
	}
	if event.Detail.DatabaseKey != "clusters/dev/data.rdb" || event.Detail.Generation != 3 ||
		event.Detail.EventID != sweep.EventID("clusters/dev/data.rdb", 3, 1767225600000) {
		t.Errorf("no Lease Expired line for the key in the logs:\n%s", logs)
	}
	again, _, code := sweepCLI(t, "--data", dir)
	if code != 0 || again.Reported != 0 || again.AlreadyReported != 1 {
		t.Errorf("second sweep exited %d with %+v, want it already reported", code, again)
	}
}

func TestSweepCommandPostsToEventsURL(t *testing.T) {
	t.Parallel()
	var (
		mu  sync.Mutex
		got []eventsink.Envelope
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var batch []eventsink.Envelope
		_ = json.NewDecoder(r.Body).Decode(&batch)
		mu.Lock()
		got = append(got, batch...)
		mu.Unlock()
	}))
	defer hook.Close()
	dir := t.TempDir()
	seedExpiredFile(t, dir, "a")
	res, logs, code := sweepCLI(t, "--data", dir, "--events-url", hook.URL)
	mu.Lock()
	defer mu.Unlock()
	if code != 0 || res.Reported != 1 || len(got) != 1 || got[0].Detail.DatabaseKey != "a" {
		t.Fatalf("sweep exited %d with %+v, posted %+v; logs:\n%s", code, res, got, logs)
	}
}

func TestSweepCommandRefusesBadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--events", "sqs"},
		{"--events-url", "ftp://x"},
		{"--backend", "s3"}, // no bucket
		{"extra"},
	} {
		if _, _, code := sweepCLI(t, args...); code != 2 {
			t.Errorf("sweep %q exited %d, want 2", args, code)
		}
	}
	for _, args := range [][]string{{"--sweep-every", "-1s"}, {"--events-url", "http://x"}} {
		var stderr syncbuf.Buffer
		e := env{Stdout: io.Discard, Stderr: &stderr, Getenv: func(string) string { return "" }}
		if code := run(context.Background(), e, append([]string{"serve", "--data", t.TempDir()}, args...)); code != 2 {
			t.Errorf("serve %q exited %d, want 2", args, code)
		}
	}
}

// `redlease serve --sweep-every` sweeps the store it serves: a lease that
// expires is reported in the log as a JSON line.
func TestServeSweepsEvery(t *testing.T) {
	t.Parallel()
	logR, logW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	getenv := func(name string) string {
		if name == "REDLEASE_TTL_MIN_MS" {
			return "1"
		}
		return ""
	}
	go func() {
		defer logW.Close()
		done <- run(ctx, env{Stdout: io.Discard, Stderr: logW, Getenv: getenv},
			[]string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--sweep-every", "50ms"})
	}()
	// One reader drains the log throughout (an unread pipe would block
	// the server), passing on the listen address and the event.
	listening, found := make(chan string, 1), make(chan bool, 1)
	go func() {
		lines := bufio.NewScanner(logR)
		for lines.Scan() {
			var rec struct {
				Msg, URL string
				Detail   sweep.ExpiredEvent
			}
			if json.Unmarshal(lines.Bytes(), &rec) != nil {
				continue
			}
			switch {
			case rec.Msg == "listening":
				listening <- rec.URL
			case rec.Msg == sweep.DetailType && rec.Detail.DatabaseKey == "clusters/dev/data.rdb":
				select {
				case found <- true:
				default:
				}
			}
		}
	}()
	var url string
	select {
	case url = <-listening:
	case <-time.After(10 * time.Second):
		t.Fatal("serve never logged its listen address")
	}
	resp, err := http.Post(url+"/v1/acquire", "application/json",
		strings.NewReader(`{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-0-1","ttl_ms":1}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	select {
	case <-found:
	case <-time.After(10 * time.Second):
		t.Fatal("no Lease Expired line within 10 s of sweeps every 50 ms")
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve exited %d", code)
	}
}
