package openapi

import (
	"encoding/json"
	"strings"
)

// Version is the OpenAPI version documents declare.
const Version = "3.0.3"

// Document is an OpenAPI document.
type Document struct {
	OpenAPI    string                `json:"openapi"`
	Info       Info                  `json:"info"`
	Servers    []Server              `json:"servers,omitempty"`
	Paths      map[string]PathItem   `json:"paths"`
	Components Components            `json:"components"`
	Security   []SecurityRequirement `json:"security,omitempty"`
	Tags       []Tag                 `json:"tags,omitempty"`
}

// Info describes the API.
type Info struct {
	Title       string `json:"title"`
	Version     string `json:"version"`
	Description string `json:"description,omitempty"`
}

// Server is a base URL of the API.
type Server struct {
	URL string `json:"url"`
}

// Tag groups operations.
type Tag struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// PathItem holds the operations of one path, keyed by lower-case HTTP
// method ("get", "post"...).
type PathItem map[string]*Operation

// SecurityRequirement names the security schemes an operation accepts.
type SecurityRequirement map[string][]string

// Operation is one method on one path.
type Operation struct {
	OperationID string                `json:"operationId"`
	Summary     string                `json:"summary"`
	Description string                `json:"description,omitempty"`
	Tags        []string              `json:"tags,omitempty"`
	Parameters  []*Parameter          `json:"parameters,omitempty"`
	RequestBody *RequestBody          `json:"requestBody,omitempty"`
	Responses   map[string]*Response  `json:"responses"`
	Security    []SecurityRequirement `json:"security,omitempty"`
	// Public marks an operation that needs no authentication; it is
	// encoded as an empty security list.
	Public bool `json:"-"`
	// Role is the least console role allowed to call the operation
	// (extension x-otwatch-role).
	Role string `json:"x-otwatch-role,omitempty"`
}

// MarshalJSON encodes the operation, with "security": [] when it is
// public.
func (o *Operation) MarshalJSON() ([]byte, error) {
	type plain Operation
	if !o.Public {
		return json.Marshal((*plain)(o))
	}
	return json.Marshal(struct {
		*plain
		Security []SecurityRequirement `json:"security"`
	}{(*plain)(o), []SecurityRequirement{}})
}

// Parameter is a path or query parameter.
type Parameter struct {
	Name        string  `json:"name"`
	In          string  `json:"in"` // "path" or "query"
	Description string  `json:"description,omitempty"`
	Required    bool    `json:"required,omitempty"`
	Schema      *Schema `json:"schema"`
	// Explode is set for repeatable query parameters (?a=1&a=2).
	Explode *bool `json:"explode,omitempty"`
}

// RequestBody describes the body an operation takes.
type RequestBody struct {
	Required bool                 `json:"required"`
	Content  map[string]MediaType `json:"content"`
}

// Response is one possible response of an operation.
type Response struct {
	Description string               `json:"description"`
	Content     map[string]MediaType `json:"content,omitempty"`
}

// MediaType holds the schema of one content type.
type MediaType struct {
	Schema *Schema `json:"schema"`
}

// Components holds reusable schemas and the security schemes.
type Components struct {
	Schemas         map[string]*Schema         `json:"schemas"`
	SecuritySchemes map[string]*SecurityScheme `json:"securitySchemes,omitempty"`
}

// SecurityScheme describes one way to authenticate.
type SecurityScheme struct {
	Type        string `json:"type"`             // "http", "apiKey"
	Scheme      string `json:"scheme,omitempty"` // "bearer"
	In          string `json:"in,omitempty"`     // "cookie"
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
}

