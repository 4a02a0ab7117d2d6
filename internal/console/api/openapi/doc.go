// Package openapi models the parts of an OpenAPI 3.0 document the console
// uses (paths, operations, parameters, request and response bodies and
// schemas) as Go data, and validates JSON values against its schemas.
//
// The validator implements the subset of JSON Schema that OpenAPI 3.0
// schemas here use: type (object, array, string, integer, number,
// boolean), nullable, enum, properties, required, additionalProperties
// (false or a schema), items, oneOf, $ref to #/components/schemas,
// minimum, maximum, minLength, maxLength (in characters), pattern,
// minItems, maxItems and the date-time format (RFC 3339). Any other
// keyword is not supported and is not emitted by this package.
package openapi
