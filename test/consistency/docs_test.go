package consistency

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redlease/redlease/pkg/api"
)

func read(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// docs/api.md is the contract in words: every route of the table and
// every error code, with its status, must be in it, as they are in
// api/openapi.yaml.
func TestDocsNameEveryRouteAndCode(t *testing.T) {
	t.Parallel()
	doc := read(t, "docs/api.md")
	spec := read(t, "api/openapi.yaml")
	for _, r := range api.Routes() {
		for _, m := range r.Methods {
			if route := "`" + m + " " + r.Path + "`"; !strings.Contains(doc, route) {
				t.Errorf("docs/api.md does not list the route %s", route)
			}
		}
	}
	for code, status := range api.ErrorCodes() {
		if row := fmt.Sprintf("| %d | `%s` |", status, code); !strings.Contains(doc, row) {
			t.Errorf("docs/api.md's error table lacks %q", row)
		}
		if c := "const: " + code + " }"; !strings.Contains(spec, c) {
			t.Errorf("api/openapi.yaml has no error schema with %q", c)
		}
		if s := fmt.Sprintf(`"%d":`, status); !strings.Contains(spec, s) {
			t.Errorf("api/openapi.yaml never answers %s", s)
		}
	}
}