// Schema is a JSON schema in the OpenAPI 3.0 dialect, limited to the
// keywords Validate implements.
type Schema struct {
	Ref         string             `json:"$ref,omitempty"`
	Type        string             `json:"type,omitempty"`
	Format      string             `json:"format,omitempty"`
	Description string             `json:"description,omitempty"`
	Nullable    bool               `json:"nullable,omitempty"`
	Enum        []any              `json:"enum,omitempty"`
	Properties  map[string]*Schema `json:"properties,omitempty"`
	Required    []string           `json:"required,omitempty"`
	// AdditionalProperties is false (no other property allowed), a
	// *Schema other properties must match, or nil (anything).
	AdditionalProperties any       `json:"additionalProperties,omitempty"`
	Items                *Schema   `json:"items,omitempty"`
	OneOf                []*Schema `json:"oneOf,omitempty"`
	Minimum              *float64  `json:"minimum,omitempty"`
	Maximum              *float64  `json:"maximum,omitempty"`
	MinLength            *int      `json:"minLength,omitempty"`
	MaxLength            *int      `json:"maxLength,omitempty"`
	Pattern              string    `json:"pattern,omitempty"`
	MinItems             *int      `json:"minItems,omitempty"`
	MaxItems             *int      `json:"maxItems,omitempty"`
}

// Ref returns a schema referring to the component schema called name.
func Ref(name string) *Schema { return &Schema{Ref: "#/components/schemas/" + name} }

// RefName returns the component name a $ref points at, "" when s is not
// a reference.
func (s *Schema) RefName() string {
	name, _ := strings.CutPrefix(s.Ref, "#/components/schemas/")
	return name
}

// String returns a string schema.
func String() *Schema { return &Schema{Type: "string"} }

// DateTime returns an RFC 3339 date-time string schema.
func DateTime() *Schema { return &Schema{Type: "string", Format: "date-time"} }

// Integer returns an integer schema.
func Integer() *Schema { return &Schema{Type: "integer"} }

// Number returns a number schema.
func Number() *Schema { return &Schema{Type: "number"} }

// Boolean returns a boolean schema.
func Boolean() *Schema { return &Schema{Type: "boolean"} }

// Array returns an array schema of items.
func Array(items *Schema) *Schema { return &Schema{Type: "array", Items: items} }

// Enum returns a string schema allowing only values.
func Enum(values ...string) *Schema {
	s := &Schema{Type: "string"}
	for _, v := range values {
		s.Enum = append(s.Enum, v)
	}
	return s
}

// Object returns a closed object schema (no properties but props) whose
// required properties are listed in required.
func Object(props map[string]*Schema, required ...string) *Schema {
	return &Schema{Type: "object", Properties: props, Required: required, AdditionalProperties: false}
}

// Map returns an object schema whose every property matches values.
func Map(values *Schema) *Schema {
	return &Schema{Type: "object", AdditionalProperties: values}
}

// OrNull returns a copy of s that also allows null. For a reference it
// returns {"oneOf": [s], "nullable": true}, as OpenAPI 3.0 allows no
// siblings of $ref.
func (s *Schema) OrNull() *Schema {
	if s.Ref != "" {
		return &Schema{OneOf: []*Schema{s}, Nullable: true}
	}
	c := *s
	c.Nullable = true
	return &c
}

// Doc returns s with its description set.
func (s *Schema) Doc(d string) *Schema { s.Description = d; return s }

// Min returns s with its minimum (numbers) set.
func (s *Schema) Min(v float64) *Schema { s.Minimum = &v; return s }

// Max returns s with its maximum (numbers) set.
func (s *Schema) Max(v float64) *Schema { s.Maximum = &v; return s }

// Len returns s with its minimum and maximum length (strings, in
// characters) set; max < 0 leaves the maximum open.
func (s *Schema) Len(min, max int) *Schema {
	s.MinLength = &min
	if max >= 0 {
		s.MaxLength = &max
	}
	return s
}

// Count returns s with its minimum and maximum number of items set; max
// < 0 leaves the maximum open.
func (s *Schema) Count(min, max int) *Schema {
	s.MinItems = &min
	if max >= 0 {
		s.MaxItems = &max
	}
	return s
}

// Match returns s with its pattern set.
func (s *Schema) Match(pattern string) *Schema { s.Pattern = pattern; return s }
