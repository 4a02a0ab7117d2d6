package api

import (
	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/baseline"
	"github.com/otwatch/otwatch/internal/console/api/openapi"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/store"
)

// Shorthands for the schema constructors.
var (
	str  = openapi.String
	tm   = openapi.DateTime
	num  = openapi.Number
	boo  = openapi.Boolean
	arr  = openapi.Array
	obj  = openapi.Object
	ref  = openapi.Ref
	enum = openapi.Enum
)

func integer() *openapi.Schema { return openapi.Integer() }
func count() *openapi.Schema   { return openapi.Integer().Min(0) }

// props is a property list.
type props = map[string]*openapi.Schema

// Enumerations taken from the Go types, so the document follows them.

func severityNames() []string {
	var out []string
	for s := alert.Low; s <= alert.Critical; s++ {
		out = append(out, s.String())
	}
	return out
}

func statusNames() []string {
	var out []string
	for s := alert.New; s <= alert.Closed; s++ {
		out = append(out, s.String())
	}
	return out
}

func engineNames() []string {
	var out []string
	for _, e := range alert.Engines() {
		out = append(out, e.String())
	}
	return out
}

// engineInput accepts an engine's display name or key.
func engineInput() []string {
	out := engineNames()
	for _, e := range alert.Engines() {
		out = append(out, e.Key())
	}
	return out
}

func classNames() []string {
	var out []string
	for c := dissect.ClassOther; c <= dissect.ClassFile; c++ {
		out = append(out, c.String())
	}
	return out
}

func deviceTypes() []string {
	var out []string
	for _, t := range inventory.Types {
		out = append(out, string(t))
	}
	return out
}

func baselineKinds() []string {
	var out []string
	for _, k := range []baseline.Kind{baseline.KindDevice, baseline.KindConnection, baseline.KindFunction, baseline.KindClass,
		baseline.KindRange, baseline.KindInternet, baseline.KindAccess, baseline.KindRate, baseline.KindValue, baseline.KindPattern} {
		out = append(out, string(k))
	}
	return out
}

func roles() []string {
	return []string{string(store.RoleAdmin), string(store.RoleAnalyst), string(store.RoleReadOnly)}
}

func modes() []string { return []string{string(store.ModeLearning), string(store.ModeOperational)} }

// idPattern is what site, zone and sensor ids may hold.
const idPattern = `^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`

func ident() *openapi.Schema { return str().Match(idPattern) }

func oneLine(max int) *openapi.Schema { return str().Len(0, max).Match(`^[^\r\n\x00]*$`) }

