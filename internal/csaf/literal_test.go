package csaf

import (
	"slices"
	"strings"
	"testing"
)

// TestNeeded checks the strings found for expressions.
func TestNeeded(t *testing.T) {
	tests := []struct {
		expr string
		want []string // nil: no filter
	}{
		{`\b1756-l([678])(\d)([a-z0-9]*)`, []string{"1756-l"}},
		{`\b1783-(bms|hms|ims|ms|rms|sad|wap)\d`, []string{"1783-"}},
		{`\b6(es7|ag1)\s?([2345])(1)\d`, []string{"6es7", "6ag1"}},
		{`\btm(221|241|251)`, []string{"tm221", "tm241", "tm251"}},
		{`\b750-82\d\d`, []string{"750-82"}},
		{`\bfx5u[cj]?-`, []string{"fx5u"}},
		{`\bbm[xe]\s?p34`, []string{"p34"}},
		{`(\d|\))\s+cpu\b`, []string{"cpu"}},
		{`\b(nae|nie|nce)-?(\d{2})\d*`, []string{"nae", "nie", "nce"}},
		{`\bcontaining\s+(?:the\s+)?\S+`, []string{"containing"}},
		{`abc|x`, []string{"abc", "x"}},
		{`(?i)\bfw\s?\d`, strings.Split("0123456789", "")},
		{`(?i)fw`, nil},
		{`^[a-z]{2,}$`, nil},
		{`a*`, nil},
		{`a?b?`, nil},
		{`.`, nil},
		{`x|y*`, nil},
		{"a\uFFFD", nil},
	}
	for _, tt := range tests {
		q := mustQuick(tt.expr)
		if !slices.Equal(q.need, tt.want) {
			t.Errorf("%s: need %q, want %q", tt.expr, q.need, tt.want)
		}
	}
}

// quickExprs are the expressions the package filters.
func quickExprs() []quickRe {
	out := []quickRe{mlfbRe, s7Re, et2Re, specRe, containingRe, cpuSuffixRe, fwIndexOfRe}
	for _, r := range familyRules {
		out = append(out, r.re)
	}
	return out
}

// TestQuickNames runs the package's filtered expressions over the product
// names of the shared advisories and the labeled inventories: no text
// with a match may be filtered out.
func TestQuickNames(t *testing.T) {
	seen := map[string]bool{}
	var texts []string
	add := func(s string) {
		if s = strings.ToLower(s); !seen[s] {
			seen[s] = true
			texts = append(texts, s)
		}
	}
	for _, a := range sharedCatalog(t).Advisories {
		for _, p := range a.Products {
			add(p.Name)
		}
	}
	for _, file := range []string{"testdata/inventory.txt", "testdata/inventory-2.txt"} {
		for _, d := range readInventory(t, file) {
			add(d.dev.Model + " ; " + d.dev.Product + " ; " + d.dev.ProductCode)
		}
	}
	matched := 0
	for _, q := range quickExprs() {
		for _, s := range texts {
			if !q.Regexp.MatchString(s) {
				continue
			}
			matched++
			if !q.possible(s) {
				t.Errorf("%s matches %q, which the filter %q rules out", q, s, q.need)
			}
		}
	}
	if matched == 0 {
		t.Error("no expression matched any name")
	}
}

// FuzzQuick checks on arbitrary expressions and texts that a text with a
// match is never filtered out.
func FuzzQuick(f *testing.F) {
	for _, q := range quickExprs() {
		f.Add(q.String(), "cpu 1756-l83e 6es7 315-2eh14-0ab0 scalance x208 (12)")
	}
	f.Add(`a(b|cd)e?f+`, "xxabfff")
	f.Add("a\uFFFDb", "a\xffb")
	f.Fuzz(func(t *testing.T, expr, s string) {
		q, err := compileQuick(expr)
		if err != nil {
			return
		}
		if q.Regexp.MatchString(s) && !q.possible(s) {
			t.Errorf("%q matches %q, which the filter %q rules out", expr, s, q.need)
		}
	})
}
