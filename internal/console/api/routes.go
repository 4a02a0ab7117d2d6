package api

import (
	"net/http"
	"slices"

	"github.com/otwatch/otwatch/internal/console/api/openapi"
	"github.com/otwatch/otwatch/internal/store"
)

const (
	readonly = store.RoleReadOnly
	analyst  = store.RoleAnalyst
	admin    = store.RoleAdmin
)

// list returns the schema of {"name": [item...]}.
func list(name string, item *openapi.Schema) *openapi.Schema {
	return obj(props{name: arr(item)}, name)
}

// withID returns a copy of a closed object schema with a required "id".
func withID(s *openapi.Schema, id *openapi.Schema) *openapi.Schema {
	p := props{"id": id}
	for k, v := range s.Properties {
		p[k] = v
	}
	return obj(p, append([]string{"id"}, s.Required...)...)
}

// Path parameter schemas.
var (
	alertID  = str().Len(1, 64)
	deviceID = integer().Min(1).Max(4294967295)
	ruleID   = integer().Min(1)
)

func alertFilterParams() []*openapi.Parameter {
	return []*openapi.Parameter{
		many("sensor", "Sensor id.", str().Len(1, 200)),
		many("site", "Site id.", str().Len(1, 200)),
		many("zone", "Zone id.", str().Len(1, 200)),
		many("severity", "Severity.", enum(severityNames()...)),
		many("status", "Status.", enum(statusNames()...)),
		many("engine", "Detection engine, by name or key.", enum(engineInput()...)),
		many("category", "Category.", str().Len(1, 200)),
		many("protocol", "Protocol.", str().Len(1, 200)),
		many("type", "Alert type id.", str().Len(1, 200)),
		many("device", "IP or MAC address of the source or destination.", str().Len(1, 64)),
		one("from", "Last detected at or after this time (RFC 3339).", tm()),
		one("until", "Last detected before this time (RFC 3339).", tm()),
		one("q", "Free text: every term must match within one of the type, category, protocol, sensor, site, zone, or a party's address, host name or MAC (\"plc sto\" matches s7.plc_stop, \"10.1.2\" matches 10.1.2.10).", str().Len(0, store.MaxTextLen)),
	}
}

func pageParams(sorts ...string) []*openapi.Parameter {
	var out []*openapi.Parameter
	if len(sorts) > 0 {
		out = append(out, one("sort", "Order of the page; the first is the default.", enum(sorts...)))
	}
	return append(out,
		one("order", "desc (newest or most severe first, the default) or asc.", enum("desc", "asc")),
		one("cursor", "The next value of the previous page.", str().Len(1, 512)),
		one("limit", "Page size (default 50).", integer().Min(1).Max(store.MaxLimit)))
}

func eventFilterParams(device bool) []*openapi.Parameter {
	p := []*openapi.Parameter{
		many("sensor", "Sensor id.", str().Len(1, 200)),
		many("type", "Event type (new_device, firmware_change, alert...).", str().Len(1, 64)),
	}
	if device {
		p = append(p, many("device", "IP or MAC address the event is about.", str().Len(1, 64)),
			one("alert", "Events of one alert.", alertID))
	}
	return append(p, one("from", "At or after this time (RFC 3339).", tm()), one("until", "Before this time (RFC 3339).", tm()))
}

func deviceFilterParams() []*openapi.Parameter {
	return []*openapi.Parameter{
		many("sensor", "Sensor id.", str().Len(1, 200)),
		many("site", "Site id.", str().Len(1, 200)),
		many("zone", "Zone id.", str().Len(1, 200)),
		many("type", "Device type.", enum(deviceTypes()...)),
		many("vendor", "Vendor name.", str().Len(1, 200)),
		many("purdue", "Purdue level (-1 unknown).", integer().Min(-1).Max(5)),
		many("protocol", "Protocol served or used.", str().Len(1, 64)),
		many("device", "IP or MAC address.", str().Len(1, 64)),
		one("inactive", "Only inactive (true) or active (false) devices.", boo()),
		one("from", "Seen at or after this time (RFC 3339).", tm()),
		one("until", "Seen before this time (RFC 3339).", tm()),
		one("q", "Free text over name, vendor, product, model, firmware, addresses and type.", str().Len(0, store.MaxTextLen)),
	}
}

