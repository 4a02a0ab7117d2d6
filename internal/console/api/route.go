package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/otwatch/otwatch/internal/console/api/openapi"
	"github.com/otwatch/otwatch/internal/store"
)

// route is one endpoint: how it is reached, who may call it, what it
// takes and gives, and its handler. The OpenAPI document is made from
// these.
type route struct {
	method  string
	path    string // under Prefix, with {name} wildcards
	id      string // operationId
	tag     string
	summary string // imperative, lower-case start after the first word ("List alerts")
	desc    string
	role    store.Role // least role allowed; ignored when public
	public  bool       // needs no authentication
	// pathParams gives the schema of path wildcards that are not plain
	// strings.
	pathParams map[string]*openapi.Schema
	query      []*openapi.Parameter
	body       *openapi.Schema // JSON request body, nil for none
	status     int             // success status; 200 when 0
	resp       *openapi.Schema // JSON success body; nil with 204 or media
	media      map[string]*openapi.Schema
	h          func(*call) (any, error)
}

// changes reports whether the route's method changes state.
func (rt *route) changes() bool {
	return rt.method != http.MethodGet && rt.method != http.MethodHead
}

var wildcard = regexp.MustCompile(`\{([a-z_]+)\}`)

// pathNames returns the wildcards of the route's path.
func (rt *route) pathNames() []string {
	var out []string
	for _, m := range wildcard.FindAllStringSubmatch(rt.path, -1) {
		out = append(out, m[1])
	}
	return out
}

// pathSchema returns the schema of path wildcard name.
func (rt *route) pathSchema(name string) *openapi.Schema {
	if s := rt.pathParams[name]; s != nil {
		return s
	}
	return openapi.String().Len(1, 200)
}

// Query parameter constructors.

// one declares a query parameter given at most once.
func one(name, desc string, s *openapi.Schema) *openapi.Parameter {
	return &openapi.Parameter{Name: name, In: "query", Description: desc, Schema: s}
}

// many declares a repeatable query parameter (?a=1&a=2), whose values are
// alternatives.
func many(name, desc string, item *openapi.Schema) *openapi.Parameter {
	return &openapi.Parameter{Name: name, In: "query", Description: desc + " Repeat for several values (any of them matches).",
		Schema: openapi.Array(item).Count(0, store.MaxValues), Explode: new(true)}
}

// checkParams validates the path wildcards and query parameters of r
// against the route's declarations: an unknown query parameter, a
// repeated single one, or a value its schema rejects is a 400. Empty
// query values are ignored, as HTML forms send them for "any".
func (a *API) checkParams(rt *route, r *http.Request) error {
	for _, name := range rt.pathNames() {
		if err := a.checkValue(rt.pathSchema(name), "path parameter "+name, r.PathValue(name)); err != nil {
			return err
		}
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return badRequest("malformed query string: %v", err)
	}
	for key, vals := range q {
		i := slices.IndexFunc(rt.query, func(p *openapi.Parameter) bool { return p.Name == key })
		if i < 0 {
			return badRequest("unknown query parameter %q%s", clip(key), known(rt))
		}
		p := rt.query[i]
		vals = slices.DeleteFunc(vals, func(v string) bool { return v == "" })
		s := p.Schema
		if s.Type == "array" {
			if s.MaxItems != nil && len(vals) > *s.MaxItems {
				return badRequest("query parameter %s: %d values (at most %d)", key, len(vals), *s.MaxItems)
			}
			s = s.Items
		} else if len(vals) > 1 {
			return badRequest("query parameter %s given %d times (once at most)", key, len(vals))
		}
		for _, v := range vals {
			if err := a.checkValue(s, "query parameter "+key, v); err != nil {
				return err
			}
		}
	}
	for _, p := range rt.query {
		if p.Required && q.Get(p.Name) == "" {
			return badRequest("query parameter %s is required", p.Name)
		}
	}
	return nil
}

func known(rt *route) string {
	if len(rt.query) == 0 {
		return " (this endpoint takes none)"
	}
	names := make([]string, len(rt.query))
	for i, p := range rt.query {
		names[i] = p.Name
	}
	return " (known: " + strings.Join(names, ", ") + ")"
}

// checkValue checks one parameter value against its scalar schema.
func (a *API) checkValue(s *openapi.Schema, what, raw string) error {
	var v any = raw
	switch s.Type {
	case "integer":
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return badRequest("%s: %q is not an integer", what, clip(raw))
		}
		v = n
	case "boolean":
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return badRequest("%s: %q is not true or false", what, clip(raw))
		}
		v = b
	}
	if err := a.doc.Validate(s, v); err != nil {
		var ve *openapi.ValidationError
		if errors.As(err, &ve) {
			return badRequest("%s: %s", what, strings.TrimPrefix(ve.Problems[0], "$: "))
		}
		return fmt.Errorf("api: checking %s: %w", what, err)
	}
	return nil
}

// clip shortens s for messages.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "?")
	if r := []rune(s); len(r) > 64 {
		return string(r[:64]) + "…"
	}
	return s
}

// Typed access to checked parameters.

// query returns the first non-empty value of a query parameter.
func (c *call) query(name string) string {
	if v := c.queryAll(name); len(v) > 0 {
		return v[0]
	}
	return ""
}

func (c *call) queryAll(name string) []string {
	return slices.DeleteFunc(c.r.URL.Query()[name], func(v string) bool { return v == "" })
}

func (c *call) queryInt(name string) int {
	n, _ := strconv.Atoi(c.query(name))
	return n
}

func (c *call) queryBool(name string) *bool {
	v := c.query(name)
	if v == "" {
		return nil
	}
	b, _ := strconv.ParseBool(v)
	return &b
}

func (c *call) pathInt(name string) int64 {
	n, _ := strconv.ParseInt(c.r.PathValue(name), 10, 64)
	return n
}
