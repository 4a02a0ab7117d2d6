package api

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/console/api/openapi"
)

// routeByID returns the route with operation id.
func (e *env) routeByID(id string) *route {
	for _, rt := range e.api.routes {
		if rt.id == id {
			return rt
		}
	}
	e.t.Fatalf("no route %s", id)
	return nil
}

// checkResponse validates a response against what the document says
// operation id answers with that status: the JSON body against its
// schema, or the content type against the documented media types.
func (e *env) checkResponse(id string, rec *httptest.ResponseRecorder) {
	e.t.Helper()
	rt := e.routeByID(id)
	op := e.api.doc.Paths[rt.path][strings.ToLower(rt.method)]
	if op == nil {
		e.t.Fatalf("%s: %s %s is not in the document", id, rt.method, rt.path)
	}
	resp := op.Responses[strconv.Itoa(rec.Code)]
	if resp == nil {
		resp = op.Responses["default"]
		if rec.Code < 400 {
			e.t.Errorf("%s: status %d is not documented", id, rec.Code)
			return
		}
	}
	ct := rec.Header().Get("Content-Type")
	if len(resp.Content) == 0 {
		if rec.Body.Len() != 0 {
			e.t.Errorf("%s: %d has a body (%q) the document does not describe", id, rec.Code, rec.Body)
		}
		return
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		e.t.Errorf("%s: Content-Type %q: %v", id, ct, err)
		return
	}
	media, ok := resp.Content[mt]
	if !ok {
		e.t.Errorf("%s: %d answered %s, the document gives %v", id, rec.Code, mt, keys(resp.Content))
		return
	}
	if mt != "application/json" {
		return
	}
	if err := e.api.doc.ValidateJSON(media.Schema, rec.Body.Bytes()); err != nil {
		e.t.Errorf("%s: %d response does not match the document: %v\n%s", id, rec.Code, err, clipBody(rec.Body.String()))
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func clipBody(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "..."
	}
	return s
}

// TestOpenAPIResponses calls every endpoint with valid input and checks
// each response against the OpenAPI document the API serves.
func TestOpenAPIResponses(t *testing.T) {
	e := newEnv(t)
	ad, ro := e.as("admin"), e.as("rita")
	id := func(name string) string { return e.ids[name] }
	var tokenID, ruleID string
	steps := []struct {
		op     string
		c      *client
		method string
		path   func() string
		body   any
		want   int
		after  func(rec *httptest.ResponseRecorder)
	}{
		{op: "login", method: "POST", path: lit("/login"), body: map[string]string{"name": "ana", "password": analystPW}, want: 200},
		{op: "getMe", c: ad, method: "GET", path: lit("/me"), want: 200},
		{op: "createToken", c: ad, method: "POST", path: lit("/tokens"), body: map[string]any{"name": "script", "expires_in_days": 30}, want: 201,
			after: func(rec *httptest.ResponseRecorder) {
				tokenID = decodeJSON[struct{ Token struct{ ID string } }](t, rec).Token.ID
			}},
		{op: "listTokens", c: ad, method: "GET", path: lit("/tokens"), want: 200},
		{op: "deleteToken", c: ad, method: "DELETE", path: func() string { return "/tokens/" + tokenID }, want: 204},
		{op: "getOpenAPI", method: "GET", path: lit("/openapi.json"), want: 200},
		{op: "listAlerts", c: ad, method: "GET", path: lit("/alerts?severity=High&severity=Critical&sort=severity&limit=2"), want: 200},
		{op: "listAlerts", c: ro, method: "GET", path: lit("/alerts?q=plc&engine=operational&engine=Policy+violation"), want: 200},
		{op: "alertFacets", c: ad, method: "GET", path: lit("/alerts/facets?sensor=s1"), want: 200},
		{op: "exportAlerts", c: ad, method: "GET", path: lit("/alerts/export.csv?site=plant"), want: 200},
		{op: "getAlert", c: ad, method: "GET", path: func() string { return "/alerts/" + id("plc-stop") }, want: 200},
		{op: "getAlert", c: ad, method: "GET", path: func() string { return "/alerts/" + id("malware") }, want: 200},
		{op: "relatedAlerts", c: ad, method: "GET", path: func() string { return "/alerts/" + id("plc-stop") + "/related" }, want: 200},
		{op: "relatedEvents", c: ad, method: "GET", path: func() string { return "/alerts/" + id("plc-stop") + "/events?window=7200" }, want: 200},
		{op: "previewLearn", c: ad, method: "GET", path: func() string { return "/alerts/" + id("new-device") + "/learn" }, want: 200},
		{op: "previewLearn", c: ad, method: "GET", path: func() string { return "/alerts/" + id("malware") + "/learn" }, want: 200},
		{op: "learnAlert", c: ad, method: "POST", path: func() string { return "/alerts/" + id("new-device") + "/learn" }, want: 200},
		{op: "setAlertStatus", c: ad, method: "POST", path: func() string { return "/alerts/" + id("plc-stop") + "/status" },
			body: map[string]string{"status": "Active", "reason": "investigating"}, want: 200},
		{op: "setAlertsStatus", c: ad, method: "POST", path: lit("/alerts/status"), body: map[string]any{"ids": []string{id("malware")}, "status": "Closed"}, want: 200},
		{op: "bulkAlertStatus", c: ad, method: "POST", path: lit("/alerts/bulk-status"),
			body: map[string]any{"filter": map[string]any{"sensor": []string{"s2"}}, "status": "Active"}, want: 200},
		{op: "setAlertsSeverity", c: ad, method: "POST", path: lit("/alerts/severity"), body: map[string]any{"ids": []string{id("scan")}, "severity": "Low", "reason": "lab network"}, want: 200},
		{op: "bulkAlertSeverity", c: ad, method: "POST", path: lit("/alerts/bulk-severity"),
			body: map[string]any{"filter": map[string]any{"sensor": []string{"s2"}}, "severity": "Medium"}, want: 200},
		{op: "learnAlerts", c: ad, method: "POST", path: lit("/alerts/learn"), body: map[string]any{"ids": []string{id("scan")}}, want: 200},
		{op: "muteAlert", c: ad, method: "POST", path: func() string { return "/alerts/" + id("plc-stop") + "/mute" }, want: 200},
		{op: "listMutes", c: ad, method: "GET", path: lit("/mutes"), want: 200},
		{op: "unmuteAlert", c: ad, method: "DELETE", path: func() string { return "/alerts/" + id("plc-stop") + "/mute" }, want: 200},
		{op: "addComment", c: ad, method: "POST", path: func() string { return "/alerts/" + id("plc-stop") + "/comments" }, body: map[string]string{"text": "looking into it"}, want: 201},
		{op: "listComments", c: ad, method: "GET", path: func() string { return "/alerts/" + id("plc-stop") + "/comments" }, want: 200},
		{op: "alertHistory", c: ad, method: "GET", path: func() string { return "/alerts/" + id("plc-stop") + "/history" }, want: 200},
		{op: "alertPcap", c: ad, method: "GET", path: func() string { return "/alerts/" + id("plc-stop") + "/pcap" }, want: 200},
		{op: "listAlertTypes", c: ad, method: "GET", path: lit("/alert-types"), want: 200},
		{op: "listDevices", c: ad, method: "GET", path: lit("/devices?sensor=s1&type=plc&type=hmi&purdue=1&purdue=2&sort=name"), want: 200},
		{op: "getDevice", c: ad, method: "GET", path: lit("/devices/s1/2"), want: 200},
		{op: "getDevice", c: ad, method: "GET", path: lit("/devices/s1/3"), want: 200},
		{op: "deviceConnections", c: ad, method: "GET", path: lit("/devices/s1/2/connections"), want: 200},
		{op: "deviceAlerts", c: ad, method: "GET", path: lit("/devices/s1/2/alerts?status=Active"), want: 200},
		{op: "deviceTimeline", c: ad, method: "GET", path: lit("/devices/s1/2/timeline"), want: 200},
		{op: "deviceVulnerabilities", c: ro, method: "GET", path: lit("/devices/s1/2/vulnerabilities"), want: 200},
		{op: "deviceVulnerabilities", c: ro, method: "GET", path: lit("/devices/s1/3/vulnerabilities"), want: 200},
		{op: "setRecommendationStatus", c: ad, method: "POST", path: func() string { return "/recommendations/" + e.recommendationID() + "/status" },
			body: map[string]string{"status": "dismissed", "reason": "replaced next week"}, want: 200},
		{op: "deviceRecommendations", c: ro, method: "GET", path: lit("/devices/s1/2/recommendations?history=true"), want: 200},
		{op: "deviceRecommendations", c: ro, method: "GET", path: lit("/devices/s1/1/recommendations"), want: 200},
		{op: "listVulnerabilities", c: ro, method: "GET", path: lit("/vulnerabilities"), want: 200},
		{op: "listVulnerabilities", c: ro, method: "GET", path: lit("/vulnerabilities?by=device&limit=2"), want: 200},
		{op: "listVulnerabilities", c: ro, method: "GET", path: lit("/vulnerabilities?by=device&offset=2"), want: 200},
		{op: "listVulnerabilities", c: ro, method: "GET", path: lit("/vulnerabilities?by=advisory"), want: 200},
		{op: "putDeviceOverride", c: ad, method: "PUT", path: lit("/devices/s1/2/override"),
			body: map[string]any{"name": "PLC-1", "purdue_level": 1, "authorized": true, "type": "plc"}, want: 200},
		{op: "listOverrides", c: ad, method: "GET", path: lit("/overrides"), want: 200},
		{op: "deleteDeviceOverride", c: ad, method: "DELETE", path: lit("/devices/s1/2/override"), want: 204},
		{op: "listEvents", c: ad, method: "GET", path: lit("/events?sensor=s1&order=asc&limit=2"), want: 200},
		{op: "listSites", c: ad, method: "GET", path: lit("/sites"), want: 200},
		{op: "createSite", c: ad, method: "POST", path: lit("/sites"), body: map[string]string{"id": "plant2", "name": "Plant 2"}, want: 201},
		{op: "getSite", c: ad, method: "GET", path: lit("/sites/plant2"), want: 200},
		{op: "updateSite", c: ad, method: "PUT", path: lit("/sites/plant2"), body: map[string]string{"name": "Plant two", "description": "north"}, want: 200},
		{op: "listZones", c: ad, method: "GET", path: lit("/zones?site=plant"), want: 200},
		{op: "createZone", c: ad, method: "POST", path: lit("/zones"),
			body: map[string]any{"id": "cell2", "site": "plant2", "name": "Cell 2", "subnets": []string{"10.2.0.0/16"}}, want: 201},
		{op: "getZone", c: ad, method: "GET", path: lit("/zones/cell2"), want: 200},
		{op: "updateZone", c: ad, method: "PUT", path: lit("/zones/cell2"), body: map[string]any{"site": "plant2", "name": "Cell two"}, want: 200},
		{op: "listSensors", c: ad, method: "GET", path: lit("/sensors"), want: 200},
		{op: "createSensor", c: ad, method: "POST", path: lit("/sensors"), body: map[string]string{"id": "s3", "name": "S3", "site": "plant2", "zone": "cell2"}, want: 201},
		{op: "getSensor", c: ad, method: "GET", path: lit("/sensors/s3"), want: 200},
		{op: "updateSensor", c: ad, method: "PUT", path: lit("/sensors/s3"), body: map[string]string{"name": "Sensor 3", "site": "plant2", "zone": "cell2"}, want: 200},
		{op: "setSensorMode", c: ad, method: "POST", path: lit("/sensors/s3/mode"), body: map[string]string{"mode": "operational"}, want: 200},
		{op: "deleteSensor", c: ad, method: "DELETE", path: lit("/sensors/s3"), want: 204},
		{op: "deleteZone", c: ad, method: "DELETE", path: lit("/zones/cell2"), want: 204},
		{op: "deleteSite", c: ad, method: "DELETE", path: lit("/sites/plant2"), want: 204},
		{op: "listExclusions", c: ad, method: "GET", path: lit("/exclusions"), want: 200},
		{op: "createExclusion", c: ad, method: "POST", path: lit("/exclusions"),
			body: map[string]any{"name": "maintenance", "sensor": "s1", "subnet": "10.1.2.0/24", "from": "2025-03-01T00:00:00Z", "until": "2025-03-02T00:00:00Z", "comment": "yearly"}, want: 201,
			after: func(rec *httptest.ResponseRecorder) { ruleID = fmt.Sprint(decodeJSON[struct{ ID int64 }](t, rec).ID) }},
		{op: "getExclusion", c: ad, method: "GET", path: func() string { return "/exclusions/" + ruleID }, want: 200},
		{op: "updateExclusion", c: ad, method: "PUT", path: func() string { return "/exclusions/" + ruleID },
			body: map[string]any{"name": "maintenance", "type": "s7.*", "disabled": true}, want: 200},
		{op: "deleteExclusion", c: ad, method: "DELETE", path: func() string { return "/exclusions/" + ruleID }, want: 204},
		{op: "listUsers", c: ad, method: "GET", path: lit("/users"), want: 200},
		{op: "createUser", c: ad, method: "POST", path: lit("/users"), body: map[string]any{"name": "bob", "full_name": "Bob", "role": "analyst", "password": "bob password 12"}, want: 201},
		{op: "getUser", c: ad, method: "GET", path: lit("/users/bob"), want: 200},
		{op: "updateUser", c: ad, method: "PUT", path: lit("/users/bob"), body: map[string]any{"role": "readonly", "disabled": true}, want: 200},
		{op: "deleteUser", c: ad, method: "DELETE", path: lit("/users/bob"), want: 204},
		{op: "listAudit", c: ad, method: "GET", path: lit("/audit?limit=20"), want: 200},
		{op: "changePassword", c: ro, method: "POST", path: lit("/me/password"),
			body: map[string]string{"current_password": readonlyPW, "new_password": "a new readonly password"}, want: 204},
		{op: "logout", c: ro, method: "POST", path: lit("/logout"), want: 204},
	}
	seen := map[string]bool{}
	for _, s := range steps {
		rec := e.do(s.c, s.method, s.path(), s.body)
		if rec.Code != s.want {
			t.Errorf("%s %s %s: %d %s, want %d", s.op, s.method, s.path(), rec.Code, clipBody(rec.Body.String()), s.want)
			continue
		}
		seen[s.op] = true
		e.checkResponse(s.op, rec)
		if s.after != nil {
			s.after(rec)
		}
	}
	for _, rt := range e.api.routes {
		if !seen[rt.id] {
			t.Errorf("%s (%s %s) was not exercised", rt.id, rt.method, rt.path)
		}
	}
}

func lit(s string) func() string { return func() string { return s } }

// TestOpenAPIDocument checks the document's own consistency: every
// reference resolves, every path wildcard is a required path parameter,
// operation ids are unique, and what /openapi.json serves is the
// document.
func TestOpenAPIDocument(t *testing.T) {
	e := newEnv(t)
	d := e.api.doc
	if d.OpenAPI != "3.0.3" || d.Info.Title == "" {
		t.Errorf("header: %q %q", d.OpenAPI, d.Info.Title)
	}
	var refs []string
	var walk func(s *openapi.Schema)
	walk = func(s *openapi.Schema) {
		if s == nil {
			return
		}
		if s.Ref != "" {
			refs = append(refs, s.Ref)
		}
		walk(s.Items)
		for _, p := range s.Properties {
			walk(p)
		}
		for _, o := range s.OneOf {
			walk(o)
		}
		if ap, ok := s.AdditionalProperties.(*openapi.Schema); ok {
			walk(ap)
		}
		if (s.Ref != "" && (s.Type != "" || len(s.Properties) > 0)) || (s.Nullable && s.Type == "" && len(s.OneOf) == 0) {
			t.Errorf("schema %+v mixes $ref with siblings or is nullable without a type", s)
		}
	}
	for _, s := range d.Components.Schemas {
		walk(s)
	}
	ids := map[string]bool{}
	wild := regexp.MustCompile(`\{([a-z_]+)\}`)
	for path, item := range d.Paths {
		for method, op := range item {
			if ids[op.OperationID] {
				t.Errorf("duplicate operationId %s", op.OperationID)
			}
			ids[op.OperationID] = true
			for _, m := range wild.FindAllStringSubmatch(path, -1) {
				if !slices.ContainsFunc(op.Parameters, func(p *openapi.Parameter) bool { return p.In == "path" && p.Name == m[1] && p.Required }) {
					t.Errorf("%s %s: wildcard %s is not a required path parameter", method, path, m[1])
				}
			}
			for _, p := range op.Parameters {
				walk(p.Schema)
			}
			if op.RequestBody != nil {
				for _, m := range op.RequestBody.Content {
					walk(m.Schema)
				}
			}
			for code, r := range op.Responses {
				if code != "default" {
					if n, err := strconv.Atoi(code); err != nil || n < 100 || n > 599 {
						t.Errorf("%s %s: response code %q", method, path, code)
					}
				}
				for _, m := range r.Content {
					walk(m.Schema)
				}
			}
			if !op.Public && op.Role == "" {
				t.Errorf("%s %s: no role", method, path)
			}
		}
	}
	for _, r := range refs {
		if _, err := d.Resolve(&openapi.Schema{Ref: r}); err != nil {
			t.Error(err)
		}
	}
	rec := e.do(nil, "GET", "/openapi.json", nil)
	var served, built any
	if err := json.Unmarshal(rec.Body.Bytes(), &served); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	b, _ := json.Marshal(d)
	_ = json.Unmarshal(b, &built)
	if fmt.Sprint(served) != fmt.Sprint(built) {
		t.Error("/openapi.json differs from the document")
	}
	if login := served.(map[string]any)["paths"].(map[string]any)["/login"].(map[string]any)["post"].(map[string]any); fmt.Sprint(login["security"]) != "[]" {
		t.Errorf("login security = %v, want []", login["security"])
	}
}
