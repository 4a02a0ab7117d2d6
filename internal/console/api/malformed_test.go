package api

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// badCase is one malformed request to an endpoint.
type badCase struct {
	op     string // route id
	name   string
	method string
	path   string // under Prefix; "" for the route's sample path
	body   any
	ctype  string // Content-Type when not application/json
	want   int    // expected status; 0 for any 4xx
	msg    string // substring of the error message; "" for any
}

// malformed lists malformed requests for the endpoints, the specific
// mistakes each can receive. Generic ones (an unknown parameter, a body
// that is not JSON or not an object, a wrong content type, a body too
// large, unknown ids) are added for every route by TestMalformedInput.
func (e *env) malformed() []badCase {
	stop, malware := "/alerts/"+e.ids["plc-stop"], "/alerts/"+e.ids["malware"]
	rec := e.recommendationID()
	long := strings.Repeat("x", 4001)
	return []badCase{
		{op: "login", name: "no password", method: "POST", path: "/login", body: `{"name":"admin"}`, want: 400, msg: "password"},
		{op: "login", name: "wrong password", method: "POST", path: "/login", body: map[string]string{"name": "admin", "password": "nope"}, want: 401},
		{op: "login", name: "name is a number", method: "POST", path: "/login", body: `{"name":1,"password":"x"}`, want: 400, msg: "body.name"},

		{op: "listAlerts", name: "unknown severity", method: "GET", path: "/alerts?severity=Severe", want: 400, msg: "severity"},
		{op: "listAlerts", name: "lower-case severity", method: "GET", path: "/alerts?severity=high", want: 400},
		{op: "listAlerts", name: "unknown status", method: "GET", path: "/alerts?status=Open", want: 400, msg: "status"},
		{op: "listAlerts", name: "unknown engine", method: "GET", path: "/alerts?engine=magic", want: 400, msg: "engine"},
		{op: "listAlerts", name: "unknown sort", method: "GET", path: "/alerts?sort=name", want: 400, msg: "sort"},
		{op: "listAlerts", name: "unknown order", method: "GET", path: "/alerts?order=up", want: 400},
		{op: "listAlerts", name: "limit 0", method: "GET", path: "/alerts?limit=0", want: 400, msg: "limit"},
		{op: "listAlerts", name: "limit too large", method: "GET", path: "/alerts?limit=1001", want: 400, msg: "limit"},
		{op: "listAlerts", name: "limit not a number", method: "GET", path: "/alerts?limit=ten", want: 400, msg: "integer"},
		{op: "listAlerts", name: "limit twice", method: "GET", path: "/alerts?limit=5&limit=6", want: 400, msg: "once"},
		{op: "listAlerts", name: "garbage cursor", method: "GET", path: "/alerts?cursor=%21%21%21", want: 400, msg: "cursor"},
		{op: "listAlerts", name: "base64 non-cursor", method: "GET", path: "/alerts?cursor=aGVsbG8", want: 400, msg: "cursor"},
		{op: "listAlerts", name: "bad time", method: "GET", path: "/alerts?from=yesterday", want: 400, msg: "from"},
		{op: "listAlerts", name: "reversed range", method: "GET", path: "/alerts?from=2025-03-02T00:00:00Z&until=2025-03-01T00:00:00Z", want: 400},
		{op: "listAlerts", name: "bad device", method: "GET", path: "/alerts?device=plc-1", want: 400, msg: "device"},
		{op: "listAlerts", name: "text too long", method: "GET", path: "/alerts?q=" + strings.Repeat("a", 201), want: 400, msg: "q"},
		{op: "listAlerts", name: "too many values", method: "GET", path: "/alerts?" + strings.Repeat("sensor=a&", 101), want: 400, msg: "values"},
		{op: "listAlerts", name: "bad query string", method: "GET", path: "/alerts?sensor=%zz", want: 400, msg: "query"},
		{op: "alertFacets", name: "unknown severity", method: "GET", path: "/alerts/facets?severity=2", want: 400},
		{op: "alertFacets", name: "page parameter", method: "GET", path: "/alerts/facets?limit=5", want: 400, msg: "unknown query parameter"},
		{op: "exportAlerts", name: "unknown sort", method: "GET", path: "/alerts/export.csv?sort=id", want: 400},
		{op: "exportAlerts", name: "bad status", method: "GET", path: "/alerts/export.csv?status=closed!", want: 400},

		{op: "getAlert", name: "unknown id", method: "GET", path: "/alerts/nope", want: 404},
		{op: "getAlert", name: "id too long", method: "GET", path: "/alerts/" + strings.Repeat("a", 65), want: 400},
		{op: "relatedAlerts", name: "limit 0", method: "GET", path: stop + "/related?limit=0", want: 400},
		{op: "relatedEvents", name: "negative window", method: "GET", path: stop + "/events?window=-1", want: 400, msg: "window"},
		{op: "relatedEvents", name: "window too long", method: "GET", path: stop + "/events?window=99999999", want: 400},
		{op: "setAlertStatus", name: "unknown status", method: "POST", path: stop + "/status", body: map[string]string{"status": "Open"}, want: 400, msg: "status"},
		{op: "setAlertStatus", name: "status as number", method: "POST", path: stop + "/status", body: `{"status":3}`, want: 400, msg: "body.status"},
		{op: "setAlertStatus", name: "missing status", method: "POST", path: stop + "/status", body: `{"reason":"x"}`, want: 400, msg: "status"},
		{op: "setAlertStatus", name: "same status", method: "POST", path: stop + "/status", body: map[string]string{"status": "New"}, want: 400},
		{op: "setAlertStatus", name: "reason too long", method: "POST", path: stop + "/status", body: map[string]string{"status": "Closed", "reason": strings.Repeat("r", 1001)}, want: 400, msg: "reason"},
		{op: "setAlertsStatus", name: "no ids", method: "POST", path: "/alerts/status", body: `{"ids":[],"status":"Closed"}`, want: 400, msg: "ids"},
		{op: "setAlertsStatus", name: "ids not a list", method: "POST", path: "/alerts/status", body: `{"ids":"x","status":"Closed"}`, want: 400},
		{op: "setAlertsStatus", name: "unknown id", method: "POST", path: "/alerts/status", body: map[string]any{"ids": []string{e.ids["plc-stop"], "nope"}, "status": "Closed"}, want: 404},
		{op: "setAlertsSeverity", name: "unknown severity", method: "POST", path: "/alerts/severity", body: map[string]any{"ids": []string{e.ids["plc-stop"]}, "severity": "Huge"}, want: 400, msg: "severity"},
		{op: "setAlertsSeverity", name: "no ids", method: "POST", path: "/alerts/severity", body: `{"ids":[],"severity":"Low"}`, want: 400, msg: "ids"},
		{op: "setAlertsSeverity", name: "unknown id", method: "POST", path: "/alerts/severity", body: map[string]any{"ids": []string{e.ids["plc-stop"], "nope"}, "severity": "Low"}, want: 404},
		{op: "setAlertsSeverity", name: "reason too long", method: "POST", path: "/alerts/severity", body: map[string]any{"ids": []string{e.ids["plc-stop"]}, "severity": "Low", "reason": strings.Repeat("r", 1001)}, want: 400, msg: "reason"},
		{op: "bulkAlertSeverity", name: "bad filter value", method: "POST", path: "/alerts/bulk-severity", body: `{"filter":{"status":["Open"]},"severity":"Low"}`, want: 400, msg: "status"},
		{op: "bulkAlertSeverity", name: "missing severity", method: "POST", path: "/alerts/bulk-severity", body: `{"filter":{}}`, want: 400, msg: "severity"},
		{op: "bulkAlertStatus", name: "bad filter value", method: "POST", path: "/alerts/bulk-status", body: `{"filter":{"severity":["Huge"]},"status":"Closed"}`, want: 400, msg: "severity"},
		{op: "bulkAlertStatus", name: "unknown filter", method: "POST", path: "/alerts/bulk-status", body: `{"filter":{"colour":["red"]},"status":"Closed"}`, want: 400, msg: "colour"},
		{op: "bulkAlertStatus", name: "filter not an object", method: "POST", path: "/alerts/bulk-status", body: `{"filter":"all","status":"Closed"}`, want: 400},
		{op: "bulkAlertStatus", name: "no filter", method: "POST", path: "/alerts/bulk-status", body: `{"status":"Closed"}`, want: 400, msg: "filter"},
		{op: "bulkAlertStatus", name: "bad device", method: "POST", path: "/alerts/bulk-status", body: `{"filter":{"device":["x"]},"status":"Closed"}`, want: 400, msg: "device"},
		{op: "bulkAlertStatus", name: "bad time", method: "POST", path: "/alerts/bulk-status", body: `{"filter":{"from":"now"},"status":"Closed"}`, want: 400},
		{op: "learnAlerts", name: "not learnable", method: "POST", path: "/alerts/learn", body: map[string]any{"ids": []string{e.ids["new-device"], e.ids["malware"]}}, want: 400, msg: "cannot be learned"},
		{op: "learnAlerts", name: "too many", method: "POST", path: "/alerts/learn", body: map[string]any{"ids": make([]string, 1001)}, want: 400},
		{op: "learnAlert", name: "not learnable", method: "POST", path: malware + "/learn", want: 400, msg: "cannot be learned"},
		{op: "learnAlert", name: "unknown id", method: "POST", path: "/alerts/nope/learn", want: 404},
		{op: "previewLearn", name: "unknown id", method: "GET", path: "/alerts/nope/learn", want: 404},
		{op: "muteAlert", name: "unknown id", method: "POST", path: "/alerts/nope/mute", want: 404},
		{op: "unmuteAlert", name: "unknown id", method: "DELETE", path: "/alerts/nope/mute", want: 404},
		{op: "addComment", name: "empty", method: "POST", path: stop + "/comments", body: map[string]string{"text": ""}, want: 400},
		{op: "addComment", name: "blank", method: "POST", path: stop + "/comments", body: map[string]string{"text": "  \n "}, want: 400, msg: "empty"},
		{op: "addComment", name: "too long", method: "POST", path: stop + "/comments", body: map[string]string{"text": long}, want: 400, msg: "4000"},
		{op: "addComment", name: "text as number", method: "POST", path: stop + "/comments", body: `{"text":5}`, want: 400},
		{op: "addComment", name: "unknown alert", method: "POST", path: "/alerts/nope/comments", body: map[string]string{"text": "x"}, want: 404},
		{op: "listComments", name: "unknown alert", method: "GET", path: "/alerts/nope/comments", want: 404},
		{op: "alertHistory", name: "unknown alert", method: "GET", path: "/alerts/nope/history", want: 404},
		{op: "alertPcap", name: "no evidence", method: "GET", path: malware + "/pcap", want: 404},

		{op: "listDevices", name: "unknown type", method: "GET", path: "/devices?type=robot", want: 400},
		{op: "listDevices", name: "Purdue level 7", method: "GET", path: "/devices?purdue=7", want: 400},
		{op: "listDevices", name: "inactive maybe", method: "GET", path: "/devices?inactive=maybe", want: 400},
		{op: "listDevices", name: "unknown sort", method: "GET", path: "/devices?sort=ip", want: 400},
		{op: "listDevices", name: "bad cursor", method: "GET", path: "/devices?cursor=zzz", want: 400},
		{op: "getDevice", name: "unknown device", method: "GET", path: "/devices/s1/99", want: 404},
		{op: "getDevice", name: "id not a number", method: "GET", path: "/devices/s1/plc", want: 400},
		{op: "getDevice", name: "id 0", method: "GET", path: "/devices/s1/0", want: 400},
		{op: "getDevice", name: "id beyond 32 bits", method: "GET", path: "/devices/s1/4294967296", want: 400},
		{op: "deviceConnections", name: "unknown sensor", method: "GET", path: "/devices/s9/2/connections", want: 404},
		{op: "deviceAlerts", name: "device filter", method: "GET", path: "/devices/s1/2/alerts?device=10.0.0.1", want: 400},
		{op: "deviceTimeline", name: "bad time", method: "GET", path: "/devices/s1/2/timeline?until=soon", want: 400},
		{op: "deviceVulnerabilities", name: "unknown device", method: "GET", path: "/devices/s1/99/vulnerabilities", want: 404},
		{op: "deviceVulnerabilities", name: "id not a number", method: "GET", path: "/devices/s1/plc/vulnerabilities", want: 400},
		{op: "deviceRecommendations", name: "history maybe", method: "GET", path: "/devices/s1/2/recommendations?history=maybe", want: 400, msg: "history"},
		{op: "deviceRecommendations", name: "unknown sensor", method: "GET", path: "/devices/s9/2/recommendations", want: 404},
		{op: "listVulnerabilities", name: "unknown view", method: "GET", path: "/vulnerabilities?by=colour", want: 400, msg: "by"},
		{op: "listVulnerabilities", name: "limit 0", method: "GET", path: "/vulnerabilities?limit=0", want: 400, msg: "limit"},
		{op: "listVulnerabilities", name: "negative offset", method: "GET", path: "/vulnerabilities?offset=-1", want: 400, msg: "offset"},
		{op: "setRecommendationStatus", name: "unknown status", method: "POST", path: "/recommendations/" + rec + "/status", body: map[string]string{"status": "fixed"}, want: 400, msg: "status"},
		{op: "setRecommendationStatus", name: "missing status", method: "POST", path: "/recommendations/" + rec + "/status", body: `{"reason":"x"}`, want: 400, msg: "status"},
		{op: "setRecommendationStatus", name: "same status", method: "POST", path: "/recommendations/" + rec + "/status", body: map[string]string{"status": "open"}, want: 400, msg: "not open"},
		{op: "setRecommendationStatus", name: "dismissed without reason", method: "POST", path: "/recommendations/" + rec + "/status", body: map[string]string{"status": "dismissed", "reason": " "}, want: 400, msg: "reason"},
		{op: "setRecommendationStatus", name: "reason too long", method: "POST", path: "/recommendations/" + rec + "/status", body: map[string]string{"status": "dismissed", "reason": strings.Repeat("r", 1001)}, want: 400, msg: "reason"},
		{op: "setRecommendationStatus", name: "unknown recommendation", method: "POST", path: "/recommendations/00000000-0000-5000-8000-000000000000/status", body: map[string]string{"status": "done"}, want: 404},
		{op: "setRecommendationStatus", name: "not an ID", method: "POST", path: "/recommendations/plc-update/status", body: map[string]string{"status": "done"}, want: 400, msg: "id"},
		{op: "putDeviceOverride", name: "Purdue level 9", method: "PUT", path: "/devices/s1/2/override", body: `{"purdue_level":9}`, want: 400, msg: "purdue_level"},
		{op: "putDeviceOverride", name: "unknown type", method: "PUT", path: "/devices/s1/2/override", body: `{"type":"robot"}`, want: 400},
		{op: "putDeviceOverride", name: "two-line name", method: "PUT", path: "/devices/s1/2/override", body: `{"name":"a\nb"}`, want: 400},
		{op: "putDeviceOverride", name: "authorized as string", method: "PUT", path: "/devices/s1/2/override", body: `{"authorized":"yes"}`, want: 400},
		{op: "deleteDeviceOverride", name: "no override", method: "DELETE", path: "/devices/s1/2/override", want: 404},
		{op: "listEvents", name: "bad device", method: "GET", path: "/events?device=nowhere", want: 400},
		{op: "listEvents", name: "bad time", method: "GET", path: "/events?from=2025-13-01T00:00:00Z", want: 400},

		{op: "createSite", name: "bad id", method: "POST", path: "/sites", body: map[string]string{"id": "a site!", "name": "x"}, want: 400, msg: "body.id"},
		{op: "createSite", name: "duplicate", method: "POST", path: "/sites", body: map[string]string{"id": "plant", "name": "x"}, want: 409},
		{op: "createSite", name: "no name", method: "POST", path: "/sites", body: map[string]string{"id": "p3"}, want: 400, msg: "name"},
		{op: "getSite", name: "unknown site", method: "GET", path: "/sites/nope", want: 404},
		{op: "getSite", name: "id too long", method: "GET", path: "/sites/" + strings.Repeat("s", 201), want: 400},
		{op: "updateSite", name: "unknown site", method: "PUT", path: "/sites/nope", body: map[string]string{"name": "x"}, want: 404},
		{op: "deleteSite", name: "site in use", method: "DELETE", path: "/sites/plant", want: 409},
		{op: "createZone", name: "bad subnet", method: "POST", path: "/zones", body: map[string]any{"id": "z", "site": "plant", "name": "z", "subnets": []string{"10.0.0.0/33"}}, want: 400, msg: "subnets"},
		{op: "createZone", name: "unknown site", method: "POST", path: "/zones", body: map[string]any{"id": "z", "site": "nope", "name": "z"}, want: 400, msg: "site"},
		{op: "getZone", name: "unknown zone", method: "GET", path: "/zones/nope", want: 404},
		{op: "updateZone", name: "unknown zone", method: "PUT", path: "/zones/nope", body: map[string]any{"site": "plant", "name": "z"}, want: 404},
		{op: "deleteZone", name: "zone in use", method: "DELETE", path: "/zones/cell1", want: 409},
		{op: "createSensor", name: "unknown mode", method: "POST", path: "/sensors", body: map[string]string{"id": "s9", "name": "x", "mode": "paused"}, want: 400, msg: "mode"},
		{op: "createSensor", name: "unknown zone", method: "POST", path: "/sensors", body: map[string]string{"id": "s9", "name": "x", "site": "plant", "zone": "nope"}, want: 400, msg: "zone"},
		{op: "createSensor", name: "unknown site", method: "POST", path: "/sensors", body: map[string]string{"id": "s9", "name": "x", "site": "nope"}, want: 400, msg: "site"},
		{op: "createSensor", name: "duplicate", method: "POST", path: "/sensors", body: map[string]string{"id": "s1", "name": "x"}, want: 409},
		{op: "getSensor", name: "unknown sensor", method: "GET", path: "/sensors/nope", want: 404},
		{op: "updateSensor", name: "unknown sensor", method: "PUT", path: "/sensors/nope", body: map[string]string{"name": "x"}, want: 404},
		{op: "setSensorMode", name: "unknown mode", method: "POST", path: "/sensors/s1/mode", body: map[string]string{"mode": "on"}, want: 400},
		{op: "setSensorMode", name: "unknown sensor", method: "POST", path: "/sensors/nope/mode", body: map[string]string{"mode": "learning"}, want: 404},
		{op: "deleteSensor", name: "unknown sensor", method: "DELETE", path: "/sensors/nope", want: 404},
		{op: "createExclusion", name: "no criterion", method: "POST", path: "/exclusions", body: map[string]string{"name": "all"}, want: 400, msg: "criterion"},
		{op: "createExclusion", name: "bad device", method: "POST", path: "/exclusions", body: map[string]string{"name": "x", "device": "plc"}, want: 400},
		{op: "createExclusion", name: "bad subnet", method: "POST", path: "/exclusions", body: map[string]string{"name": "x", "subnet": "10.0.0.0"}, want: 400, msg: "subnet"},
		{op: "createExclusion", name: "reversed window", method: "POST", path: "/exclusions", body: map[string]string{"name": "x", "from": "2025-03-02T00:00:00Z", "until": "2025-03-01T00:00:00Z"}, want: 400},
		{op: "createExclusion", name: "star inside type", method: "POST", path: "/exclusions", body: map[string]string{"name": "x", "type": "s*.stop"}, want: 400},
		{op: "createExclusion", name: "disabled as string", method: "POST", path: "/exclusions", body: `{"name":"x","sensor":"s1","disabled":"no"}`, want: 400},
		{op: "getExclusion", name: "unknown rule", method: "GET", path: "/exclusions/999", want: 404},
		{op: "getExclusion", name: "id not a number", method: "GET", path: "/exclusions/first", want: 400},
		{op: "updateExclusion", name: "unknown rule", method: "PUT", path: "/exclusions/999", body: map[string]string{"name": "x", "sensor": "s1"}, want: 404},
		{op: "deleteExclusion", name: "negative id", method: "DELETE", path: "/exclusions/-3", want: 400},

		{op: "createUser", name: "weak password", method: "POST", path: "/users", body: map[string]string{"name": "bob", "role": "analyst", "password": "short"}, want: 400, msg: "password"},
		{op: "createUser", name: "unknown role", method: "POST", path: "/users", body: map[string]string{"name": "bob", "role": "root", "password": "long enough pw"}, want: 400, msg: "role"},
		{op: "createUser", name: "bad name", method: "POST", path: "/users", body: map[string]string{"name": "bob smith", "role": "analyst", "password": "long enough pw"}, want: 400, msg: "name"},
		{op: "createUser", name: "duplicate", method: "POST", path: "/users", body: map[string]string{"name": "ana", "role": "analyst", "password": "long enough pw"}, want: 409},
		{op: "getUser", name: "unknown user", method: "GET", path: "/users/nobody", want: 404},
		{op: "updateUser", name: "demote last admin", method: "PUT", path: "/users/admin", body: map[string]string{"role": "analyst"}, want: 409, msg: "admin"},
		{op: "updateUser", name: "disable last admin", method: "PUT", path: "/users/admin", body: map[string]bool{"disabled": true}, want: 409},
		{op: "updateUser", name: "weak password", method: "PUT", path: "/users/ana", body: map[string]string{"password": "short"}, want: 400},
		{op: "deleteUser", name: "last admin", method: "DELETE", path: "/users/admin", want: 409},
		{op: "deleteUser", name: "unknown user", method: "DELETE", path: "/users/nobody", want: 404},
		{op: "createToken", name: "empty name", method: "POST", path: "/tokens", body: map[string]string{"name": ""}, want: 400},
		{op: "createToken", name: "negative lifetime", method: "POST", path: "/tokens", body: `{"name":"x","expires_in_days":-1}`, want: 400},
		{op: "createToken", name: "unknown owner", method: "POST", path: "/tokens", body: map[string]string{"name": "x", "user": "ghost"}, want: 400},
		{op: "deleteToken", name: "unknown token", method: "DELETE", path: "/tokens/tok_nope", want: 404},
		{op: "listAudit", name: "limit too large", method: "GET", path: "/audit?limit=5000", want: 400},
		{op: "listAudit", name: "bad time", method: "GET", path: "/audit?until=x", want: 400},
		{op: "changePassword", name: "wrong current password", method: "POST", path: "/me/password", body: map[string]string{"current_password": "nope", "new_password": "long enough pw"}, want: 403},
		{op: "changePassword", name: "weak new password", method: "POST", path: "/me/password", body: map[string]string{"current_password": adminPW, "new_password": "short"}, want: 400},
	}
}