// without returns ps less the parameters called names.
func without(ps []*openapi.Parameter, names ...string) []*openapi.Parameter {
	var out []*openapi.Parameter
	for _, p := range ps {
		if !slices.Contains(names, p.Name) {
			out = append(out, p)
		}
	}
	return out
}

func cat(ps ...[]*openapi.Parameter) []*openapi.Parameter {
	var out []*openapi.Parameter
	for _, p := range ps {
		out = append(out, p...)
	}
	return out
}

// table returns every route of the API.
func (a *API) table() []*route {
	pcapMedia := map[string]*openapi.Schema{
		"application/x-pcapng":         {Type: "string", Format: "binary"},
		"application/vnd.tcpdump.pcap": {Type: "string", Format: "binary"},
	}
	devPath := map[string]*openapi.Schema{"id": deviceID}
	return []*route{
		// Session and identity.
		{method: "POST", path: "/login", id: "login", tag: "auth", summary: "Log in", public: true,
			desc: "Checks a user name and password and starts a session: the response sets the session cookie and gives the CSRF token to send with state-changing requests. Rate limited per client address and per user name (429 with Retry-After).",
			body: ref("Login"), resp: ref("Me"), h: a.login},
		{method: "POST", path: "/logout", id: "logout", tag: "auth", summary: "Log out", role: readonly, status: http.StatusNoContent,
			desc: "Ends the session (nothing to do for an API token).", h: a.logout},
		{method: "GET", path: "/me", id: "getMe", tag: "auth", summary: "Show who is logged in", role: readonly, resp: ref("Me"), h: a.me},
		{method: "POST", path: "/me/password", id: "changePassword", tag: "auth", summary: "Change your own password", role: readonly,
			status: http.StatusNoContent, body: ref("PasswordChange"),
			desc: "Needs the current password; ends the user's other sessions.", h: a.changePassword},
		{method: "GET", path: "/tokens", id: "listTokens", tag: "auth", summary: "List API tokens", role: analyst,
			query: []*openapi.Parameter{one("user", "Tokens of this user (admins; default: your own, or everyone's for admins).", str().Len(1, 64))},
			resp:  list("tokens", ref("Token")), h: a.listTokens},
		{method: "POST", path: "/tokens", id: "createToken", tag: "auth", summary: "Create an API token", role: analyst, status: http.StatusCreated,
			desc: "The secret is returned once; send it as Authorization: Bearer <secret>. The token acts with its user's role.",
			body: ref("TokenInput"), resp: ref("TokenCreated"), h: a.createToken},
		{method: "DELETE", path: "/tokens/{id}", id: "deleteToken", tag: "auth", summary: "Delete an API token", role: analyst,
			status: http.StatusNoContent, h: a.deleteToken},
		{method: "GET", path: "/openapi.json", id: "getOpenAPI", tag: "meta", summary: "Get this OpenAPI document", public: true,
			resp: &openapi.Schema{Type: "object"}, h: a.openAPI},

		// Alerts.
		{method: "GET", path: "/alerts", id: "listAlerts", tag: "alerts", summary: "List alerts", role: readonly,
			desc:  "One page of the alerts matching the filter, sorted by last detection unless asked otherwise. Pass next as cursor for the following page.",
			query: cat(alertFilterParams(), pageParams(string(store.SortLastDetection), string(store.SortSeverity), string(store.SortFirstDetection))),
			resp:  ref("AlertPage"), h: a.listAlerts},
		{method: "GET", path: "/alerts/facets", id: "alertFacets", tag: "alerts", summary: "Count alerts per filter value", role: readonly,
			query: alertFilterParams(), resp: ref("Facets"), h: a.alertFacets},
		{method: "GET", path: "/alerts/export.csv", id: "exportAlerts", tag: "alerts", summary: "Export the filtered alerts as CSV", role: readonly,
			query: cat(alertFilterParams(), without(pageParams(string(store.SortLastDetection), string(store.SortSeverity), string(store.SortFirstDetection)), "cursor", "limit")),
			media: map[string]*openapi.Schema{"text/csv": str()}, h: a.exportAlerts},
		{method: "POST", path: "/alerts/status", id: "setAlertsStatus", tag: "alerts", summary: "Change the status of selected alerts", role: analyst,
			desc: "All or nothing: if one alert is unknown or cannot make the transition, none changes.",
			body: obj(props{"ids": arr(alertID).Count(1, store.MaxLimit), "status": enum(statusNames()...), "reason": str().Len(0, store.MaxReasonLen)}, "ids", "status"),
			resp: ref("Changed"), h: a.setStatuses},
		{method: "POST", path: "/alerts/bulk-status", id: "bulkAlertStatus", tag: "alerts", summary: "Change the status of every alert matching a filter", role: analyst,
			desc: "Alerts already in the status, or that cannot make the transition, are left as they are.",
			body: obj(props{"filter": alertFilterSchema(), "status": enum(statusNames()...), "reason": str().Len(0, store.MaxReasonLen)}, "filter", "status"),
			resp: ref("Changed"), h: a.bulkStatus},
		{method: "POST", path: "/alerts/severity", id: "setAlertsSeverity", tag: "alerts", summary: "Change the severity of selected alerts", role: analyst,
			desc: "All or nothing: if one alert is unknown, none changes. A sensor re-sending the alert later keeps the severity set here.",
			body: obj(props{"ids": arr(alertID).Count(1, store.MaxLimit), "severity": enum(severityNames()...), "reason": str().Len(0, store.MaxReasonLen)}, "ids", "severity"),
			resp: ref("Changed"), h: a.setSeverities},
		{method: "POST", path: "/alerts/bulk-severity", id: "bulkAlertSeverity", tag: "alerts", summary: "Change the severity of every alert matching a filter", role: analyst,
			desc: "Alerts already at the severity are left as they are.",
			body: obj(props{"filter": alertFilterSchema(), "severity": enum(severityNames()...), "reason": str().Len(0, store.MaxReasonLen)}, "filter", "severity"),
			resp: ref("Changed"), h: a.bulkSeverity},
		{method: "POST", path: "/alerts/learn", id: "learnAlerts", tag: "alerts", summary: "Learn selected alerts", role: analyst,
			desc: "Adds each alert's baseline entry and closes it. Fails before changing anything when one is unknown or not learnable.",
			body: obj(props{"ids": arr(alertID).Count(1, store.MaxLimit)}, "ids"), resp: ref("Learned"), h: a.learnMany},
		{method: "GET", path: "/alerts/{id}", id: "getAlert", tag: "alerts", summary: "Get an alert", role: readonly,
			pathParams: map[string]*openapi.Schema{"id": alertID}, resp: ref("Alert"), h: a.getAlert},
		{method: "GET", path: "/alerts/{id}/related", id: "relatedAlerts", tag: "alerts", summary: "List alerts involving the same devices", role: readonly,
			pathParams: map[string]*openapi.Schema{"id": alertID},
			query:      []*openapi.Parameter{one("limit", "At most this many (default 200).", integer().Min(1).Max(store.MaxLimit))},
			resp:       ref("AlertPage"), h: a.relatedAlerts},
		{method: "GET", path: "/alerts/{id}/events", id: "relatedEvents", tag: "alerts", summary: "List events of the alert's devices around its time", role: readonly,
			pathParams: map[string]*openapi.Schema{"id": alertID},
			query: []*openapi.Parameter{
				one("window", "Seconds before the first and after the last detection (default 3600).", integer().Min(0).Max(30*86400)),
				one("limit", "At most this many (default 200).", integer().Min(1).Max(store.MaxLimit))},
			resp: ref("EventPage"), h: a.relatedEvents},
		{method: "POST", path: "/alerts/{id}/status", id: "setAlertStatus", tag: "alerts", summary: "Change an alert's status", role: analyst,
			desc:       "New → Active → Closed, and Closed → Active to reopen.",
			pathParams: map[string]*openapi.Schema{"id": alertID}, body: statusSchema(), resp: ref("Alert"), h: a.setStatus},
		{method: "GET", path: "/alerts/{id}/learn", id: "previewLearn", tag: "alerts", summary: "Show the baseline entry learning an alert adds", role: readonly,
			pathParams: map[string]*openapi.Schema{"id": alertID}, resp: ref("LearnPreview"), h: a.learnPreview},
		{method: "POST", path: "/alerts/{id}/learn", id: "learnAlert", tag: "alerts", summary: "Learn an alert", role: analyst,
			desc:       "Accepts the alert's traffic as legitimate: adds its baseline entry to the sensor's baseline and closes it.",
			pathParams: map[string]*openapi.Schema{"id": alertID}, resp: ref("LearnResult"), h: a.learn},
		{method: "POST", path: "/alerts/{id}/mute", id: "muteAlert", tag: "alerts", summary: "Mute an alert", role: analyst,
			desc:       "Suppresses this exact pattern (sensor, type, source, destination and key) from now on.",
			pathParams: map[string]*openapi.Schema{"id": alertID}, resp: ref("Alert"), h: a.mute},
		{method: "DELETE", path: "/alerts/{id}/mute", id: "unmuteAlert", tag: "alerts", summary: "Unmute an alert", role: analyst,
			pathParams: map[string]*openapi.Schema{"id": alertID}, resp: ref("Alert"), h: a.unmute},
		{method: "GET", path: "/alerts/{id}/comments", id: "listComments", tag: "alerts", summary: "List an alert's comments", role: readonly,
			pathParams: map[string]*openapi.Schema{"id": alertID}, resp: list("comments", ref("Comment")), h: a.comments},
		{method: "POST", path: "/alerts/{id}/comments", id: "addComment", tag: "alerts", summary: "Comment on an alert", role: analyst, status: http.StatusCreated,
			pathParams: map[string]*openapi.Schema{"id": alertID},
			body:       obj(props{"text": str().Len(1, store.MaxCommentLen)}, "text"), resp: ref("Comment"), h: a.addComment},
		{method: "GET", path: "/alerts/{id}/history", id: "alertHistory", tag: "alerts", summary: "List an alert's status changes", role: readonly,
			pathParams: map[string]*openapi.Schema{"id": alertID}, resp: list("history", ref("StatusChange")), h: a.history},
		{method: "GET", path: "/alerts/{id}/pcap", id: "alertPcap", tag: "alerts", summary: "Download an alert's packets", role: readonly,
			desc:       "The packets that triggered the alert with context before and after, as pcapng (application/x-pcapng), or pcap (application/vnd.tcpdump.pcap) when stored so.",
			pathParams: map[string]*openapi.Schema{"id": alertID}, media: pcapMedia, h: a.pcap},
		{method: "GET", path: "/alert-types", id: "listAlertTypes", tag: "alerts", summary: "List the alert types otwatch raises", role: readonly,
			resp: list("types", ref("AlertType")), h: a.alertTypes},
		{method: "GET", path: "/mutes", id: "listMutes", tag: "alerts", summary: "List muted alert patterns", role: readonly,
			resp: list("mutes", ref("Mute")), h: a.mutes},

		// Devices.
		{method: "GET", path: "/devices", id: "listDevices", tag: "devices", summary: "List devices", role: readonly,
			query: cat(deviceFilterParams(), pageParams(string(store.DeviceSortLastSeen), string(store.DeviceSortFirstSeen), string(store.DeviceSortName))),
			resp:  ref("DevicePage"), h: a.listDevices},
		{method: "GET", path: "/devices/{sensor}/{id}", id: "getDevice", tag: "devices", summary: "Get a device", role: readonly,
			pathParams: devPath, resp: ref("Device"), h: a.getDevice},
		{method: "GET", path: "/devices/{sensor}/{id}/connections", id: "deviceConnections", tag: "devices", summary: "List a device's connections", role: readonly,
			pathParams: devPath, resp: list("connections", ref("Connection")), h: a.deviceConnections},
		{method: "GET", path: "/devices/{sensor}/{id}/alerts", id: "deviceAlerts", tag: "devices", summary: "List the alerts involving a device", role: readonly,
			pathParams: devPath,
			query:      cat(without(alertFilterParams(), "device"), pageParams(string(store.SortLastDetection), string(store.SortSeverity), string(store.SortFirstDetection))),
			resp:       ref("AlertPage"), h: a.deviceAlerts},
		{method: "GET", path: "/devices/{sensor}/{id}/timeline", id: "deviceTimeline", tag: "devices", summary: "List a device's events", role: readonly,
			pathParams: devPath, query: cat(without(eventFilterParams(false), "sensor"), pageParams()), resp: ref("EventPage"), h: a.deviceTimeline},
		{method: "GET", path: "/devices/{sensor}/{id}/vulnerabilities", id: "deviceVulnerabilities", tag: "vulnerabilities", summary: "List the advisories that concern a device", role: readonly,
			desc:       "The vendor advisories the console loaded (--advisories) matched to the device's vendor, model and firmware, best verdict first, with the device's risk.",
			pathParams: devPath, resp: ref("DeviceVulnerabilities"), h: a.deviceVulnerabilities},
		{method: "GET", path: "/devices/{sensor}/{id}/recommendations", id: "deviceRecommendations", tag: "vulnerabilities", summary: "List the recommendations for a device", role: readonly,
			desc:       "Actions to take, from its advisories and from what the sensor saw, most severe first, each with its status.",
			pathParams: devPath, query: []*openapi.Parameter{one("history", "Include each recommendation's status changes.", boo())},
			resp: ref("DeviceRecommendations"), h: a.deviceRecommendations},
		{method: "PUT", path: "/devices/{sensor}/{id}/override", id: "putDeviceOverride", tag: "devices", summary: "Set a device's overrides", role: analyst,
			desc:       "What a person decided about the device (type, name, Purdue level, authorized); kept by its MAC, or IP when it has none, so it survives rediscovery.",
			pathParams: devPath, body: ref("Override"), resp: ref("DeviceOverride"), h: a.putOverride},
		{method: "DELETE", path: "/devices/{sensor}/{id}/override", id: "deleteDeviceOverride", tag: "devices", summary: "Remove a device's overrides", role: analyst,
			pathParams: devPath, status: http.StatusNoContent, h: a.deleteOverride},
		{method: "GET", path: "/overrides", id: "listOverrides", tag: "devices", summary: "List device overrides", role: readonly,
			resp: list("overrides", ref("DeviceOverride")), h: a.listOverrides},

		// Vulnerabilities and recommendations of the fleet.
		{method: "GET", path: "/vulnerabilities", id: "listVulnerabilities", tag: "vulnerabilities", summary: "List the fleet's vulnerabilities", role: readonly,
			desc: "One page of a fleet view: by cve (highest CVSS first, with the affected and possibly affected devices), by device (highest risk first, with counts) or by advisory.",
			query: []*openapi.Parameter{
				one("by", "The view: cve (the default), device or advisory.", enum("cve", "device", "advisory")),
				one("offset", "Skip this many (the next value of the previous page).", integer().Min(0)),
				one("limit", "Page size (default 100).", integer().Min(1).Max(maxFleetLimit))},
			resp: ref("FleetPage"), h: a.listVulnerabilities},
		{method: "POST", path: "/recommendations/{id}/status", id: "setRecommendationStatus", tag: "vulnerabilities", summary: "Change a recommendation's status", role: analyst,
			desc:       "open → in_progress → done, in_progress back to open, any → dismissed (a reason is required), done or dismissed → open. Audited.",
			pathParams: map[string]*openapi.Schema{"id": recommendationID}, body: ref("RecommendationStatusInput"), resp: ref("RecommendationStatus"),
			h: a.setRecommendationStatus},

		// Timeline.
		{method: "GET", path: "/events", id: "listEvents", tag: "events", summary: "List timeline events", role: readonly,
			query: cat(eventFilterParams(true), pageParams()), resp: ref("EventPage"), h: a.listEvents},

		// Sites, zones, sensors.
		{method: "GET", path: "/sites", id: "listSites", tag: "config", summary: "List sites", role: readonly, resp: list("sites", ref("Site")), h: a.listSites},
		{method: "POST", path: "/sites", id: "createSite", tag: "config", summary: "Create a site", role: admin, status: http.StatusCreated,
			body: withID(schemas()["SiteInput"], ident()), resp: ref("Site"), h: a.createSite},
		{method: "GET", path: "/sites/{id}", id: "getSite", tag: "config", summary: "Get a site", role: readonly, resp: ref("Site"), h: a.getSite},
		{method: "PUT", path: "/sites/{id}", id: "updateSite", tag: "config", summary: "Update a site", role: admin,
			body: ref("SiteInput"), resp: ref("Site"), h: a.updateSite},
		{method: "DELETE", path: "/sites/{id}", id: "deleteSite", tag: "config", summary: "Delete a site", role: admin,
			desc: "A site that still has zones or sensors cannot be deleted (409).", status: http.StatusNoContent, h: a.deleteSite},
		{method: "GET", path: "/zones", id: "listZones", tag: "config", summary: "List zones", role: readonly,
			query: []*openapi.Parameter{one("site", "Zones of this site.", str().Len(1, 64))}, resp: list("zones", ref("Zone")), h: a.listZones},
		{method: "POST", path: "/zones", id: "createZone", tag: "config", summary: "Create a zone", role: admin, status: http.StatusCreated,
			body: withID(schemas()["ZoneInput"], ident()), resp: ref("Zone"), h: a.createZone},
		{method: "GET", path: "/zones/{id}", id: "getZone", tag: "config", summary: "Get a zone", role: readonly, resp: ref("Zone"), h: a.getZone},
		{method: "PUT", path: "/zones/{id}", id: "updateZone", tag: "config", summary: "Update a zone", role: admin,
			body: ref("ZoneInput"), resp: ref("Zone"), h: a.updateZone},
		{method: "DELETE", path: "/zones/{id}", id: "deleteZone", tag: "config", summary: "Delete a zone", role: admin,
			desc: "A zone that still has sensors cannot be deleted (409).", status: http.StatusNoContent, h: a.deleteZone},
		{method: "GET", path: "/sensors", id: "listSensors", tag: "config", summary: "List sensors", role: readonly, resp: list("sensors", ref("Sensor")), h: a.listSensors},
		{method: "POST", path: "/sensors", id: "createSensor", tag: "config", summary: "Create a sensor", role: admin, status: http.StatusCreated,
			body: withID(schemas()["SensorInput"], ident()), resp: ref("Sensor"), h: a.createSensor},
		{method: "GET", path: "/sensors/{id}", id: "getSensor", tag: "config", summary: "Get a sensor", role: readonly, resp: ref("Sensor"), h: a.getSensor},
		{method: "PUT", path: "/sensors/{id}", id: "updateSensor", tag: "config", summary: "Update a sensor", role: admin,
			desc: "Renames a sensor or assigns it to a site and zone.", body: ref("SensorInput"), resp: ref("Sensor"), h: a.updateSensor},
		{method: "DELETE", path: "/sensors/{id}", id: "deleteSensor", tag: "config", summary: "Delete a sensor", role: admin,
			desc: "Its alerts, devices and events stay.", status: http.StatusNoContent, h: a.deleteSensor},
		{method: "POST", path: "/sensors/{id}/mode", id: "setSensorMode", tag: "config", summary: "Switch a sensor between learning and operational", role: admin,
			body: ref("SensorMode"), resp: ref("Sensor"), h: a.setSensorMode},

		// Exclusion rules.
		{method: "GET", path: "/exclusions", id: "listExclusions", tag: "config", summary: "List exclusion rules", role: readonly,
			resp: list("exclusions", ref("Exclusion")), h: a.listExclusions},
		{method: "POST", path: "/exclusions", id: "createExclusion", tag: "config", summary: "Create an exclusion rule", role: analyst, status: http.StatusCreated,
			body: ref("ExclusionInput"), resp: ref("Exclusion"), h: a.createExclusion},
		{method: "GET", path: "/exclusions/{id}", id: "getExclusion", tag: "config", summary: "Get an exclusion rule", role: readonly,
			pathParams: map[string]*openapi.Schema{"id": ruleID}, resp: ref("Exclusion"), h: a.getExclusion},
		{method: "PUT", path: "/exclusions/{id}", id: "updateExclusion", tag: "config", summary: "Replace an exclusion rule", role: analyst,
			pathParams: map[string]*openapi.Schema{"id": ruleID}, body: ref("ExclusionInput"), resp: ref("Exclusion"), h: a.updateExclusion},
		{method: "DELETE", path: "/exclusions/{id}", id: "deleteExclusion", tag: "config", summary: "Delete an exclusion rule", role: analyst,
			pathParams: map[string]*openapi.Schema{"id": ruleID}, status: http.StatusNoContent, h: a.deleteExclusion},

		// Users and the audit log.
		{method: "GET", path: "/users", id: "listUsers", tag: "users", summary: "List users", role: admin, resp: list("users", ref("User")), h: a.listUsers},
		{method: "POST", path: "/users", id: "createUser", tag: "users", summary: "Create a user", role: admin, status: http.StatusCreated,
			desc: "Passwords need at least 12 characters.", body: ref("UserInput"), resp: ref("User"), h: a.createUser},
		{method: "GET", path: "/users/{name}", id: "getUser", tag: "users", summary: "Get a user", role: admin, resp: ref("User"), h: a.getUser},
		{method: "PUT", path: "/users/{name}", id: "updateUser", tag: "users", summary: "Update a user", role: admin,
			desc: "Absent fields stay as they are. The last enabled admin cannot be demoted or disabled (409). Disabling a user or setting its password ends its sessions.",
			body: ref("UserUpdate"), resp: ref("User"), h: a.updateUser},
		{method: "DELETE", path: "/users/{name}", id: "deleteUser", tag: "users", summary: "Delete a user", role: admin,
			desc: "Also deletes the user's sessions and API tokens.", status: http.StatusNoContent, h: a.deleteUser},
		{method: "GET", path: "/audit", id: "listAudit", tag: "users", summary: "List the audit log", role: analyst,
			query: append([]*openapi.Parameter{
				one("actor", "Entries by this user.", str().Len(1, 128)),
				one("action", "Entries of this action (login, alert.status...).", str().Len(1, 64)),
				one("object", "Entries about this object (alert:<id>, user:<name>...).", str().Len(1, 200)),
				one("from", "At or after this time (RFC 3339).", tm()),
				one("until", "Before this time (RFC 3339).", tm())}, without(pageParams(), "order")...),
			resp: ref("AuditPage"), h: a.listAudit},
	}
}
