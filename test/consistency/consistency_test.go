package consistency

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/redlease/redlease/internal/config"
	"github.com/redlease/redlease/internal/lambdafn"
	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/lease"
)

// tableRoutes flattens the routes of api.Routes that API Gateway serves
// (the lease API's; the RedDB face's function is reached through a
// function URL) to one "METHOD template -> function" line per method,
// sorted.
func tableRoutes() []string {
	var out []string
	for _, r := range api.Routes() {
		if r.Face() != api.FaceLease {
			continue
		}
		for _, m := range r.Methods {
			out = append(out, m+" "+r.Path+" -> "+r.Function)
		}
	}
	sort.Strings(out)
	return out
}

// equal reports a difference between two lists as what only one has.
func equal(t *testing.T, what string, got, want []string) {
	t.Helper()
	var extra, missing []string
	for _, g := range got {
		if !slices.Contains(want, g) {
			extra = append(extra, g)
		}
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			missing = append(missing, w)
		}
	}
	if len(extra) > 0 || len(missing) > 0 || len(got) != len(want) {
		t.Errorf("%s does not match the table:\n  only there: %q\n  only in the table: %q\n  got  %q\n  want %q",
			what, extra, missing, got, want)
	}
}

func infraStack(t *testing.T) *source {
	return readSource(t, filepath.Join(root, "infra", "stack"))
}

func TestInfraRoutesAreTheRouteTable(t *testing.T) {
	t.Parallel()
	s := infraStack(t)
	var got []string
	for _, r := range s.structs(t, "Routes", "Route") {
		fn, path := s.str(t, r["Function"]), s.str(t, r["Path"])
		for _, m := range s.strs(t, r["Methods"]) {
			got = append(got, m+" "+path+" -> "+fn)
		}
	}
	sort.Strings(got)
	equal(t, "infra/stack Routes", got, tableRoutes())
}

// The functions of the RedDB face's routes are the stack's function URL
// functions, and no API Gateway route reaches them.
func TestInfraURLFunctionsAreTheRedDBFace(t *testing.T) {
	t.Parallel()
	s := infraStack(t)
	var want []string
	for _, r := range api.Routes() {
		if r.Face() == api.FaceRedDB && !slices.Contains(want, r.Function) {
			want = append(want, r.Function)
		}
	}
	equal(t, "infra/stack URLFunctions", s.strs(t, s.value(t, "URLFunctions")), want)
	for _, r := range s.structs(t, "Routes", "Route") {
		if fn := s.str(t, r["Function"]); slices.Contains(want, fn) {
			t.Errorf("infra/stack Routes sends an API Gateway route to %s, which the stack serves by its function URL", fn)
		}
	}
}

// OpenAPI has no greedy parameter: "{database_key+}" is "{database_key}"
// there.
func TestOpenAPIPathsAreTheRouteTable(t *testing.T) {
	t.Parallel()
	doc, err := openapi3.NewLoader().LoadFromFile(filepath.Join(root, "api", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			got = append(got, method+" "+path)
		}
	}
	for _, r := range api.Routes() {
		for _, m := range r.Methods {
			want = append(want, m+" "+strings.ReplaceAll(r.Path, "+}", "}"))
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	equal(t, "api/openapi.yaml", got, want)
}

func TestFunctionsAreTheFoldersTheMakefileAndTheStack(t *testing.T) {
	t.Parallel()
	want := lambdafn.Functions()
	sorted := slices.Sorted(slices.Values(want))

	folders := subdirs(t, filepath.Join(root, "functions"))
	equal(t, "the functions/ folders", folders, sorted)
	for _, dir := range folders {
		if got := firstArgs(t, filepath.Join(root, "functions", dir), "lambdafn", "Start"); !slices.Equal(got, []string{dir}) {
			t.Errorf("functions/%s/main.go starts lambdafn.Start with %q, want exactly one lambdafn.Start(%q, ...)", dir, got, dir)
		}
	}

	s := infraStack(t)
	equal(t, "infra/stack FunctionNames", s.strs(t, s.value(t, "FunctionNames")), want)

	makeBin, err := exec.LookPath("make")
	if err != nil {
		t.Fatalf("the Makefile's FUNCTIONS needs make to evaluate: %v", err)
	}
	cmd := exec.Command(makeBin, "-s", "--no-print-directory", "-C", root,
		"--eval", "consistency-print-functions: ; @echo $(FUNCTIONS)", "consistency-print-functions")
	// Not the flags or variables of a make this test may run under.
	cmd.Env = append(os.Environ(), "MAKEFLAGS=", "MFLAGS=", "MAKELEVEL=")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("make: %v", err)
	}
	equal(t, "the Makefile's FUNCTIONS", strings.Fields(string(out)), sorted)
}

// Every REDLEASE_ name the stack writes into a function's environment must
// be one internal/config reads: a renamed variable on either side would
// otherwise deploy a function that silently runs on a default.
func TestInfraEnvironmentIsWhatConfigReads(t *testing.T) {
	t.Parallel()
	names := infraStack(t).literals("REDLEASE_")
	if len(names) == 0 {
		t.Fatal("infra/stack sets no REDLEASE_ variable; did the declaration move?")
	}
	for name, at := range names {
		if !slices.Contains(config.Vars(), name) {
			t.Errorf("infra/stack/%s sets %s, which internal/config does not read (it reads %q)", at, name, config.Vars())
		}
	}
}

func TestInfraDefaultPrefixIsTheServices(t *testing.T) {
	t.Parallel()
	s := infraStack(t)
	if got := s.str(t, s.value(t, "DefaultLeasePrefix")); got != lease.DefaultPrefix {
		t.Errorf("infra/stack DefaultLeasePrefix = %q, want lease.DefaultPrefix %q", got, lease.DefaultPrefix)
	}
}

// pkg/lease is the bottom layer: it imports the standard library,
// redlease's leaf helpers under pkg/internal and Unicode normalisation
// (keys must be NFC), nothing else (no AWS, no adapter, no wiring).
func TestLeaseImportsNothingAboveIt(t *testing.T) {
	t.Parallel()
	const module = "github.com/redlease/redlease/"
	allowed := map[string]bool{"golang.org/x/text/unicode/norm": true}
	for _, dir := range []string{"pkg/lease", "pkg/internal/jsonstr"} {
		for path, file := range imports(t, filepath.Join(root, filepath.FromSlash(dir))) {
			first, _, _ := strings.Cut(path, "/")
			own := strings.HasPrefix(path, module)
			if own && !strings.HasPrefix(path, module+"pkg/internal/") || !own && strings.Contains(first, ".") && !allowed[path] {
				t.Errorf("%s/%s imports %s: the domain imports only the standard library, pkg/internal and x/text's norm", dir, file, path)
			}
		}
	}
}
