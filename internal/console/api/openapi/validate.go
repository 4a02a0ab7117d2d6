package openapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// maxErrors bounds how many problems one Validate reports.
const maxErrors = 20

// ValidationError lists what is wrong with a value, each problem prefixed
// with the JSON path it is at ("$.alerts[3].severity").
type ValidationError struct {
	Problems []string
}

// Error joins the problems.
func (e *ValidationError) Error() string { return strings.Join(e.Problems, "; ") }

// ValidateJSON decodes data and validates it against s, resolving
// references in d.
func (d *Document) ValidateJSON(s *Schema, data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("openapi: not JSON: %w", err)
	}
	if _, err := dec.Token(); err == nil {
		return errors.New("openapi: more than one JSON value")
	}
	return d.Validate(s, v)
}

// Validate checks v, a value as json.Decoder gives it (numbers as
// json.Number or float64), against s. It returns a *ValidationError, or
// an error when the schema itself is unusable (a dangling reference, a
// bad pattern).
func (d *Document) Validate(s *Schema, v any) error {
	vs := &validator{doc: d}
	if err := vs.check(s, v, "$", 0); err != nil {
		return err
	}
	if len(vs.problems) > 0 {
		return &ValidationError{Problems: vs.problems}
	}
	return nil
}

type validator struct {
	doc      *Document
	problems []string
}

func (vs *validator) fail(path, format string, args ...any) {
	if len(vs.problems) < maxErrors {
		vs.problems = append(vs.problems, path+": "+fmt.Sprintf(format, args...))
	}
}

// Resolve follows a reference to its component schema.
func (d *Document) Resolve(s *Schema) (*Schema, error) {
	for depth := 0; s.Ref != ""; depth++ {
		name := s.RefName()
		t := d.Components.Schemas[name]
		if name == "" || t == nil || depth > 32 {
			return nil, fmt.Errorf("openapi: unresolvable reference %q", s.Ref)
		}
		s = t
	}
	return s, nil
}

func (vs *validator) check(s *Schema, v any, path string, depth int) error {
	if depth > 64 {
		return fmt.Errorf("openapi: %s: schema nested too deeply", path)
	}
	s, err := vs.doc.Resolve(s)
	if err != nil {
		return err
	}
	if v == nil && s.Nullable {
		return nil
	}
	if len(s.OneOf) > 0 {
		return vs.oneOf(s, v, path, depth)
	}
	if v == nil {
		vs.fail(path, "null is not allowed")
		return nil
	}
	if len(s.Enum) > 0 && !slices.ContainsFunc(s.Enum, func(e any) bool { return equal(e, v) }) {
		vs.fail(path, "%s is not one of %v", short(v), s.Enum)
	}
	switch s.Type {
	case "":
		return nil
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			vs.fail(path, "want object, got %s", kind(v))
			return nil
		}
		return vs.object(s, m, path, depth)
	case "array":
		a, ok := v.([]any)
		if !ok {
			vs.fail(path, "want array, got %s", kind(v))
			return nil
		}
		if s.MinItems != nil && len(a) < *s.MinItems {
			vs.fail(path, "%d items, want at least %d", len(a), *s.MinItems)
		}
		if s.MaxItems != nil && len(a) > *s.MaxItems {
			vs.fail(path, "%d items, want at most %d", len(a), *s.MaxItems)
		}
		if s.Items != nil {
			for i, e := range a {
				if err := vs.check(s.Items, e, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
					return err
				}
			}
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			vs.fail(path, "want string, got %s", kind(v))
			return nil
		}
		return vs.str(s, str, path)
	case "integer", "number":
		f, ok := number(v)
		if !ok {
			vs.fail(path, "want %s, got %s", s.Type, kind(v))
			return nil
		}
		if s.Type == "integer" && f != math.Trunc(f) {
			vs.fail(path, "want integer, got %v", f)
		}
		if s.Minimum != nil && f < *s.Minimum {
			vs.fail(path, "%v is less than %v", f, *s.Minimum)
		}
		if s.Maximum != nil && f > *s.Maximum {
			vs.fail(path, "%v is more than %v", f, *s.Maximum)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			vs.fail(path, "want boolean, got %s", kind(v))
		}
	default:
		return fmt.Errorf("openapi: %s: unsupported schema type %q", path, s.Type)
	}
	return nil
}

func (vs *validator) oneOf(s *Schema, v any, path string, depth int) error {
	matched := 0
	for _, alt := range s.OneOf {
		sub := &validator{doc: vs.doc}
		if err := sub.check(alt, v, path, depth+1); err != nil {
			return err
		}
		if len(sub.problems) == 0 {
			matched++
		}
	}
	if matched != 1 {
		vs.fail(path, "matches %d of the oneOf alternatives, want exactly 1", matched)
	}
	return nil
}

func (vs *validator) object(s *Schema, m map[string]any, path string, depth int) error {
	for _, r := range s.Required {
		if _, ok := m[r]; !ok {
			vs.fail(path, "missing required property %q", r)
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		sub := path + "." + k
		if ps, ok := s.Properties[k]; ok {
			if err := vs.check(ps, m[k], sub, depth+1); err != nil {
				return err
			}
			continue
		}
		switch ap := s.AdditionalProperties.(type) {
		case nil:
		case bool:
			if !ap {
				vs.fail(path, "unknown property %q", k)
			}
		case *Schema:
			if err := vs.check(ap, m[k], sub, depth+1); err != nil {
				return err
			}
		default:
			return fmt.Errorf("openapi: %s: additionalProperties of type %T", path, ap)
		}
	}
	return nil
}

var (
	patternMu sync.Mutex
	patterns  = map[string]*regexp.Regexp{}
)

func compile(p string) (*regexp.Regexp, error) {
	patternMu.Lock()
	defer patternMu.Unlock()
	if re, ok := patterns[p]; ok {
		return re, nil
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, fmt.Errorf("openapi: bad pattern %q: %w", p, err)
	}
	patterns[p] = re
	return re, nil
}

func (vs *validator) str(s *Schema, str, path string) error {
	n := utf8.RuneCountInString(str)
	if s.MinLength != nil && n < *s.MinLength {
		vs.fail(path, "%d characters, want at least %d", n, *s.MinLength)
	}
	if s.MaxLength != nil && n > *s.MaxLength {
		vs.fail(path, "%d characters, want at most %d", n, *s.MaxLength)
	}
	if s.Pattern != "" {
		re, err := compile(s.Pattern)
		if err != nil {
			return err
		}
		if !re.MatchString(str) {
			vs.fail(path, "%s does not match %s", short(str), s.Pattern)
		}
	}
	if s.Format == "date-time" {
		if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
			vs.fail(path, "%s is not an RFC 3339 date-time", short(str))
		}
	}
	return nil
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}

func equal(a, b any) bool {
	if fa, ok := number(a); ok {
		fb, ok := number(b)
		return ok && fa == fb
	}
	return a == b
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number, float64, int, int64:
		return "number"
	}
	return fmt.Sprintf("%T", v)
}

func short(v any) string {
	s := fmt.Sprintf("%q", fmt.Sprint(v))
	if len(s) > 60 {
		s = s[:57] + "...\""
	}
	return s
}
