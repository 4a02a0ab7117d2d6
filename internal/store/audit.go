package store

import (
	"encoding/json"
	"fmt"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/recommend"
)

// The audit log entries of the changes backends make. Time is left zero:
// the backend records the time of its transaction.

// AuditPut is the entry of actor creating or replacing object id of kind
// ("site", "zone", "sensor", "user", "exclusion"): action kind.put on
// object kind:id.
func AuditPut(actor, kind, id, detail string) AuditEntry {
	return AuditEntry{Actor: actor, Action: kind + ".put", Object: kind + ":" + id, Detail: detail}
}

// AuditDelete is the entry of actor deleting object id of kind.
func AuditDelete(actor, kind, id string) AuditEntry {
	return AuditEntry{Actor: actor, Action: kind + ".delete", Object: kind + ":" + id}
}

// AuditSensor is the entry of actor putting sensor s.
func AuditSensor(actor string, s Sensor) AuditEntry {
	return AuditPut(actor, "sensor", s.ID, fmt.Sprintf("%s site=%s zone=%s mode=%s", s.Name, s.Site, s.Zone, s.Mode))
}

// AuditSensorMode is the entry of actor switching sensor id to mode.
func AuditSensorMode(actor, id string, mode SensorMode) AuditEntry {
	return AuditEntry{Actor: actor, Action: "sensor.mode", Object: "sensor:" + id, Detail: string(mode)}
}

// AuditUser is the entry of actor putting user u.
func AuditUser(actor string, u User) AuditEntry {
	return AuditPut(actor, "user", u.Name, fmt.Sprintf("role=%s disabled=%v", u.Role, u.Disabled))
}

// AuditExclusion is the entry of actor putting rule r, as JSON.
func AuditExclusion(actor string, r Exclusion) AuditEntry {
	doc, _ := json.Marshal(r)
	return AuditPut(actor, "exclusion", fmt.Sprint(r.ID), string(doc))
}

// AuditOverride is the entry of actor setting the override of the device
// at addr (OverrideAddr); doc is the override's JSON.
func AuditOverride(actor, addr string, doc []byte) AuditEntry {
	return AuditEntry{Actor: actor, Action: "device.override", Object: "device:" + addr, Detail: string(doc)}
}

// AuditOverrideDelete is the entry of actor removing the override of the
// device at addr.
func AuditOverrideDelete(actor, addr string) AuditEntry {
	return AuditEntry{Actor: actor, Action: "device.override_delete", Object: "device:" + addr}
}

// OverrideDoc is the JSON an override is stored and audited as.
func OverrideDoc(o inventory.Override) ([]byte, error) {
	doc, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("encoding override: %w", err)
	}
	return doc, nil
}

// AuditComment is the entry of comment c.
func AuditComment(c Comment) AuditEntry {
	return AuditEntry{Actor: c.Author, Action: "alert." + ActionComment, Object: "alert:" + c.AlertID, Detail: fmt.Sprintf("comment %d", c.ID)}
}

// AuditBulkStatus is the action of a bulk status change, audited once,
// with Object "alerts".
const AuditBulkStatus = "alert.bulk_status"

// AuditBulk is the entry of a bulk change (action AuditBulkStatus or
// AuditBulkSeverity) by actor of n alerts matching q to to.
func AuditBulk(actor, action string, n int64, to fmt.Stringer, q AlertQuery, reason string) AuditEntry {
	filter, _ := json.Marshal(q)
	return AuditEntry{Actor: actor, Action: action, Object: "alerts", Detail: fmt.Sprintf("%d alerts → %v; filter %s; %s", n, to, filter, reason)}
}

// AuditRecommendation is the entry of actor changing a recommendation's
// status from from to next.Status.
func AuditRecommendation(actor string, from recommend.Status, next RecommendationStatus) AuditEntry {
	return AuditEntry{Actor: actor, Action: ActionRecommendationStatus, Object: "recommendation:" + next.ID, Detail: RecommendationDetail(from, next)}
}

// Change returns the history entry of actor's action on alert id,
// moving it from status from to to (equal for an action that keeps it).
func Change(id, actor, action string, from, to alert.Status, reason string) StatusChange {
	return StatusChange{AlertID: id, Actor: actor, Action: action, From: from, To: to, Reason: reason}
}

// SeverityChange returns the history entry of actor changing the severity
// of alert id, in status status, from from to to.
func SeverityChange(id, actor string, status alert.Status, from, to alert.Severity, reason string) StatusChange {
	return StatusChange{AlertID: id, Actor: actor, Action: ActionSeverity, From: status, To: status,
		FromSeverity: from, ToSeverity: to, Reason: reason}
}

// Audit returns the audit log entry of history entry h: action
// "alert.<action>" (AuditSeverity for a severity change) on "alert:<id>",
// its detail "From → To" (the action's name for learn, mute and unmute,
// SeverityDetail for a severity change), then ": " and the reason.
func (h *StatusChange) Audit() AuditEntry {
	e := AuditEntry{Time: h.Time, Actor: h.Actor, Action: "alert." + h.Action, Object: "alert:" + h.AlertID}
	switch h.Action {
	case ActionSeverity:
		e.Action, e.Detail = AuditSeverity, SeverityDetail(h.FromSeverity, h.ToSeverity, h.Reason)
		return e
	case ActionStatus:
		e.Detail = h.From.String() + " → " + h.To.String()
	default:
		e.Detail = h.Action
	}
	if h.Reason != "" {
		e.Detail += ": " + h.Reason
	}
	return e
}
