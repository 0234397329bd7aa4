package lambdastart

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/redlease/redlease/internal/lambdafn"
)

var repoRoot = filepath.Join("..", "..")

func TestFunctionsFromTheDeclarationOrAList(t *testing.T) {
	t.Parallel()
	if got := Functions(" acquire  sweep "); !slices.Equal(got, []string{"acquire", "sweep"}) {
		t.Errorf("Functions(list) = %v", got)
	}
	got := Functions("")
	if !slices.Equal(got, lambdafn.Functions()) {
		t.Errorf("Functions() = %v, want lambdafn.Functions() %v", got, lambdafn.Functions())
	}
	for _, fn := range got {
		if _, err := os.Stat(filepath.Join(repoRoot, "functions", fn, "main.go")); err != nil {
			t.Errorf("Functions() named %q: %v", fn, err)
		}
	}
}

// TestEveryFunctionHasAScenario keeps the scenarios in step with the
// functions the project builds.
func TestEveryFunctionHasAScenario(t *testing.T) {
	t.Parallel()
	for _, fn := range Functions("") {
		sc, err := scenarioFor(fn)
		if err != nil {
			t.Error(err)
			continue
		}
		if _, err := loadEvent(repoRoot, sc.event); err != nil {
			t.Errorf("%s: %v", fn, err)
		}
	}
	if _, err := scenarioFor("nope"); !errors.Is(err, errNoScenario) {
		t.Errorf("scenarioFor(nope) = %v, want errNoScenario", err)
	}
}

func TestWithKey(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"acquire.json", "refresh.json", "release.json", "lease-get.json"} {
		raw, err := loadEvent(repoRoot, name)
		if err != nil {
			t.Fatal(err)
		}
		out, err := withKey(raw, "bench/x/1")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var ev struct {
			Headers        map[string]string `json:"headers"`
			Body           string            `json:"body"`
			RawPath        string            `json:"rawPath"`
			PathParameters map[string]string `json:"pathParameters"`
		}
		if err := json.Unmarshal(out, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Body != "" {
			var b map[string]any
			if err := json.Unmarshal([]byte(ev.Body), &b); err != nil || b["database_key"] != "bench/x/1" {
				t.Errorf("%s: body %s", name, ev.Body)
			}
			if cl := ev.Headers["content-length"]; cl != "" && cl != strconv.Itoa(len(ev.Body)) {
				t.Errorf("%s: content-length %s for a %d-byte body", name, cl, len(ev.Body))
			}
			if b["holder_id"] != "reddb-0-1" {
				t.Errorf("%s: the rest of the body changed: %s", name, ev.Body)
			}
		} else if ev.RawPath != "/v1/leases/bench/x/1" || ev.PathParameters["database_key"] != "bench/x/1" {
			t.Errorf("%s: path %q, parameters %v", name, ev.RawPath, ev.PathParameters)
		}
	}
}

func TestCheckAnswer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fn, body string
		ok       bool
	}{
		{"acquire", `{"statusCode":200,"body":"{}"}`, true},
		{"acquire", `{"statusCode":409,"body":"{\"error\":{}}"}`, false},
		{"sweep", `{"listed":3}`, true},
		{"sweep", `{"errorMessage":"boom"}`, false},
		{"lease", `not json`, false},
	}
	for _, tc := range tests {
		if err := checkAnswer(tc.fn, []byte(tc.body)); (err == nil) != tc.ok {
			t.Errorf("checkAnswer(%s, %s) = %v, want ok=%v", tc.fn, tc.body, err, tc.ok)
		}
	}
}
