package lambdastart

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Functions is the one place the benchmark learns which Lambda functions
// exist: list is the Makefile's FUNCTIONS (make passes it as -functions),
// the same list `make lambdas` builds; with no list, the directories under
// functions/ that hold a main.go. When the project gains one route and
// function table, read it here.
func Functions(list, repoRoot string) ([]string, error) {
	if fns := strings.Fields(list); len(fns) > 0 {
		return fns, nil
	}
	mains, err := filepath.Glob(filepath.Join(repoRoot, "functions", "*", "main.go"))
	if err != nil {
		return nil, err
	}
	var fns []string
	for _, m := range mains {
		fns = append(fns, filepath.Base(filepath.Dir(m)))
	}
	if len(fns) == 0 {
		return nil, fmt.Errorf("no functions/*/main.go under %s", repoRoot)
	}
	slices.Sort(fns)
	return fns, nil
}

// scenario is how one function is driven: the sample event it gets, and
// whether the key it names must hold a lease first.
type scenario struct {
	event string // file under events/
	// perKey events name a database key, set to a fresh one per invoke so
	// that every invoke does the same storage work.
	perKey bool
	// held: the key holds a lease of reddb-0-1 at generation 1 (what the
	// sample events refresh, release and read).
	held bool
}

var scenarios = map[string]scenario{
	"acquire": {event: "acquire.json", perKey: true},
	"refresh": {event: "refresh.json", perKey: true, held: true},
	"release": {event: "release.json", perKey: true, held: true},
	"lease":   {event: "lease-get.json", perKey: true, held: true},
	"sweep":   {event: "sweep-scheduled.json"},
}

// errNoScenario names a function the benchmark does not know how to drive.
var errNoScenario = errors.New("no benchmark scenario: add one to bench/lambdastart/scenarios.go")

func scenarioFor(fn string) (scenario, error) {
	s, ok := scenarios[fn]
	if !ok {
		return scenario{}, fmt.Errorf("function %q: %w", fn, errNoScenario)
	}
	return s, nil
}

// loadEvent reads a sample event from events/.
func loadEvent(repoRoot, name string) ([]byte, error) {
	return os.ReadFile(filepath.Join(repoRoot, "events", name))
}

// withKey rewrites an API Gateway event to name database key key: in the
// JSON body (and its content-length header), or in the path of a GET.
func withKey(event []byte, key string) ([]byte, error) {
	var ev map[string]any
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, fmt.Errorf("event: %w", err)
	}
	if body, ok := ev["body"].(string); ok && body != "" {
		var b map[string]any
		if err := json.Unmarshal([]byte(body), &b); err != nil {
			return nil, fmt.Errorf("event body: %w", err)
		}
		b["database_key"] = key
		nb, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		ev["body"] = string(nb)
		if h, ok := ev["headers"].(map[string]any); ok {
			if _, has := h["content-length"]; has {
				h["content-length"] = strconv.Itoa(len(nb))
			}
		}
	}
	if pp, ok := ev["pathParameters"].(map[string]any); ok {
		if _, has := pp["database_key"]; has {
			pp["database_key"] = key
			path := "/v1/leases/" + key
			ev["rawPath"] = path
			if rc, ok := ev["requestContext"].(map[string]any); ok {
				if h, ok := rc["http"].(map[string]any); ok {
					h["path"] = path
				}
			}
		}
	}
	return json.Marshal(ev)
}

// checkAnswer reports a function's failure: an API response must be 200,
// anything must be free of the runtime's errorMessage.
func checkAnswer(fn string, body []byte) error {
	var ans struct {
		StatusCode   int    `json:"statusCode"`
		Body         string `json:"body"`
		ErrorMessage string `json:"errorMessage"`
	}
	if err := json.Unmarshal(body, &ans); err != nil {
		return fmt.Errorf("%s answered %q: %w", fn, body, err)
	}
	if ans.ErrorMessage != "" {
		return fmt.Errorf("%s failed: %s", fn, ans.ErrorMessage)
	}
	if sc := scenarios[fn]; sc.perKey && ans.StatusCode != 200 {
		return fmt.Errorf("%s answered %d: %s", fn, ans.StatusCode, ans.Body)
	}
	return nil
}