// schemas returns the component schemas: every JSON object the API sends
// or takes. Objects are closed (no other property allowed), so the
// validation test fails when a Go type gains a field the document lacks.
func schemas() map[string]*openapi.Schema {
	ip := str().Doc("IPv4 or IPv6 address")
	mac := str().Match(`^([0-9a-f]{2}:){5}[0-9a-f]{2}$`).Doc("Ethernet address")
	return map[string]*openapi.Schema{
		"Error": obj(props{"error": str().Len(1, -1)}, "error"),

		"Party": obj(props{"ip": ip, "mac": mac, "port": count().Max(65535), "name": str()}).
			Doc("One side of an alert: the device as the traffic showed it."),
		"Endpoint":  obj(props{"ip": ip, "mac": mac, "port": count().Max(65535)}),
		"Target":    obj(props{"kind": str(), "name": str(), "address": count(), "count": count()}, "kind"),
		"Result":    obj(props{"status": enum("unknown", "ok", "error", "malformed"), "code": integer(), "text": str()}, "status"),
		"Attr":      obj(props{"key": str(), "value": str()}, "key", "value"),
		"PacketRef": obj(props{"flow": count(), "index": count(), "frame": count()}, "flow", "index"),
		"IdentityFact": obj(props{"key": str(), "value": str(), "server": boo()}, "key", "value", "server").
			Doc("A fact an operation revealed about a device's identity."),
		"Operation": obj(props{
			"time": tm(), "protocol": str(), "transport": str(), "client": ref("Endpoint"), "server": ref("Endpoint"),
			"function_code": integer(), "function": str(), "class": enum(classNames()...), "targets": arr(ref("Target")),
			"result": ref("Result"), "request": boo(), "response": boo(), "identity": arr(ref("IdentityFact")),
			"attrs": arr(ref("Attr")), "packets": arr(ref("PacketRef")), "detail": str(),
		}, "time", "protocol", "client", "server", "function_code", "function", "class", "result", "request", "response").
			Doc("A decoded industrial protocol operation: what one device asked another to do, and the answer."),
		"BaselineEntry": obj(props{
			"kind": enum(baselineKinds()...), "client": ip, "server": ip, "mac": mac, "protocol": str(), "port": count().Max(65535),
			"function": str(), "class": str(), "target": str(),
		}, "kind").Doc("A learned pattern of normal traffic."),
		"EvidenceInfo": obj(props{"size": count(), "stored": tm()}, "size", "stored"),
		"Alert": obj(props{
			"id": str(), "type": str(), "title": str(), "description": str(),
			"severity": enum(severityNames()...), "status": enum(statusNames()...), "engine": enum(engineNames()...),
			"category": str(), "protocol": str(), "source": ref("Party"), "destination": ref("Party"),
			"sensor": str(), "site": str(), "zone": str(), "key": str(),
			"first_detection": tm(), "last_detection": tm(), "count": count(),
			"tactics":     arr(str()).OrNull().Doc("ATT&CK for ICS tactic ids"),
			"techniques":  arr(str()).OrNull().Doc("ATT&CK for ICS technique ids (T0xxx)"),
			"remediation": arr(str()).OrNull().Doc("ordered remediation steps"),
			"learnable":   boo(), "learn": ref("BaselineEntry"), "operation": ref("Operation"),
			"details": arr(ref("Attr")), "evidence": arr(ref("PacketRef")),
			"muted": boo().Doc("the alert's pattern is muted"), "pcap": ref("EvidenceInfo"), "updated": tm(),
		}, "id", "type", "title", "description", "severity", "status", "engine", "category", "source", "destination",
			"first_detection", "last_detection", "count", "tactics", "techniques", "remediation", "learnable", "muted", "updated"),
		"AlertPage":  obj(props{"alerts": arr(ref("Alert")), "next": str().Doc("cursor of the next page; absent on the last")}, "alerts"),
		"FacetCount": obj(props{"value": str(), "count": count()}, "value", "count"),
		"Facets": obj(props{
			"total":  count().Doc("alerts matching the whole filter"),
			"counts": facetCounts(),
		}, "total", "counts"),
		"Comment":      obj(props{"id": integer(), "alert_id": str(), "author": str(), "text": str(), "time": tm()}, "id", "alert_id", "author", "text", "time"),
		"StatusChange": obj(props{"alert_id": str(), "time": tm(), "actor": str(), "action": enum(store.ActionStatus, store.ActionLearn, store.ActionMute, store.ActionUnmute), "from": enum(statusNames()...), "to": enum(statusNames()...), "reason": str()}, "alert_id", "time", "actor", "action", "from", "to"),
		"LearnResult":  obj(props{"entry": ref("BaselineEntry"), "text": str()}, "entry", "text"),
		"LearnPreview": obj(props{"learnable": boo(), "entry": ref("BaselineEntry").OrNull(), "text": str()}, "learnable", "entry", "text"),
		"Changed":      obj(props{"changed": count().Doc("how many alerts changed")}, "changed"),
		"Learned":      obj(props{"entries": arr(ref("LearnResult"))}, "entries"),
		"Mute": obj(props{"id": integer(), "sensor": str(), "type": str(), "source": str(), "destination": str(), "key": str(),
			"alert_id": str(), "actor": str(), "created": tm(), "suppressed": count()},
			"id", "sensor", "type", "source", "destination", "key", "alert_id", "actor", "created", "suppressed"),
		"AlertType": obj(props{"id": str(), "name": str(), "engine": enum(engineNames()...), "severity": enum(severityNames()...),
			"category": str(), "protocol": str(), "description": str(), "techniques": arr(str()), "learnable": boo()},
			"id", "name", "engine", "severity", "category", "description", "techniques", "learnable"),

		"Event": obj(props{"id": integer(), "time": tm(), "sensor": str(), "type": str(), "device": str(), "device_id": count(),
			"peer": str(), "peer_id": count(), "alert_id": str(), "detail": str()}, "id", "time", "type"),
		"EventPage": obj(props{"events": arr(ref("Event")), "next": str()}, "events"),

		"Service":    obj(props{"protocol": str(), "transport": str(), "port": count().Max(65535), "classes": arr(str())}, "protocol"),
		"DeviceFact": obj(props{"key": str(), "value": str(), "source": str(), "rank": integer(), "first_seen": tm(), "last_seen": tm(), "best": boo()}, "key", "value", "source", "rank", "first_seen", "last_seen", "best"),
		"Device": obj(props{
			"sensor": str(), "site": str(), "zone": str(),
			"id": count(), "mac": str(), "ips": arr(str()), "address": str(), "routed_by": count(), "name": str(), "names": arr(str()),
			"vendor": str(), "product": str(), "model": str(), "firmware": str(), "serial": str(), "os": str(),
			"type": enum(deviceTypes()...), "purdue_level": integer().Min(-1).Max(5), "evidence": arr(str()),
			"authorized": boo(), "overridden": boo(), "forwards": boo(), "serves": arr(ref("Service")), "uses": arr(ref("Service")),
			"facts": arr(ref("DeviceFact")), "first_seen": tm(), "last_seen": tm(), "inactive": boo(),
			"packets_sent": count(), "packets_received": count(), "bytes_sent": count(), "bytes_received": count(),
		}, "sensor", "id", "type", "purdue_level", "authorized", "first_seen", "last_seen", "packets_sent", "packets_received", "bytes_sent", "bytes_received"),
		"DevicePage": obj(props{"devices": arr(ref("Device")), "next": str()}, "devices"),
		"Connection": obj(props{
			"client": count(), "server": count(), "relation": str(), "protocol": str(), "transport": str(), "port": count().Max(65535),
			"first_seen": tm(), "last_seen": tm(), "packets_to_server": count(), "packets_to_client": count(),
			"bytes_to_server": count(), "bytes_to_client": count(), "class_mask": count(), "classes": arr(str()),
			"requests": count(), "interval_s": num(), "regular": boo(), "crosses_subnet": boo(), "crosses_purdue": boo(),
		}, "client", "server", "protocol", "transport", "first_seen", "last_seen", "packets_to_server", "packets_to_client",
			"bytes_to_server", "bytes_to_client", "class_mask", "requests", "crosses_subnet", "crosses_purdue"),
		"Override": obj(props{
			"type": enum(deviceTypes()...), "name": oneLine(200), "purdue_level": integer().Min(0).Max(5), "authorized": boo(),
		}).Doc("What a person decided about a device; absent fields are left to discovery."),
		"DeviceOverride": obj(props{"addr": str(), "type": enum(deviceTypes()...), "name": str(), "purdue_level": integer(),
			"authorized": boo(), "actor": str(), "updated": tm()}, "addr", "updated"),

		"Site":      obj(props{"id": ident(), "name": oneLine(200), "description": str().Len(0, 2000)}, "id", "name"),
		"SiteInput": obj(props{"name": oneLine(200).Len(1, 200), "description": str().Len(0, 2000)}, "name"),
		"Zone": obj(props{"id": ident(), "site": ident(), "name": oneLine(200), "description": str().Len(0, 2000),
			"subnets": arr(str().Doc("CIDR prefix"))}, "id", "site", "name"),
		"ZoneInput": obj(props{"site": ident(), "name": oneLine(200).Len(1, 200), "description": str().Len(0, 2000),
			"subnets": arr(str().Len(1, 50)).Count(0, 256)}, "site", "name"),
		"Sensor": obj(props{"id": ident(), "name": oneLine(200), "site": str(), "zone": str(), "mode": enum(modes()...),
			"last_seen": tm(), "created": tm()}, "id", "name", "mode", "created"),
		"SensorInput": obj(props{"name": oneLine(200).Len(1, 200), "site": str().Len(0, 64), "zone": str().Len(0, 64),
			"mode": enum(modes()...)}, "name"),
		"SensorMode": obj(props{"mode": enum(modes()...)}, "mode"),
		"Exclusion": obj(props{"id": integer(), "name": str(), "type": str(), "device": str(), "subnet": str(), "sensor": str(),
			"from": tm(), "until": tm(), "disabled": boo(), "comment": str(), "author": str(), "created": tm(), "suppressed": count()},
			"id", "name", "created", "suppressed"),
		"ExclusionInput": obj(props{
			"name":     oneLine(200).Len(1, 200),
			"type":     str().Len(0, 100).Doc("alert type id, or a prefix ending in * (scan.*)"),
			"device":   str().Len(0, 64).Doc("IP or MAC address of the source or destination"),
			"subnet":   str().Len(0, 50).Doc("CIDR prefix the source or destination IP is in"),
			"sensor":   str().Len(0, 64),
			"from":     tm(),
			"until":    tm(),
			"disabled": boo(),
			"comment":  str().Len(0, store.MaxCommentLen),
		}, "name").Doc("An exclusion rule: alerts matching every criterion it sets are suppressed at detection time."),

		"User": obj(props{"name": str(), "full_name": str(), "role": enum(roles()...), "disabled": boo(), "created": tm(), "updated": tm()},
			"name", "role", "created", "updated"),
		"UserInput": obj(props{"name": str().Len(1, 64), "full_name": oneLine(200), "role": enum(roles()...),
			"password": str().Len(1, 1024), "disabled": boo()}, "name", "role", "password"),
		"UserUpdate": obj(props{"full_name": oneLine(200), "role": enum(roles()...), "password": str().Len(1, 1024), "disabled": boo()}),
		"Token": obj(props{"id": str(), "user": str(), "name": str(), "created": tm(), "last_used": tm(), "expires": tm()},
			"id", "user", "name", "created"),
		"TokenInput": obj(props{"name": oneLine(100).Len(1, 100), "user": str().Len(1, 64).Doc("owner (admins only; default: yourself)"),
			"expires_in_days": integer().Min(0).Max(3650).Doc("0 or absent: until deleted")}, "name"),
		"TokenCreated": obj(props{"token": ref("Token"), "secret": str().Doc("the bearer secret; shown only now")}, "token", "secret"),
		"Login":        obj(props{"name": str().Len(1, 128), "password": str().Len(0, 1024)}, "name", "password"),
		"PasswordChange": obj(props{"current_password": str().Len(0, 1024), "new_password": str().Len(1, 1024)},
			"current_password", "new_password"),
		"Me": obj(props{"name": str(), "full_name": str(), "role": enum(roles()...), "auth": enum(string("session"), "token"),
			"csrf_token": str().Doc("send in the X-CSRF-Token header with state-changing requests (session only)"),
			"expires":    tm()}, "name", "role", "auth"),
		"AuditEntry": obj(props{"id": integer(), "time": tm(), "actor": str(), "action": str(), "object": str(), "detail": str()},
			"id", "time", "actor", "action", "object"),
		"AuditPage": obj(props{"entries": arr(ref("AuditEntry")), "next": str()}, "entries"),
	}
}

func facetCounts() *openapi.Schema {
	p := props{}
	var req []string
	for _, d := range store.Dims {
		p[string(d)] = arr(ref("FacetCount"))
		req = append(req, string(d))
	}
	return obj(p, req...).Doc("per dimension, the alerts per value, ignoring the filter on that dimension")
}

// Request and response types of the API's own (those of the store are
// sent as they are).

// statusInput is the body of a status change.
type statusInput struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
}

func alertFilterSchema() *openapi.Schema {
	p := props{}
	for _, f := range alertFilterParams() {
		p[f.Name] = f.Schema
	}
	return obj(p).Doc("the filter of GET /alerts, with its query parameter names")
}

func statusSchema() *openapi.Schema {
	return obj(props{"status": enum(statusNames()...), "reason": str().Len(0, store.MaxReasonLen)}, "status")
}
