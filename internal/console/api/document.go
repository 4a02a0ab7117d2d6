package api

import (
	"maps"
	"net/http"
	"strconv"
	"strings"

	"github.com/otwatch/otwatch/internal/console/api/openapi"
)

// document builds the OpenAPI document from the route table.
func (a *API) document() *openapi.Document {
	d := &openapi.Document{
		OpenAPI: openapi.Version,
		Info: openapi.Info{Title: "otwatch console API", Version: a.opts.Version,
			Description: "The REST API of the otwatch console: alerts and their investigation, devices, their vulnerabilities and recommendations, the event timeline, sites, zones, sensors, exclusion rules, users and the audit log. " +
				"Authenticate with the session cookie of POST /login (and send its CSRF token in the X-CSRF-Token header with every state-changing request), or with an API token as Authorization: Bearer <secret>. " +
				"Errors are {\"error\": \"message\"}."},
		Servers: []openapi.Server{{URL: Prefix}},
		Paths:   map[string]openapi.PathItem{},
		Components: openapi.Components{Schemas: schemas(), SecuritySchemes: map[string]*openapi.SecurityScheme{
			"bearer": {Type: "http", Scheme: "bearer", Description: "An API token (otw_...), acting with its user's role."},
			"session": {Type: "apiKey", In: "cookie", Name: a.auth.CookieName(),
				Description: "The session cookie set by POST /login; state-changing requests also need the X-CSRF-Token header."},
		}},
		Security: []openapi.SecurityRequirement{{"bearer": {}}, {"session": {}}},
	}
	maps.Copy(d.Components.Schemas, vulnSchemas())
	for _, tag := range []struct{ name, desc string }{
		{"auth", "Sessions, the current user and API tokens"},
		{"alerts", "Alerts and their investigation"},
		{"devices", "The device inventory"},
		{"vulnerabilities", "Vendor advisories matched to the devices, recommendations and their statuses, risk"},
		{"events", "The event timeline"},
		{"config", "Sites, zones, sensors and exclusion rules"},
		{"users", "Users and the audit log"},
		{"meta", "This document"},
	} {
		d.Tags = append(d.Tags, openapi.Tag{Name: tag.name, Description: tag.desc})
	}
	for _, rt := range a.routes {
		item := d.Paths[rt.path]
		if item == nil {
			item = openapi.PathItem{}
			d.Paths[rt.path] = item
		}
		item[strings.ToLower(rt.method)] = a.operation(rt)
	}
	return d
}

func (a *API) operation(rt *route) *openapi.Operation {
	op := &openapi.Operation{OperationID: rt.id, Summary: rt.summary, Description: rt.desc, Tags: []string{rt.tag},
		Public: rt.public, Responses: map[string]*openapi.Response{}}
	if !rt.public {
		op.Role = string(rt.role)
	}
	for _, name := range rt.pathNames() {
		op.Parameters = append(op.Parameters, &openapi.Parameter{Name: name, In: "path", Required: true, Schema: rt.pathSchema(name)})
	}
	op.Parameters = append(op.Parameters, rt.query...)
	if rt.body != nil {
		op.RequestBody = &openapi.RequestBody{Required: true, Content: map[string]openapi.MediaType{"application/json": {Schema: rt.body}}}
	}
	status := rt.status
	if status == 0 {
		status = http.StatusOK
	}
	ok := &openapi.Response{Description: http.StatusText(status)}
	switch {
	case rt.resp != nil:
		ok.Content = map[string]openapi.MediaType{"application/json": {Schema: rt.resp}}
	case rt.media != nil:
		ok.Content = map[string]openapi.MediaType{}
		for ct, s := range rt.media {
			ok.Content[ct] = openapi.MediaType{Schema: s}
		}
	}
	op.Responses[strconv.Itoa(status)] = ok
	errResp := func(code int, desc string) {
		op.Responses[strconv.Itoa(code)] = &openapi.Response{Description: desc,
			Content: map[string]openapi.MediaType{"application/json": {Schema: ref("Error")}}}
	}
	if len(rt.query) > 0 || rt.body != nil || len(rt.pathNames()) > 0 {
		errResp(http.StatusBadRequest, "Malformed input: the message names the problem")
	}
	if rt.public {
		if rt.id == "login" {
			errResp(http.StatusUnauthorized, "Wrong user name or password")
			errResp(http.StatusTooManyRequests, "Too many login attempts; see Retry-After")
			errResp(http.StatusForbidden, "Sent from another site")
		}
	} else {
		errResp(http.StatusUnauthorized, "Not logged in")
		errResp(http.StatusForbidden, "The user's role does not allow it, or a cookie request lacks its CSRF token")
	}
	if len(rt.pathNames()) > 0 {
		errResp(http.StatusNotFound, "No such object")
	}
	if rt.changes() {
		errResp(http.StatusConflict, "The change conflicts with the state (a duplicate, a site still in use, the last admin)")
	}
	op.Responses["default"] = &openapi.Response{Description: "Any other error",
		Content: map[string]openapi.MediaType{"application/json": {Schema: ref("Error")}}}
	return op
}

// openAPI serves the document.
func (a *API) openAPI(c *call) (any, error) {
	return &download{contentType: "application/json; charset=utf-8", body: a.docRaw}, nil
}
