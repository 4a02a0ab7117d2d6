package lint

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// root is the repository root, two levels above this package.
const root = "../.."

// packages returns every directory under root holding non-test Go files.
func packages(t *testing.T) map[string][]*ast.File {
	t.Helper()
	fset := token.NewFileSet()
	pkgs := map[string][]*ast.File{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		dir := filepath.Dir(path)
		pkgs[dir] = append(pkgs[dir], f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

func TestPackageComments(t *testing.T) {
	for dir, files := range packages(t) {
		ok := false
		for _, f := range files {
			if f.Doc != nil && strings.TrimSpace(f.Doc.Text()) != "" {
				ok = true
			}
		}
		if !ok {
			t.Errorf("%s: package has no package comment (put one in doc.go)", dir)
		}
	}
}

func TestExportedDocComments(t *testing.T) {
	for dir, files := range packages(t) {
		if strings.HasSuffix(filepath.ToSlash(dir), "cmd/otwatch") {
			continue // package main exports nothing
		}
		for _, f := range files {
			for _, decl := range f.Decls {
				switch d := decl.(type) {
				case *ast.FuncDecl:
					if !d.Name.IsExported() || (d.Recv != nil && !exportedRecv(d.Recv)) {
						continue
					}
					checkDoc(t, dir, d.Name.Name, d.Doc)
				case *ast.GenDecl:
					for _, spec := range d.Specs {
						switch s := spec.(type) {
						case *ast.TypeSpec:
							if s.Name.IsExported() {
								doc := s.Doc
								if doc == nil {
									doc = d.Doc
								}
								checkDoc(t, dir, s.Name.Name, doc)
							}
						case *ast.ValueSpec:
							for _, n := range s.Names {
								if !n.IsExported() {
									continue
								}
								// A documented const/var group covers its members.
								if s.Doc == nil && s.Comment == nil && d.Doc == nil {
									t.Errorf("%s: %s has no doc comment", dir, n.Name)
								}
							}
						}
					}
				}
			}
		}
	}
}

func exportedRecv(fl *ast.FieldList) bool {
	if len(fl.List) == 0 {
		return false
	}
	typ := fl.List[0].Type
	for {
		switch x := typ.(type) {
		case *ast.StarExpr:
			typ = x.X
		case *ast.IndexExpr:
			typ = x.X
		case *ast.IndexListExpr:
			typ = x.X
		case *ast.Ident:
			return x.IsExported()
		default:
			return true
		}
	}
}

func checkDoc(t *testing.T, dir, name string, doc *ast.CommentGroup) {
	t.Helper()
	if doc == nil || strings.TrimSpace(doc.Text()) == "" {
		t.Errorf("%s: %s has no doc comment", dir, name)
		return
	}
	text := doc.Text()
	first := strings.Fields(text)[0]
	if first != name && first != "A" && first != "An" && first != "The" && first != "Deprecated:" {
		t.Errorf("%s: doc comment of %s should start with its name, starts %q", dir, name, first)
	}
}

// TestDissectorsLinked fails when a dissector package is not imported by
// internal/dissect/all, so a new protocol cannot be forgotten.
func TestDissectorsLinked(t *testing.T) {
	all, err := os.ReadFile(filepath.Join(root, "internal/dissect/all/all.go"))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(root, "internal/dissect"))
	if err != nil {
		t.Fatal(err)
	}
	notDissectors := map[string]bool{"all": true, "dissecttest": true, "service": true, "tpkt": true, "cip": true, "internal": true} // libraries and tools, not dissectors
	for _, e := range entries {
		if !e.IsDir() || notDissectors[e.Name()] {
			continue
		}
		imp := `"github.com/otwatch/otwatch/internal/dissect/` + e.Name() + `"`
		if !strings.Contains(string(all), imp) {
			t.Errorf("internal/dissect/%s is not imported by internal/dissect/all", e.Name())
		}
	}
}
