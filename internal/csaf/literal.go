package csaf

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"
)

// A quickRe is a regular expression that knows strings one of which every
// match contains ("1756-l" for `\b1756-l([678])(\d)`), and does not search
// a text that has none of them. Matching a device runs some forty
// expressions over its names, and most of them cannot match.
type quickRe struct {
	*regexp.Regexp
	need []string // nil: every text is searched
}

// compileQuick compiles expr as regexp.Compile does and finds the strings
// its matches need.
func compileQuick(expr string) (quickRe, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return quickRe{}, err
	}
	q := quickRe{Regexp: re}
	if sre, err := syntax.Parse(expr, syntax.Perl); err == nil {
		if f := needed(sre.Simplify()); f.minLen() > 0 {
			q.need = f.alts
		}
	}
	return q, nil
}

// mustQuick is compileQuick for expressions known to be valid.
func mustQuick(expr string) quickRe {
	q, err := compileQuick(expr)
	if err != nil {
		panic(fmt.Sprintf("csaf: compiling %q: %v", expr, err))
	}
	return q
}

// possible reports whether s has one of the strings a match needs.
func (q quickRe) possible(s string) bool {
	if q.need == nil {
		return true
	}
	for _, n := range q.need {
		if strings.Contains(s, n) {
			return true
		}
	}
	return false
}

// MatchString is regexp.Regexp.MatchString.
func (q quickRe) MatchString(s string) bool {
	return q.possible(s) && q.Regexp.MatchString(s)
}

// FindString is regexp.Regexp.FindString.
func (q quickRe) FindString(s string) string {
	if !q.possible(s) {
		return ""
	}
	return q.Regexp.FindString(s)
}

// FindStringSubmatch is regexp.Regexp.FindStringSubmatch.
func (q quickRe) FindStringSubmatch(s string) []string {
	if !q.possible(s) {
		return nil
	}
	return q.Regexp.FindStringSubmatch(s)
}

// FindAllString is regexp.Regexp.FindAllString.
func (q quickRe) FindAllString(s string, n int) []string {
	if !q.possible(s) {
		return nil
	}
	return q.Regexp.FindAllString(s, n)
}

// FindAllStringSubmatch is regexp.Regexp.FindAllStringSubmatch.
func (q quickRe) FindAllStringSubmatch(s string, n int) [][]string {
	if !q.possible(s) {
		return nil
	}
	return q.Regexp.FindAllStringSubmatch(s, n)
}

// ReplaceAllString is regexp.Regexp.ReplaceAllString.
func (q quickRe) ReplaceAllString(src, repl string) string {
	if !q.possible(src) {
		return src
	}
	return q.Regexp.ReplaceAllString(src, repl)
}

// maxNeeded bounds the strings a factor lists.
const maxNeeded = 16

// A factor is a set of strings one of which every match of an expression
// contains; exact says the expression matches those strings and nothing
// else.
type factor struct {
	alts  []string
	exact bool
}

// anything is the factor that says nothing.
var anything = factor{alts: []string{""}}

func (f factor) minLen() int {
	n := -1
	for _, a := range f.alts {
		if n < 0 || len(a) < n {
			n = len(a)
		}
	}
	return max(n, 0)
}

// better reports whether f is the better filter: fewer strings when both
// have strings of three bytes or more ("750-82" rather than "750-820",
// ..., "750-829"), else longer strings, then fewer.
func (f factor) better(g factor) bool {
	fl, gl := f.minLen(), g.minLen()
	if fl >= 3 && gl >= 3 && len(f.alts) != len(g.alts) {
		return len(f.alts) < len(g.alts)
	}
	if fl != gl {
		return fl > gl
	}
	return len(f.alts) < len(g.alts)
}

// needed finds a factor of a parsed, simplified expression.
func needed(re *syntax.Regexp) factor {
	switch re.Op {
	case syntax.OpLiteral:
		// U+FFFD also matches a byte that is not UTF-8.
		if re.Flags&syntax.FoldCase != 0 || slices.Contains(re.Rune, utf8.RuneError) {
			return anything
		}
		return factor{alts: []string{string(re.Rune)}, exact: true}
	case syntax.OpCharClass:
		var alts []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				if len(alts) == maxNeeded || r == utf8.RuneError {
					return anything
				}
				alts = append(alts, string(r))
			}
		}
		return factor{alts: alts, exact: true}
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return factor{alts: []string{""}, exact: true}
	case syntax.OpCapture:
		return needed(re.Sub[0])
	case syntax.OpPlus:
		return factor{alts: needed(re.Sub[0]).alts}
	case syntax.OpRepeat:
		if re.Min == 0 {
			return anything
		}
		return factor{alts: needed(re.Sub[0]).alts}
	case syntax.OpAlternate:
		f := factor{exact: true}
		for _, sub := range re.Sub {
			g := needed(sub)
			if len(f.alts)+len(g.alts) > maxNeeded {
				return anything
			}
			f.alts = append(f.alts, g.alts...)
			f.exact = f.exact && g.exact
		}
		return f
	case syntax.OpConcat:
		// Neighbouring exact parts join into longer strings; the best of
		// these runs and of the inexact parts is the factor.
		best := anything
		run := factor{alts: []string{""}, exact: true}
		split := false
		for _, sub := range re.Sub {
			g := needed(sub)
			if g.exact && len(run.alts)*len(g.alts) <= maxNeeded {
				if len(g.alts) > 1 && run.better(best) {
					best = run // the strings so far are needed too
				}
				run.alts = cross(run.alts, g.alts)
				continue
			}
			split = true
			if run.better(best) {
				best = run
			}
			if g.better(best) {
				best = g
			}
			run = factor{alts: []string{""}, exact: true}
			if g.exact {
				run = g
			}
		}
		if !split && !best.better(run) {
			return run
		}
		if run.better(best) {
			best = run
		}
		return factor{alts: best.alts}
	}
	return anything
}

// cross joins every string of a with every string of b.
func cross(a, b []string) []string {
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = append(out, x+y)
		}
	}
	return out
}
