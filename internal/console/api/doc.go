// Package api is the console's REST API, served under /api/v1: JSON in
// and out, one route table that both routes requests and generates the
// OpenAPI 3 document served at /api/v1/openapi.json, so the document
// cannot drift from the handlers.
//
// Every route in the table declares its query parameters, request body
// and responses as openapi schemas; requests are checked against them
// before a handler runs (an unknown or malformed parameter, a body of the
// wrong shape, an unknown enum value are 400 with a message naming the
// problem), and the role a route needs (readonly, analyst or admin) is
// enforced before anything else is looked at. Errors are always
// {"error": "..."}: 400 bad input, 401 not logged in, 403 not allowed
// (or a missing CSRF token on a cookie request), 404 unknown object, 409
// conflict, 413 body too large, 415 not JSON, 429 too many logins; a
// store failure is a 500 whose details go to the log, not the client.
//
// Roles: readonly users may read everything but the audit log and the
// user list, and change nothing but their own password; analysts also
// triage (alert status, learn, mute, comments, bulk changes, exclusion
// rules, device overrides, their own API tokens) and read the audit log;
// admins also configure sites, zones and sensors and manage users and
// everyone's tokens.
package api
