package openapi

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// The cases follow the JSON Schema validation keywords as OpenAPI 3.0.3
// section 4.7.24 adopts them (JSON Schema Wright draft 00, sections 5.x),
// with nullable from OpenAPI itself.
func TestValidate(t *testing.T) {
	doc := &Document{Components: Components{Schemas: map[string]*Schema{
		"Point": Object(map[string]*Schema{"x": Integer(), "y": Integer()}, "x", "y"),
		"Loop":  Ref("Loop"),
	}}}
	tests := []struct {
		name   string
		schema *Schema
		in     string
		want   string // "" for valid, else a substring of the error
	}{
		{"string ok", String(), `"a"`, ""},
		{"string got number", String(), `1`, "want string, got number"},
		{"null not nullable", String(), `null`, "null is not allowed"},
		{"null nullable", String().OrNull(), `null`, ""},
		{"integer ok", Integer(), `42`, ""},
		{"integer with fraction", Integer(), `4.5`, "want integer"},
		{"integer in exponent form", Integer(), `1e3`, ""},
		{"number ok", Number(), `4.5`, ""},
		{"boolean got string", Boolean(), `"true"`, "want boolean"},
		{"minimum", Integer().Min(1), `0`, "less than 1"},
		{"maximum", Integer().Max(10), `11`, "more than 10"},
		{"enum ok", Enum("Low", "High"), `"High"`, ""},
		{"enum miss", Enum("Low", "High"), `"high"`, "not one of"},
		{"max length counts characters", String().Len(0, 2), `"éé"`, ""},
		{"max length exceeded", String().Len(0, 2), `"abc"`, "at most 2"},
		{"min length", String().Len(1, -1), `""`, "at least 1"},
		{"pattern", String().Match(`^[a-z]+$`), `"ab1"`, "does not match"},
		{"date-time ok", DateTime(), `"2024-05-01T10:00:00.123456789Z"`, ""},
		{"date-time offset", DateTime(), `"2024-05-01T10:00:00+02:00"`, ""},
		{"date-time bad", DateTime(), `"2024-05-01 10:00"`, "not an RFC 3339"},
		{"array ok", Array(Integer()), `[1,2]`, ""},
		{"array item bad", Array(Integer()), `[1,"2"]`, "$[1]: want integer"},
		{"array min items", Array(Integer()).Count(1, 3), `[]`, "at least 1"},
		{"array max items", Array(Integer()).Count(0, 1), `[1,2]`, "at most 1"},
		{"object ok", Ref("Point"), `{"x":1,"y":2}`, ""},
		{"object missing required", Ref("Point"), `{"x":1}`, `missing required property "y"`},
		{"object unknown property", Ref("Point"), `{"x":1,"y":2,"z":3}`, `unknown property "z"`},
		{"object nested path", Array(Ref("Point")), `[{"x":1,"y":"2"}]`, "$[0].y: want integer"},
		{"open object", &Schema{Type: "object"}, `{"any":[1]}`, ""},
		{"map values", Map(Integer()), `{"a":1,"b":"x"}`, "$.b: want integer"},
		{"nullable ref", Ref("Point").OrNull(), `null`, ""},
		{"nullable ref value", Ref("Point").OrNull(), `{"x":1,"y":2}`, ""},
		{"nullable ref bad", Ref("Point").OrNull(), `{"x":1}`, "oneOf"},
		{"oneOf exactly one", &Schema{OneOf: []*Schema{String(), Integer()}}, `3`, ""},
		{"oneOf none", &Schema{OneOf: []*Schema{String(), Integer()}}, `true`, "matches 0"},
		{"oneOf two", &Schema{OneOf: []*Schema{Number(), Integer()}}, `3`, "matches 2"},
		{"untyped accepts anything", &Schema{}, `{"a":[true]}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := doc.ValidateJSON(tt.schema, []byte(tt.in))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("ValidateJSON(%s) = %v, want valid", tt.in, err)
			case tt.want != "" && err == nil:
				t.Errorf("ValidateJSON(%s) = valid, want error containing %q", tt.in, tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("ValidateJSON(%s) = %v, want error containing %q", tt.in, err, tt.want)
			}
			var ve *ValidationError
			if err != nil && !errors.As(err, &ve) {
				t.Errorf("error %v is not a *ValidationError", err)
			}
		})
	}
}

func TestValidateSchemaErrors(t *testing.T) {
	doc := &Document{Components: Components{Schemas: map[string]*Schema{"Loop": Ref("Loop")}}}
	tests := []struct {
		name   string
		schema *Schema
		in     string
	}{
		{"dangling reference", Ref("Missing"), `1`},
		{"reference cycle", Ref("Loop"), `1`},
		{"bad pattern", String().Match("("), `"a"`},
		{"unknown type", &Schema{Type: "file"}, `"a"`},
		{"not JSON", String(), `"a`},
		{"two values", String(), `"a" "b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := doc.ValidateJSON(tt.schema, []byte(tt.in))
			var ve *ValidationError
			if err == nil || errors.As(err, &ve) {
				t.Errorf("ValidateJSON = %v, want a schema or input error", err)
			}
		})
	}
}

func TestOperationPublicSecurity(t *testing.T) {
	op := &Operation{OperationID: "login", Summary: "Log in", Public: true, Responses: map[string]*Response{"200": {Description: "ok"}}}
	b, err := json.Marshal(op)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	// OpenAPI 3.0.3 4.7.10: an empty security array removes the
	// top-level requirement for this operation.
	if s, ok := m["security"].([]any); !ok || len(s) != 0 {
		t.Errorf("public operation security = %v, want []", m["security"])
	}
}
