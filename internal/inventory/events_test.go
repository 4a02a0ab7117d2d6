package inventory

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"testing"
)

// TestEventTypesComplete checks that EventTypes lists every EventType
// constant declared in the package, so that nothing offering the list (the
// console's timeline filter) misses a new type.
func TestEventTypesComplete(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "events.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []EventType
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || vs.Type == nil {
			return true
		}
		if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "EventType" {
			return true
		}
		for _, v := range vs.Values {
			lit, ok := v.(*ast.BasicLit)
			if !ok {
				t.Fatalf("EventType constant with a value that is not a literal: %#v", v)
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			declared = append(declared, EventType(s))
		}
		return true
	})
	if len(declared) < 11 {
		t.Fatalf("found %d EventType constants in events.go, want at least 11", len(declared))
	}
	if !slices.Equal(declared, EventTypes) {
		t.Errorf("EventTypes = %v, declared constants %v", EventTypes, declared)
	}
}
