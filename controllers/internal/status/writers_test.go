package status

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// statusImport is this package's import path.
const statusImport = "github.com/gatehouse-dev/gatehouse/controllers/internal/status"

// TestEveryStatusWriteGoesThroughAWriter reads the controllers' source:
// no code outside this package writes a status subresource itself (so
// every status write passes the registry check of Writer.apply), and
// every writer is made at package level (so its field manager is
// registered while the program initialises, before the cache transforms
// an object). A controller that writes status its own way, or makes its
// writer late, fails here.
func TestEveryStatusWriteGoesThroughAWriter(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	self, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	writers := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") ||
			filepath.Dir(path) == self {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		for _, call := range statusWrites(f) {
			t.Errorf("%s: %s writes a status subresource; write it with the controller's status.Writer", rel, call)
		}
		n, late := newWriterCalls(f)
		writers += n
		for _, fn := range late {
			t.Errorf("%s: %s makes a status.Writer; make it at package level (var writer = status.NewWriter(...)) so its field manager is registered before the cache starts", rel, fn)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// User, Group, License, Share, ResourceGrant, Connection, the User
	// credentials and Directory: the walk saw the controllers.
	if writers < 8 {
		t.Errorf("found %d status.NewWriter calls under %s, want at least 8", writers, root)
	}
}

// statusWrites returns the calls in f of a write of the status
// subresource: x.Status().Apply/Patch/Update/Create, or the same through
// x.SubResource("status").
func statusWrites(f *ast.File) []string {
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || !isWriteVerb(sel.Sel.Name) {
			return true
		}
		inner, ok := sel.X.(*ast.CallExpr)
		if !ok {
			return true
		}
		isel, ok := inner.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		switch {
		case isel.Sel.Name == "Status" && len(inner.Args) == 0:
			out = append(out, "Status()."+sel.Sel.Name)
		case isel.Sel.Name == "SubResource" && len(inner.Args) == 1:
			if lit, ok := inner.Args[0].(*ast.BasicLit); ok {
				if s, err := strconv.Unquote(lit.Value); err == nil && s == "status" {
					out = append(out, `SubResource("status").`+sel.Sel.Name)
				}
			}
		}
		return true
	})
	return out
}

func isWriteVerb(name string) bool {
	switch name {
	case "Apply", "Patch", "Update", "Create":
		return true
	}
	return false
}

// newWriterCalls counts the calls of this package's NewWriter in f, and
// names the functions that make one (rather than a package-level
// declaration).
func newWriterCalls(f *ast.File) (n int, late []string) {
	name := ""
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == statusImport {
			name = "status"
			if imp.Name != nil {
				name = imp.Name.Name
			}
		}
	}
	if name == "" {
		return 0, nil
	}
	isNewWriter := func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return false
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || sel.Sel.Name != "NewWriter" {
			return false
		}
		id, ok := sel.X.(*ast.Ident)
		return ok && id.Name == name
	}
	for _, decl := range f.Decls {
		fn, inFunc := decl.(*ast.FuncDecl)
		ast.Inspect(decl, func(node ast.Node) bool {
			if isNewWriter(node) {
				n++
				if inFunc {
					late = append(late, fn.Name.Name)
				}
			}
			return true
		})
	}
	return n, late
}
