package web

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/store"
)

// parseQuery parses a query string, keeping what parses of a malformed
// one.
func parseQuery(q string) url.Values {
	v, _ := url.ParseQuery(q)
	if v == nil {
		v = url.Values{}
	}
	return v
}

// values returns the non-empty values of key, without repeats.
func values(v url.Values, key string) []string {
	var out []string
	for _, s := range v[key] {
		s = strings.TrimSpace(s)
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// timeLayouts are the forms a time filter accepts: RFC 3339, and what an
// HTML datetime-local or date input sends (read in the page's time zone).
var timeLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02"}

// parseTime reads a time filter; "" is the zero time.
func parseTime(name, s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, badRequest("%s: %q is not a time (use 2006-01-02T15:04 or RFC 3339)", name, clip(s))
}

// rangeOpt is a relative time range: the last D.
type rangeOpt struct {
	Key   string
	Label string
	D     time.Duration
}

// ranges are the relative time ranges the filters offer.
var ranges = []rangeOpt{
	{"1h", "Last hour", time.Hour},
	{"24h", "Last 24 hours", 24 * time.Hour},
	{"7d", "Last 7 days", 7 * 24 * time.Hour},
	{"30d", "Last 30 days", 30 * 24 * time.Hour},
}

// timeRange reads from, until and range (a relative range that wins over
// from) of v.
func timeRange(v url.Values, loc *time.Location, now time.Time) (from, until time.Time, err error) {
	if from, err = parseTime("from", v.Get("from"), loc); err != nil {
		return
	}
	if until, err = parseTime("until", v.Get("until"), loc); err != nil {
		return
	}
	if r := v.Get("range"); r != "" {
		i := slices.IndexFunc(ranges, func(x rangeOpt) bool { return x.Key == r })
		if i < 0 {
			return from, until, badRequest("range: %q is not one of 1h, 24h, 7d, 30d", clip(r))
		}
		from = now.Add(-ranges[i].D).UTC()
	}
	if !from.IsZero() && !until.IsZero() && !until.After(from) {
		return from, until, badRequest("the time range ends before it starts")
	}
	return from, until, nil
}

// alertQuery builds the store query of the alert grid's parameters.
func alertQuery(v url.Values, loc *time.Location, now time.Time) (store.AlertQuery, error) {
	q := store.AlertQuery{Sensors: values(v, "sensor"), Sites: values(v, "site"), Zones: values(v, "zone"),
		Categories: values(v, "category"), Protocols: values(v, "protocol"), Types: values(v, "type"),
		Text: strings.Join(values(v, "q"), " ")}
	for _, s := range values(v, "severity") {
		sev, err := alert.ParseSeverity(s)
		if err != nil {
			return q, badRequest("severity: %q is not a severity", clip(s))
		}
		q.Severities = append(q.Severities, sev)
	}
	for _, s := range values(v, "status") {
		st, err := alert.ParseStatus(s)
		if err != nil {
			return q, badRequest("status: %q is not a status", clip(s))
		}
		q.Statuses = append(q.Statuses, st)
	}
	for _, s := range values(v, "engine") {
		e, err := alert.ParseEngine(s)
		if err != nil {
			return q, badRequest("engine: %q is not an engine", clip(s))
		}
		q.Engines = append(q.Engines, e)
	}
	for _, s := range values(v, "device") {
		for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
			a, err := store.NormalizeAddr(f)
			if err != nil {
				return q, badRequest("device: %q is neither an IP nor a MAC address", clip(f))
			}
			q.Devices = append(q.Devices, a)
		}
	}
	var err error
	if q.From, q.Until, err = timeRange(v, loc, now); err != nil {
		return q, err
	}
	switch s := v.Get("sort"); s {
	case "", string(store.SortLastDetection), string(store.SortSeverity), string(store.SortFirstDetection):
		q.Sort = store.Sort(s)
	default:
		return q, badRequest("sort: %q is not last_detection, severity or first_detection", clip(s))
	}
	q.Ascending = v.Get("order") == "asc"
	if c := v.Get("cursor"); c != "" {
		if _, err := store.DecodeCursor(c); err != nil {
			return q, badRequest("cursor: not a page this console gave")
		}
		q.Cursor = c
	}
	return q.Normalize()
}

// filterKeys are the alert grid parameters that select alerts (not the
// order, page or grouping).
var filterKeys = []string{"sensor", "site", "zone", "severity", "status", "engine", "category", "protocol", "type", "device", "from", "until", "range", "q"}

// onlyKeys returns the parameters of v named in keys.
func onlyKeys(v url.Values, keys ...string) url.Values {
	out := url.Values{}
	for _, k := range keys {
		if vs := values(v, k); len(vs) > 0 {
			out[k] = vs
		}
	}
	return out
}

// withValue returns a copy of v with key set to val (removed when "").
func withValue(v url.Values, key, val string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	if val == "" {
		out.Del(key)
	} else {
		out.Set(key, val)
	}
	return out
}

// href returns path with the encoded query v.
func href(path string, v url.Values) string {
	if e := v.Encode(); e != "" {
		return path + "?" + e
	}
	return path
}

// clip shortens s for messages.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "?")
	if r := []rune(s); len(r) > 64 {
		return string(r[:64]) + "…"
	}
	return s
}

// inputTime formats t for a datetime-local input in loc.
func inputTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("2006-01-02T15:04")
}

// parseDeviceID reads a device id path parameter.
func parseDeviceID(s string) (uint32, error) {
	var id uint32
	if _, err := fmt.Sscan(s, &id); err != nil || id == 0 || fmt.Sprint(id) != s {
		return 0, badRequest("%q is not a device id", clip(s))
	}
	return id, nil
}
