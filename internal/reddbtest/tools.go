package reddbtest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Environment variables that point the harness at prebuilt tools; `make
// test-reddb` sets both after running the ensure scripts.
const (
	EnvBinary   = "REDDB_BIN"    // path of the `red` binary
	EnvFaketime = "FAKETIME_LIB" // path of libfaketime.so.1
)

// Binary returns the path of the stock `red` binary: $REDDB_BIN when set,
// otherwise the one scripts/ensure-reddb.sh cached. It never builds (a build
// takes 10 to 25 minutes, longer than a test may run); when nothing is built
// the test fails and says how to build it.
func Binary(t testing.TB) string {
	t.Helper()
	path, err := resolveTool(EnvBinary, "ensure-reddb.sh", "--no-build")
	if err != nil {
		t.Fatalf("reddbtest: no red binary: %v (run `make test-reddb` or scripts/ensure-reddb.sh)", err)
	}
	return path
}

// FaketimeLib returns the path of libfaketime.so.1: $FAKETIME_LIB when set,
// otherwise what scripts/ensure-faketime.sh fetches (once, into the user
// cache; a few seconds).
func FaketimeLib(t testing.TB) string {
	t.Helper()
	path, err := resolveTool(EnvFaketime, "ensure-faketime.sh")
	if err != nil {
		t.Fatalf("reddbtest: no libfaketime: %v", err)
	}
	return path
}

// toolCache remembers what the scripts printed, once per test binary.
var toolCache sync.Map // script name -> string path

func resolveTool(env, script string, args ...string) (string, error) {
	if p := os.Getenv(env); p != "" {
		if _, err := os.Stat(p); err != nil { //nolint:gosec // a path the developer chose for a test tool
			return "", fmt.Errorf("$%s: %w", env, err)
		}
		return p, nil
	}
	if p, ok := toolCache.Load(script); ok {
		return p.(string), nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("bash", append([]string{filepath.Join(root, "scripts", script)}, args...)...) //nolint:gosec // the module's own scripts
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("scripts/%s: %w: %s", script, err, strings.TrimSpace(stderr.String()))
	}
	p := strings.TrimSpace(stdout.String())
	if p == "" {
		return "", fmt.Errorf("scripts/%s printed no path", script)
	}
	toolCache.Store(script, p)
	return p, nil
}

// moduleRoot finds the directory of this module's go.mod from the working
// directory, which `go test` sets to the package's directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "scripts")); err == nil {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod with a scripts/ directory above the working directory")
		}
		dir = parent
	}
}
