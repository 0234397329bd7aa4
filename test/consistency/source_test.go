package consistency

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// root is the repository root, seen from this package.
var root = filepath.Join("..", "..")

// source is one Go package's top-level declarations, read from its files
// (tests left out), for a module this one cannot import.
type source struct {
	dir    string
	fset   *token.FileSet
	files  []*ast.File
	values map[string]ast.Expr        // const and var initialisers by name
	types  map[string]*ast.StructType // struct types by name
}

func readSource(t *testing.T, dir string) *source {
	t.Helper()
	s := &source{dir: dir, values: map[string]ast.Expr{}, types: map[string]*ast.StructType{}}
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no Go files in %s (%v)", dir, err)
	}
	fset := token.NewFileSet()
	s.fset = fset
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		s.files = append(s.files, f)
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, spec := range gd.Specs {
				switch sp := spec.(type) {
				case *ast.ValueSpec:
					for i, n := range sp.Names {
						if i < len(sp.Values) {
							s.values[n.Name] = sp.Values[i]
						}
					}
				case *ast.TypeSpec:
					if st, ok := sp.Type.(*ast.StructType); ok {
						s.types[sp.Name.Name] = st
					}
				}
			}
		}
	}
	return s
}

// value is the initialiser of a top-level name.
func (s *source) value(t *testing.T, name string) ast.Expr {
	t.Helper()
	v, ok := s.values[name]
	if !ok {
		t.Fatalf("%s declares no %s", s.dir, name)
	}
	return v
}

// str evaluates a string expression: a literal, a constant, a
// concatenation, or a CDK enum member (awsapigatewayv2.HttpMethod_POST is
// "POST", the member's name after its type's).
func (s *source) str(t *testing.T, e ast.Expr) string {
	t.Helper()
	switch e := e.(type) {
	case *ast.BasicLit:
		if v, err := strconv.Unquote(e.Value); err == nil && e.Kind == token.STRING {
			return v
		}
	case *ast.Ident:
		return s.str(t, s.value(t, e.Name))
	case *ast.BinaryExpr:
		if e.Op == token.ADD {
			return s.str(t, e.X) + s.str(t, e.Y)
		}
	case *ast.ParenExpr:
		return s.str(t, e.X)
	case *ast.SelectorExpr:
		if _, member, ok := strings.Cut(e.Sel.Name, "_"); ok {
			return member
		}
	}
	t.Fatalf("%s: cannot evaluate %T as a string", s.dir, e)
	return ""
}

// strs evaluates a slice of strings, given as a literal or by name.
func (s *source) strs(t *testing.T, e ast.Expr) []string {
	t.Helper()
	if id, ok := e.(*ast.Ident); ok {
		e = s.value(t, id.Name)
	}
	lit, ok := e.(*ast.CompositeLit)
	if !ok {
		t.Fatalf("%s: %T is not a slice literal", s.dir, e)
	}
	out := make([]string, 0, len(lit.Elts))
	for _, el := range lit.Elts {
		out = append(out, s.str(t, el))
	}
	return out
}

// structs evaluates `var name = []T{...}` into one field map per element,
// whether the elements name their fields or list them in T's order.
func (s *source) structs(t *testing.T, name, typ string) []map[string]ast.Expr {
	t.Helper()
	lit, ok := s.value(t, name).(*ast.CompositeLit)
	st := s.types[typ]
	if !ok || st == nil {
		t.Fatalf("%s: %s is not a literal of []%s", s.dir, name, typ)
	}
	var fields []string
	for _, f := range st.Fields.List {
		for _, n := range f.Names {
			fields = append(fields, n.Name)
		}
	}
	var out []map[string]ast.Expr
	for _, el := range lit.Elts {
		row, ok := el.(*ast.CompositeLit)
		if !ok {
			t.Fatalf("%s: an element of %s is %T", s.dir, name, el)
		}
		m := map[string]ast.Expr{}
		for i, v := range row.Elts {
			if kv, ok := v.(*ast.KeyValueExpr); ok {
				m[kv.Key.(*ast.Ident).Name] = kv.Value
			} else if i < len(fields) {
				m[fields[i]] = v
			}
		}
		out = append(out, m)
	}
	return out
}

// literals returns every string literal in the package that starts with
// prefix, with where it stands (file:line).
func (s *source) literals(prefix string) map[string]string {
	out := map[string]string{}
	for _, f := range s.files {
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if v, err := strconv.Unquote(lit.Value); err == nil && strings.HasPrefix(v, prefix) {
					pos := s.fset.Position(lit.Pos())
					out[v] = filepath.Base(pos.Filename) + ":" + strconv.Itoa(pos.Line)
				}
			}
			return true
		})
	}
	return out
}

// firstArgs returns the first argument of every call pkg.fn(...) in the
// Go files of dir, when it is a string literal.
func firstArgs(t *testing.T, dir, pkg, fn string) []string {
	t.Helper()
	var args []string
	for _, f := range readSource(t, dir).files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if x, isIdent := sel.X.(*ast.Ident); !ok || !isIdent || x.Name != pkg || sel.Sel.Name != fn {
				return true
			}
			arg := "<not a string literal>"
			if len(call.Args) > 0 {
				if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					arg, _ = strconv.Unquote(lit.Value)
				}
			}
			args = append(args, arg)
			return true
		})
	}
	return args
}

// imports lists the import paths of the non-test Go files in dir.
func imports(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	names, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			out[p] = filepath.Base(name)
		}
	}
	return out
}

// subdirs lists the directories directly under dir.
func subdirs(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}