// TestMalformedInput sends every endpoint malformed input, as an admin
// (who may call them all): each gets a 4xx with a JSON message, none a
// 500, and nothing in the store changes.
func TestMalformedInput(t *testing.T) {
	e := newEnv(t)
	ad := e.as("admin")
	_ = e.token("admin")
	cases := e.malformed()
	specific := map[string]bool{}
	for _, c := range cases {
		specific[c.op] = true
	}
	// Generic mistakes, for every route.
	for _, rt := range e.api.routes {
		path := e.samplePath(rt)
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		cases = append(cases, badCase{op: rt.id, name: "unknown parameter", method: rt.method, path: path + sep + "colour=red", body: e.validBody(rt), want: 400, msg: "colour"})
		if rt.body != nil {
			cases = append(cases,
				badCase{op: rt.id, name: "not JSON", method: rt.method, path: path, body: `{"name":`, want: 400},
				badCase{op: rt.id, name: "array body", method: rt.method, path: path, body: `[]`, want: 400, msg: "object"},
				badCase{op: rt.id, name: "empty body", method: rt.method, path: path, body: ``, want: 400, msg: "body"},
				badCase{op: rt.id, name: "two values", method: rt.method, path: path, body: `{} {}`, want: 400},
				badCase{op: rt.id, name: "unknown field", method: rt.method, path: path, body: `{"colour":"red"}`, want: 400, msg: "colour"},
				badCase{op: rt.id, name: "form body", method: rt.method, path: path, body: "a=b", ctype: "application/x-www-form-urlencoded", want: 415},
				badCase{op: rt.id, name: "huge body", method: rt.method, path: path, body: `{"name":"` + strings.Repeat("x", MaxBody) + `"}`, want: 413})
		}
		if len(rt.pathNames()) > 0 && !specific[rt.id] {
			t.Errorf("%s takes path parameters but has no specific malformed case", rt.id)
		}
		if rt.body != nil && !specific[rt.id] && rt.id != "createToken" {
			t.Errorf("%s takes a body but has no specific malformed case", rt.id)
		}
	}
	before := e.snapshot()
	for _, c := range cases {
		path := c.path
		var body []byte
		switch b := c.body.(type) {
		case nil:
		case string:
			body = []byte(b)
		default:
			body = mustJSON(t, b)
		}
		r := httptest.NewRequest(c.method, Prefix+path, bytes.NewReader(body))
		if c.body != nil {
			ct := c.ctype
			if ct == "" {
				ct = "application/json"
			}
			r.Header.Set("Content-Type", ct)
		}
		r.AddCookie(ad.cookie)
		r.Header.Set("X-CSRF-Token", ad.csrf)
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, r)
		label := fmt.Sprintf("%s: %s: %s %s", c.op, c.name, c.method, clipBody(path))
		if rec.Code < 400 || rec.Code > 499 || (c.want != 0 && rec.Code != c.want) {
			t.Errorf("%s = %d %s, want %d", label, rec.Code, clipBody(rec.Body.String()), c.want)
			continue
		}
		m := decodeJSON[errorBody](t, rec)
		if m.Error == "" || !strings.Contains(strings.ToLower(m.Error), strings.ToLower(c.msg)) {
			t.Errorf("%s: message %q, want one mentioning %q", label, m.Error, c.msg)
		}
		e.checkResponse(c.op, rec)
	}
	if after := e.snapshot(); after != before {
		t.Errorf("malformed requests changed the store:\n%s", diffLines(before, after))
	}
	t.Logf("%d malformed requests", len(cases))
}

// TestNotFoundAndMethod checks the JSON answers for unknown paths and
// methods.
func TestNotFoundAndMethod(t *testing.T) {
	e := newEnv(t)
	ad := e.as("admin")
	for _, tc := range []struct {
		method, path string
		want         int
		allow        string
	}{
		{"GET", "/nothing/here", 404, ""},
		{"PATCH", "/alerts", 405, "GET"},
		{"DELETE", "/alerts/" + e.ids["plc-stop"], 405, "GET"},
		{"PUT", "/devices/s1/2/override/extra", 404, ""},
	} {
		rec := ad.do(tc.method, tc.path, nil)
		if rec.Code != tc.want || rec.Header().Get("Allow") != tc.allow || decodeJSON[errorBody](t, rec).Error == "" {
			t.Errorf("%s %s = %d (Allow %q) %s; want %d (Allow %q)", tc.method, tc.path, rec.Code, rec.Header().Get("Allow"), rec.Body, tc.want, tc.allow)
		}
	}
	if rec := e.do(nil, "GET", "/openapi.json", nil); rec.Code != http.StatusOK {
		t.Errorf("openapi.json without login = %d", rec.Code)
	}
}
