package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/baseline"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/store"
)

// alertQuery builds the store query of the alert filter parameters in v
// (empty values ignored). Values are checked: an unknown severity,
// status or engine, a malformed address or time is a 400.
func alertQuery(v url.Values) (store.AlertQuery, error) {
	get := func(k string) []string {
		var out []string
		for _, s := range v[k] {
			if s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	q := store.AlertQuery{Sensors: get("sensor"), Sites: get("site"), Zones: get("zone"), Categories: get("category"),
		Protocols: get("protocol"), Types: get("type"), Text: strings.Join(get("q"), " ")}
	var err error
	if q.Severities, err = parseValues("severity", get("severity"), alert.ParseSeverity); err != nil {
		return q, err
	}
	if q.Statuses, err = parseValues("status", get("status"), alert.ParseStatus); err != nil {
		return q, err
	}
	if q.Engines, err = parseValues("engine", get("engine"), alert.ParseEngine); err != nil {
		return q, err
	}
	if q.Devices, err = store.NormalizeAddrs(get("device")); err != nil {
		return q, badRequest("device: %s", clean(err))
	}
	if q.From, err = parseTime("from", v.Get("from")); err != nil {
		return q, err
	}
	if q.Until, err = parseTime("until", v.Get("until")); err != nil {
		return q, err
	}
	return q, nil
}

// parseValues parses the values ss of field with parse (see parseValue).
func parseValues[T any](field string, ss []string, parse func(string) (T, error)) ([]T, error) {
	var out []T
	for _, s := range ss {
		v, err := parseValue(field, s, parse)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// alertPageQuery is alertQuery with the sort, order, cursor and limit
// parameters of the call.
func (c *call) alertPageQuery() (store.AlertQuery, error) {
	q, err := alertQuery(c.r.URL.Query())
	if err != nil {
		return q, err
	}
	q.Sort = store.Sort(c.query("sort"))
	q.Ascending = c.query("order") == "asc"
	q.Cursor = c.query("cursor")
	q.Limit = c.queryInt("limit")
	if q.Cursor != "" {
		if _, err := store.DecodeCursor(q.Cursor); err != nil {
			return q, badRequest("cursor: not a cursor this API gave (pass the next value of the previous page)")
		}
	}
	return q.Normalize()
}

func alertPage(p store.AlertPage) store.AlertPage {
	if p.Alerts == nil {
		p.Alerts = []*store.AlertRecord{}
	}
	return p
}

func (a *API) listAlerts(c *call) (any, error) {
	q, err := c.alertPageQuery()
	if err != nil {
		return nil, err
	}
	p, err := a.st.Alerts(c.ctx, q)
	return alertPage(p), err
}

func (a *API) alertFacets(c *call) (any, error) {
	q, err := alertQuery(c.r.URL.Query())
	if err != nil {
		return nil, err
	}
	if q, err = q.Normalize(); err != nil {
		return nil, err
	}
	f, err := a.st.AlertFacets(c.ctx, q)
	if err != nil {
		return nil, err
	}
	if f.Counts == nil {
		f.Counts = map[store.Dim][]store.FacetCount{}
	}
	for _, d := range store.Dims {
		if f.Counts[d] == nil {
			f.Counts[d] = []store.FacetCount{}
		}
	}
	return f, nil
}

func (a *API) getAlert(c *call) (any, error) {
	return a.st.Alert(c.ctx, c.r.PathValue("id"))
}

func (a *API) relatedAlerts(c *call) (any, error) {
	rs, err := a.st.RelatedAlerts(c.ctx, c.r.PathValue("id"), c.queryInt("limit"))
	return alertPage(store.AlertPage{Alerts: rs}), err
}

func (a *API) relatedEvents(c *call) (any, error) {
	window := time.Hour
	if c.query("window") != "" {
		window = time.Duration(c.queryInt("window")) * time.Second
	}
	es, err := a.st.RelatedEvents(c.ctx, c.r.PathValue("id"), window, c.queryInt("limit"))
	if es == nil {
		es = []store.Event{}
	}
	return store.EventPage{Events: es}, err
}

// parseValue parses the value s of field with parse; a bad value is a
// 400 that names the field.
func parseValue[T any](field, s string, parse func(string) (T, error)) (T, error) {
	v, err := parse(s)
	if err != nil {
		return v, badRequest("%s: %v", field, strings.TrimPrefix(err.Error(), "alert: "))
	}
	return v, nil
}

func (a *API) setStatus(c *call) (any, error) {
	var in statusInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	st, err := parseValue("status", in.Status, alert.ParseStatus)
	if err != nil {
		return nil, err
	}
	id := c.r.PathValue("id")
	if err := a.st.SetStatus(c.ctx, []string{id}, st, c.actor(), in.Reason); err != nil {
		return nil, err
	}
	return a.st.Alert(c.ctx, id)
}

// changed is the body of the answer to a multi-alert change.
type changed struct {
	Changed int64 `json:"changed"`
}

// filterValues turns a JSON filter (validated against alertFilterSchema)
// into query parameter values.
func filterValues(f map[string]any) url.Values {
	v := url.Values{}
	for k, x := range f {
		switch x := x.(type) {
		case string:
			v.Add(k, x)
		case []any:
			for _, e := range x {
				if s, ok := e.(string); ok {
					v.Add(k, s)
				}
			}
		}
	}
	return v
}

// changeInput is the body of a change to many alerts: the alerts by ids
// or by the filter of GET /alerts, the new status or severity, and why.
// The route's schema admits only the fields that apply to it.
type changeInput struct {
	IDs      []string       `json:"ids"`
	Filter   map[string]any `json:"filter"`
	Status   string         `json:"status"`
	Severity string         `json:"severity"`
	Reason   string         `json:"reason"`
}

// alertChange changes one field of many alerts, its status or its
// severity: byIDs the alerts a request lists, byFilter those its filter
// matches.
type alertChange[T any] struct {
	field  string                    // JSON name of the new value
	value  func(*changeInput) string // the new value in the body
	parse  func(string) (T, error)
	set    func(ctx context.Context, ids []string, v T, actor, reason string) error
	setAll func(ctx context.Context, q store.AlertQuery, v T, actor, reason string) (int64, error)
}

// decode reads the body into in and returns its new value.
func (ch alertChange[T]) decode(c *call, in *changeInput) (T, error) {
	if err := c.decode(in); err != nil {
		var zero T
		return zero, err
	}
	return parseValue(ch.field, ch.value(in), ch.parse)
}

func (ch alertChange[T]) byIDs(c *call) (any, error) {
	var in changeInput
	v, err := ch.decode(c, &in)
	if err != nil {
		return nil, err
	}
	if err := ch.set(c.ctx, in.IDs, v, c.actor(), in.Reason); err != nil {
		return nil, err
	}
	return changed{Changed: int64(len(in.IDs))}, nil
}

func (ch alertChange[T]) byFilter(c *call) (any, error) {
	var in changeInput
	v, err := ch.decode(c, &in)
	if err != nil {
		return nil, err
	}
	q, err := alertQuery(filterValues(in.Filter))
	if err != nil {
		return nil, err
	}
	if q, err = q.Normalize(); err != nil {
		return nil, err
	}
	n, err := ch.setAll(c.ctx, q, v, c.actor(), in.Reason)
	return changed{Changed: n}, err
}

func (a *API) statusChange() alertChange[alert.Status] {
	return alertChange[alert.Status]{field: "status", value: func(in *changeInput) string { return in.Status },
		parse: alert.ParseStatus, set: a.st.SetStatus, setAll: a.st.BulkSetStatus}
}

func (a *API) severityChange() alertChange[alert.Severity] {
	return alertChange[alert.Severity]{field: "severity", value: func(in *changeInput) string { return in.Severity },
		parse: alert.ParseSeverity, set: a.st.SetSeverity, setAll: a.st.BulkSetSeverity}
}

func (a *API) setStatuses(c *call) (any, error)   { return a.statusChange().byIDs(c) }
func (a *API) bulkStatus(c *call) (any, error)    { return a.statusChange().byFilter(c) }
func (a *API) setSeverities(c *call) (any, error) { return a.severityChange().byIDs(c) }
func (a *API) bulkSeverity(c *call) (any, error)  { return a.severityChange().byFilter(c) }

// learnEntry returns the baseline entry Store.Learn adds for r, as its
// documentation states: the alert's Learn entry, or for a learnable
// alert without one the KindPattern entry of its source and destination
// IPs, type and key.
func learnEntry(r *store.AlertRecord) (baseline.Entry, bool) {
	switch {
	case r.Learn != nil:
		return *r.Learn, true
	case r.Learnable:
		return baseline.Entry{Kind: baseline.KindPattern, Client: r.Source.IP, Server: r.Destination.IP, Function: r.Type, Target: r.Key}, true
	}
	return baseline.Entry{}, false
}

// learnResult is the answer to a learn.
type learnResult struct {
	Entry baseline.Entry `json:"entry"`
	Text  string         `json:"text"`
}

func (a *API) learnPreview(c *call) (any, error) {
	r, err := a.st.Alert(c.ctx, c.r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	e, ok := learnEntry(r)
	out := struct {
		Learnable bool            `json:"learnable"`
		Entry     *baseline.Entry `json:"entry"`
		Text      string          `json:"text"`
	}{Learnable: ok, Text: fmt.Sprintf("alert type %s cannot be learned", r.Type)}
	if ok {
		out.Entry, out.Text = &e, e.String()
	}
	return out, nil
}

func (a *API) learn(c *call) (any, error) {
	e, err := a.st.Learn(c.ctx, c.r.PathValue("id"), c.actor())
	if err != nil {
		return nil, err
	}
	return learnResult{Entry: e, Text: e.String()}, nil
}

func (a *API) learnMany(c *call) (any, error) {
	var in struct {
		IDs []string `json:"ids"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	for _, id := range in.IDs {
		r, err := a.st.Alert(c.ctx, id)
		if err != nil {
			return nil, err
		}
		if _, ok := learnEntry(r); !ok {
			return nil, badRequest("alert %s (%s) cannot be learned; nothing was changed", id, r.Type)
		}
	}
	out := struct {
		Entries []learnResult `json:"entries"`
	}{Entries: []learnResult{}}
	for _, id := range in.IDs {
		e, err := a.st.Learn(c.ctx, id, c.actor())
		if err != nil {
			return nil, fmt.Errorf("learning alert %s (after %d learned): %w", id, len(out.Entries), err)
		}
		out.Entries = append(out.Entries, learnResult{Entry: e, Text: e.String()})
	}
	return out, nil
}

func (a *API) mute(c *call) (any, error) {
	id := c.r.PathValue("id")
	if err := a.st.Mute(c.ctx, id, c.actor()); err != nil {
		return nil, err
	}
	return a.st.Alert(c.ctx, id)
}

func (a *API) unmute(c *call) (any, error) {
	id := c.r.PathValue("id")
	if err := a.st.Unmute(c.ctx, id, c.actor()); err != nil {
		return nil, err
	}
	return a.st.Alert(c.ctx, id)
}

func (a *API) comments(c *call) (any, error) {
	cs, err := a.st.Comments(c.ctx, c.r.PathValue("id"))
	if cs == nil {
		cs = []store.Comment{}
	}
	return map[string][]store.Comment{"comments": cs}, err
}

func (a *API) addComment(c *call) (any, error) {
	var in struct {
		Text string `json:"text"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if err := store.CheckComment(in.Text); err != nil {
		return nil, err
	}
	return a.st.Comment(c.ctx, c.r.PathValue("id"), c.actor(), in.Text)
}

func (a *API) history(c *call) (any, error) {
	hs, err := a.st.History(c.ctx, c.r.PathValue("id"))
	if hs == nil {
		hs = []store.StatusChange{}
	}
	return map[string][]store.StatusChange{"history": hs}, err
}

// Capture file magic numbers: pcapng's Section Header Block type
// (pcapng draft, section 4.1) and the pcap header's magic in either byte
// order, with microsecond or nanosecond timestamps.
var (
	pcapngMagic = []byte{0x0a, 0x0d, 0x0d, 0x0a}
	pcapMagics  = [][]byte{{0xa1, 0xb2, 0xc3, 0xd4}, {0xd4, 0xc3, 0xb2, 0xa1}, {0xa1, 0xb2, 0x3c, 0x4d}, {0x4d, 0x3c, 0xb2, 0xa1}}
)

// captureType returns the media type and file extension of a capture.
func captureType(b []byte) (string, string) {
	if bytes.HasPrefix(b, pcapngMagic) {
		return "application/x-pcapng", "pcapng"
	}
	for _, m := range pcapMagics {
		if bytes.HasPrefix(b, m) {
			return "application/vnd.tcpdump.pcap", "pcap"
		}
	}
	return "application/octet-stream", "bin"
}

func (a *API) pcap(c *call) (any, error) {
	id := c.r.PathValue("id")
	if _, err := a.st.Alert(c.ctx, id); err != nil {
		return nil, err
	}
	b, err := a.st.Evidence(c.ctx, id)
	if err != nil {
		return nil, err
	}
	ct, ext := captureType(b)
	if err := a.st.AddAudit(c.ctx, store.AuditEntry{Actor: c.actor(), Action: "alert.pcap", Object: "alert:" + id,
		Detail: fmt.Sprintf("%d bytes", len(b))}); err != nil {
		return nil, err
	}
	return &download{contentType: ct, filename: "otwatch-alert-" + id + "." + ext, body: b}, nil
}

// csvColumns are the columns of the CSV export: the alert grid's, then
// identifiers.
var csvColumns = []string{"severity", "name", "title", "engine", "category", "status", "source", "destination", "protocol",
	"site", "zone", "sensor", "first_detection", "last_detection", "count", "type", "id"}

// csvCell neutralises a text cell a spreadsheet would run as a formula
// (OWASP "CSV Injection"): one starting with = + - @, tab or carriage
// return gets a leading apostrophe.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func alertName(r *store.AlertRecord) string {
	if t := detect.LookupType(r.Type); t != nil {
		return t.Name
	}
	return r.Title
}

func (a *API) exportAlerts(c *call) (any, error) {
	q, err := c.alertPageQuery()
	if err != nil {
		return nil, err
	}
	q.Limit = store.MaxLimit
	first, err := a.st.Alerts(c.ctx, q)
	if err != nil {
		return nil, err
	}
	filter := c.r.URL.RawQuery
	if err := a.st.AddAudit(c.ctx, store.AuditEntry{Actor: c.actor(), Action: "alert.export", Object: "alerts", Detail: "csv; filter " + clip(filter)}); err != nil {
		return nil, err
	}
	write := func(w io.Writer) error {
		cw := csv.NewWriter(w)
		if err := cw.Write(csvColumns); err != nil {
			return err
		}
		p, rows := first, 0
		for {
			for _, r := range p.Alerts {
				if rows >= a.opts.MaxExportRows {
					cw.Flush()
					return cw.Error()
				}
				rows++
				rec := []string{r.Severity.String(), alertName(r), r.Title, r.Engine.String(), r.Category, r.Status.String(),
					r.Source.String(), r.Destination.String(), r.Protocol, r.Site, r.Zone, r.Sensor,
					r.FirstDetection.UTC().Format(time.RFC3339), r.LastDetection.UTC().Format(time.RFC3339),
					strconv.FormatUint(r.Count, 10), r.Type, r.ID}
				for i := range rec {
					rec[i] = csvCell(rec[i])
				}
				if err := cw.Write(rec); err != nil {
					return err
				}
			}
			cw.Flush()
			if p.Next == "" || cw.Error() != nil {
				return cw.Error()
			}
			q.Cursor = p.Next
			var err error
			if p, err = a.st.Alerts(c.ctx, q); err != nil {
				return err
			}
		}
	}
	return &stream{contentType: "text/csv; charset=utf-8", filename: "otwatch-alerts.csv", write: write}, nil
}

// alertType is an alert type as the API lists it.
type alertType struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	Engine      alert.Engine   `json:"engine"`
	Severity    alert.Severity `json:"severity"`
	Category    string         `json:"category"`
	Protocol    string         `json:"protocol,omitempty"`
	Description string         `json:"description"`
	Techniques  []string       `json:"techniques"`
	Learnable   bool           `json:"learnable"`
}

func (a *API) alertTypes(c *call) (any, error) {
	out := []alertType{}
	for _, t := range detect.Types() {
		tech := t.Techniques
		if tech == nil {
			tech = []string{}
		}
		out = append(out, alertType{ID: t.ID, Name: t.Name, Engine: t.Engine, Severity: t.Severity, Category: t.Category,
			Protocol: t.Protocol, Description: t.Description, Techniques: tech, Learnable: t.Learnable})
	}
	return map[string][]alertType{"types": out}, nil
}

func (a *API) mutes(c *call) (any, error) {
	ms, err := a.st.Mutes(c.ctx)
	if ms == nil {
		ms = []store.Mute{}
	}
	return map[string][]store.Mute{"mutes": ms}, err
}
