package lambdastart

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/redlease/redlease/internal/lambdafn"
	"github.com/redlease/redlease/pkg/api"
)

// Functions is the one place the benchmark learns which Lambda functions
// exist: the project's declaration, lambdafn.Functions (the route table's
// functions, then the sweep), unless list (-functions) names some.
func Functions(list string) []string {
	if fns := strings.Fields(list); len(fns) > 0 {
		return fns
	}
	return lambdafn.Functions()
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

// scenarios drive a function by the operation it serves (api.OpsOf, the
// route table), so a new function for a known operation needs nothing here.
var scenarios = map[api.Op]scenario{
	api.OpAcquire: {event: "acquire.json", perKey: true},
	api.OpRefresh: {event: "refresh.json", perKey: true, held: true},
	api.OpRelease: {event: "release.json", perKey: true, held: true},
	api.OpGet:     {event: "lease-get.json", perKey: true, held: true},
	// The break-glass release takes a held lease whatever its holder.
	api.OpForceRelease: {event: "force-release.json", perKey: true, held: true},
	// RedDB's HEAD of a lease object, as it starts every lease operation.
	// The sample's token is in no tokens document, so the answer is a 401
	// after the same start-up; a start-up that fails still fails the run.
	api.OpRedDBObject: {event: "reddb-head-lease.json"},
}

var sweepScenario = scenario{event: "sweep-scheduled.json"}

// errNoScenario names a function the benchmark does not know how to drive.
var errNoScenario = errors.New("no benchmark scenario: add one to bench/lambdastart/scenarios.go")

func scenarioFor(fn string) (scenario, error) {
	if fn == lambdafn.FnSweep {
		return sweepScenario, nil
	}
	ops := api.OpsOf(fn)
	if len(ops) != 1 {
		return scenario{}, fmt.Errorf("function %q serves %d operations: %w", fn, len(ops), errNoScenario)
	}
	s, ok := scenarios[ops[0]]
	if !ok {
		return scenario{}, fmt.Errorf("function %q (operation %s): %w", fn, ops[0], errNoScenario)
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
		if oldKey, has := pp["database_key"].(string); has {
			pp["database_key"] = key
			// The key is the path's tail, whatever the route.
			raw, _ := ev["rawPath"].(string)
			path := strings.TrimSuffix(raw, oldKey) + key
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
	if sc, _ := scenarioFor(fn); sc.perKey && ans.StatusCode != 200 {
		return fmt.Errorf("%s answered %d: %s", fn, ans.StatusCode, ans.Body)
	}
	return nil
}
