package auth_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redlease/redlease/internal/testclock"
	"github.com/redlease/redlease/pkg/auth"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/observe"
)

// fakeSource serves one document, versioned by a counter, and counts
// fetches.
type fakeSource struct {
	mu      sync.Mutex
	doc     string
	version int
	err     error
	fetches int
}

func (f *fakeSource) set(doc string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.doc, f.version, f.err = doc, f.version+1, nil
}

func (f *fakeSource) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeSource) String() string { return "fake" }

func (f *fakeSource) Fetch(_ context.Context, since string) ([]byte, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fetches++
	if f.err != nil {
		return nil, "", f.err
	}
	v := string(rune('0' + f.version))
	if v == since {
		return nil, v, auth.ErrUnchanged
	}
	return []byte(f.doc), v, nil
}

func name(t *testing.T, r *auth.Reloading, token string) string {
	t.Helper()
	p, err := r.Authenticate(context.Background(), bearer(token))
	if err != nil {
		return ""
	}
	return p.Name
}

func TestReloadingSeesRotationsAfterTheInterval(t *testing.T) {
	t.Parallel()
	clock := testclock.New(testclock.Epoch)
	src := &fakeSource{}
	src.set(document())
	logs := &strings.Builder{}
	var mu sync.Mutex
	r, err := auth.Load(context.Background(), src, auth.ReloadOptions{Every: time.Minute, Now: clock.Now,
		Log: observe.NewLogger(lockedWriter{&mu, logs}, -8)})
	if err != nil {
		t.Fatal(err)
	}
	if got := name(t, r, tokenA); got != "tenant-a-reddb" {
		t.Fatalf("token A = %q", got)
	}
	// Rotate: token A is revoked, a new token takes its name.
	src.set(`{"tokens":[{"name":"tenant-a-reddb","sha256":"` + auth.Hash("rotated-0123456789") + `","prefixes":["tenants/a/"]}]}`)
	if got := name(t, r, tokenA); got != "tenant-a-reddb" {
		t.Fatalf("before the interval the old token must still work, got %q", got)
	}
	clock.Advance(time.Minute)
	if got := name(t, r, tokenA); got != "" {
		t.Fatalf("a revoked token still authenticates as %q after the interval", got)
	}
	if got := name(t, r, "rotated-0123456789"); got != "tenant-a-reddb" {
		t.Fatalf("the new token = %q", got)
	}
	fetches := src.fetches
	for range 10 {
		name(t, r, "rotated-0123456789")
	}
	if src.fetches != fetches {
		t.Fatalf("%d fetches within one interval, want none", src.fetches-fetches)
	}

	// A broken document, then a failing source: the last good set stays.
	clock.Advance(time.Minute)
	src.set(`{"tokens":[{"name":"x"}]}`)
	if got := name(t, r, "rotated-0123456789"); got != "tenant-a-reddb" {
		t.Fatalf("an invalid document replaced the good one: %q", got)
	}
	clock.Advance(time.Minute)
	src.fail(errors.New("AccessDenied"))
	if got := name(t, r, "rotated-0123456789"); got != "tenant-a-reddb" {
		t.Fatalf("a failing source dropped the good set: %q", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "the previous ones stay in force") || strings.Contains(logs.String(), "rotated-0123456789") {
		t.Fatalf("log lacks the failed reload, or shows a token:\n%s", logs)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func TestLoadFailsOnABadDocumentNamingTheEntry(t *testing.T) {
	t.Parallel()
	src := &fakeSource{}
	src.set(`{"tokens":[{"name":"ok","sha256":"` + auth.Hash("a") + `","prefixes":[""]},{"name":"bad","sha256":"x","prefixes":[""]}]}`)
	_, err := auth.Load(context.Background(), src, auth.ReloadOptions{})
	if err == nil || !strings.Contains(err.Error(), `tokens[1] "bad"`) || !strings.Contains(err.Error(), "fake") {
		t.Fatalf("Load = %v, want an error naming the source and tokens[1] \"bad\"", err)
	}
}

func TestLoadWithoutADocumentAcceptsNoToken(t *testing.T) {
	t.Parallel()
	src := &fakeSource{err: auth.ErrNoDocument}
	clock := testclock.New(testclock.Epoch)
	r, err := auth.Load(context.Background(), src, auth.ReloadOptions{Every: time.Second, Now: clock.Now})
	if err != nil {
		t.Fatalf("Load without a document: %v", err)
	}
	if _, err := r.Authenticate(context.Background(), bearer(tokenA)); !errors.Is(err, lease.ErrUnauthorized) {
		t.Fatalf("got %v, want unauthorized", err)
	}
	src.set(document()) // the operator writes one
	clock.Advance(time.Second)
	if got := name(t, r, tokenA); got != "tenant-a-reddb" {
		t.Fatalf("after the document was written: %q", got)
	}
}

func TestFileSourceSeesEveryEdit(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.json")
	if err := os.WriteFile(path, []byte(document()), 0o600); err != nil {
		t.Fatal(err)
	}
	clock := testclock.New(testclock.Epoch)
	r, err := auth.Load(context.Background(), auth.FileSource(path), auth.ReloadOptions{Every: time.Second, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	// Same size, same second: only the content tells.
	edited := strings.Replace(document(), auth.Hash(tokenA), auth.Hash("swapped-0123456789abcdef"), 1)
	if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	if got := name(t, r, "swapped-0123456789abcdef"); got != "tenant-a-reddb" {
		t.Fatalf("the edited file was not seen: %q", got)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	if got := name(t, r, "swapped-0123456789abcdef"); got != "tenant-a-reddb" {
		t.Fatalf("a file removed mid-edit dropped the tokens: %q", got)
	}
	if _, err := auth.Load(context.Background(), auth.FileSource(path), auth.ReloadOptions{}); err == nil {
		t.Fatal("Load of a missing file succeeded")
	}
}

// Many requests at once when a check is due: one fetch, every request
// answered.
func TestConcurrentRequestsCheckOnce(t *testing.T) {
	t.Parallel()
	clock := testclock.New(testclock.Epoch)
	src := &fakeSource{}
	src.set(document())
	r, err := auth.Load(context.Background(), src, auth.ReloadOptions{Every: time.Second, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			if _, err := r.Authenticate(context.Background(), bearer(tokenA)); err != nil {
				t.Errorf("Authenticate: %v", err)
			}
		})
	}
	wg.Wait()
	if src.fetches != 2 {
		t.Fatalf("%d fetches, want the initial one and one check", src.fetches)
	}
}
