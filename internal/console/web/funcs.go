package web

import (
	"fmt"
	"html/template"
	"strings"
	"time"
)

// fmtTime formats t for a page in loc; "" for the zero time.
func fmtTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("2006-01-02 15:04:05")
}

// fmtBytes formats a byte count with a binary unit.
func fmtBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// checkGroup is a set of checkboxes of one form field.
type checkGroup struct {
	Name string
	Opts []option
}

// sensorsBlock is a table of sensors on the sites page.
type sensorsBlock struct {
	Page    *sitesData
	Sensors []sensorView
}

// funcs are the template functions.
func (s *server) funcs() template.FuncMap {
	return template.FuncMap{
		"time": func(t time.Time) string { return fmtTime(t, s.loc) },
		"iso": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format(time.RFC3339Nano)
		},
		"date": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(s.loc).Format(time.DateOnly)
		},
		"sub":   func(a, b int) int { return a - b },
		"zone":  func() string { return s.loc.String() },
		"join":  strings.Join,
		"bytes": fmtBytes,
		"lower": strings.ToLower,
		"title": func(s string) string {
			if s == "" {
				return s
			}
			return strings.ToUpper(s[:1]) + s[1:]
		},
		"spaced":      func(s string) string { return strings.ReplaceAll(s, "_", " ") },
		"group":       func(name string, opts []option) checkGroup { return checkGroup{Name: name, Opts: opts} },
		"dictSensors": func(p *sitesData, ss []sensorView) sensorsBlock { return sensorsBlock{Page: p, Sensors: ss} },
	}
}
