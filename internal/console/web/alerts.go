package web

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/baseline"
	"github.com/otwatch/otwatch/internal/console/auth"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/store"
)

// alertRow is one line of an alert grid.
type alertRow struct {
	ID, Name, Title, Type    string
	Severity, Engine, Status string
	SevClass                 string
	Category, Protocol       string
	Source, Destination      string
	Site, Zone, Sensor       string
	First, Last              time.Time
	Count                    uint64
	Muted, Learnable         bool
	Href, Pane               string
}

// alertName returns the grid's name of an alert: its type's name, else
// its title.
func alertName(a *alert.Alert) string {
	if t := detect.LookupType(a.Type); t != nil {
		return t.Name
	}
	if a.Title != "" {
		return a.Title
	}
	return a.Type
}

// typeName returns the name of alert type id, or id when unknown.
func typeName(id string) string {
	if t := detect.LookupType(id); t != nil {
		return t.Name
	}
	return id
}

func sevClass(s alert.Severity) string { return "sev-" + strings.ToLower(s.String()) }

// rowOf returns the grid row of r; from is the page the alert's link
// comes back to.
func rowOf(r *store.AlertRecord, from string) alertRow {
	_, learnable := learnEntry(r)
	return alertRow{ID: r.ID, Name: alertName(&r.Alert), Title: r.Title, Type: r.Type,
		Severity: r.Severity.String(), SevClass: sevClass(r.Severity), Engine: r.Engine.String(), Status: r.Status.String(),
		Category: r.Category, Protocol: r.Protocol, Source: r.Source.String(), Destination: partyText(r.Destination),
		Site: r.Site, Zone: r.Zone, Sensor: r.Sensor, First: r.FirstDetection, Last: r.LastDetection, Count: r.Count,
		Muted: r.Muted, Learnable: learnable,
		Href: alertHref(r.ID, from), Pane: "/alerts/" + url.PathEscape(r.ID) + "/pane?from=" + url.QueryEscape(from)}
}

func partyText(p alert.Party) string {
	if p.IsZero() {
		return ""
	}
	return p.String()
}

// alertHref links to an alert's page, coming from from.
func alertHref(id, from string) string {
	h := "/alerts/" + url.PathEscape(id)
	if from != "" {
		h += "?from=" + url.QueryEscape(from)
	}
	return h
}

// learnEntry returns the baseline entry Store.Learn adds for r: its Learn
// entry, or for a learnable alert without one the KindPattern entry of
// its source and destination, type and key.
func learnEntry(r *store.AlertRecord) (baseline.Entry, bool) {
	switch {
	case r.Learn != nil:
		return *r.Learn, true
	case r.Learnable:
		return baseline.Entry{Kind: baseline.KindPattern, Client: r.Source.IP, Server: r.Destination.IP, Function: r.Type, Target: r.Key}, true
	}
	return baseline.Entry{}, false
}

// facetValue is one value of a filter dimension with its count.
type facetValue struct {
	Value, Label string
	Count        int64
	Checked      bool
}

// facetGroup is a filter dimension of the grid.
type facetGroup struct {
	Key, Label string
	Values     []facetValue
}

// facetDims are the grid's filter dimensions, in order, with labels.
var facetDims = []struct {
	dim   store.Dim
	label string
}{
	{store.DimSeverity, "Severity"}, {store.DimStatus, "Status"}, {store.DimSensor, "Sensor"}, {store.DimSite, "Site"},
	{store.DimZone, "Zone"}, {store.DimEngine, "Engine"}, {store.DimCategory, "Category"}, {store.DimProtocol, "Protocol"},
	{store.DimType, "Alert type"},
}

// enumDim reports whether values of d compare in any case.
func enumDim(d store.Dim) bool {
	return d == store.DimSeverity || d == store.DimStatus || d == store.DimEngine
}

func facetGroups(f store.Facets, v url.Values) []facetGroup {
	var out []facetGroup
	for _, fd := range facetDims {
		key := string(fd.dim)
		chosen := values(v, key)
		g := facetGroup{Key: key, Label: fd.label}
		isChosen := func(val string) bool {
			return slices.ContainsFunc(chosen, func(c string) bool {
				return c == val || (enumDim(fd.dim) && strings.EqualFold(c, val)) ||
					(fd.dim == store.DimEngine && strings.EqualFold(c, engineKey(val)))
			})
		}
		for _, c := range f.Counts[fd.dim] {
			if c.Value == "" {
				continue // nothing to filter on
			}
			fv := facetValue{Value: c.Value, Label: c.Value, Count: c.Count, Checked: isChosen(c.Value)}
			if fd.dim == store.DimType {
				fv.Label = typeName(c.Value)
			}
			g.Values = append(g.Values, fv)
		}
		for _, c := range chosen {
			if !slices.ContainsFunc(g.Values, func(fv facetValue) bool { return fv.Checked && (fv.Value == c || strings.EqualFold(fv.Value, c)) }) {
				g.Values = append(g.Values, facetValue{Value: c, Label: c, Checked: true})
			}
		}
		out = append(out, g)
	}
	return out
}

func engineKey(name string) string {
	e, err := alert.ParseEngine(name)
	if err != nil {
		return name
	}
	return e.Key()
}

// grouping is what the grid can group by.
type grouping struct {
	Key, Label string
	dim        store.Dim
}

// groupings are what the grid groups by, with the facet dimension that
// counts the groups.
var groupings = []grouping{
	{"engine", "Engine", store.DimEngine}, {"name", "Name", store.DimType}, {"sensor", "Sensor", store.DimSensor},
	{"severity", "Severity", store.DimSeverity}, {"site", "Site", store.DimSite},
}

// rowGroup is a group of the grid's rows.
type rowGroup struct {
	key    string
	Label  string
	Count  int64 // alerts of the group matching the filter, all pages
	Filter string
	Rows   []alertRow
}

// sortLink is a sortable column header.
type sortLink struct {
	Href   string
	Active bool
	Arrow  string
}

// option is a choice of a select element.
type option struct {
	Value, Label string
	Selected     bool
}

// alertsData is the alerts grid page.
type alertsData struct {
	*base
	Error     string
	Groups    []rowGroup
	Rows      int
	Facets    []facetGroup
	Total     int64
	Q         string
	Device    string
	From      string
	Until     string
	Ranges    []option
	Grouping  []option
	GroupBy   string
	SortKey   string
	Order     string
	GroupList []rowGroup // every group with its count, when grouping
	Sort      map[string]sortLink
	Next      string
	FirstPage string
	Paged     bool
	Export    string
	Filter    string // the encoded filter, for "apply to all matching"
}

func (s *server) alertsPage(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	v := r.URL.Query()
	d := &alertsData{base: s.newBase(r, "Alerts", "alerts")}
	d.Q, d.Device = v.Get("q"), strings.Join(values(v, "device"), ", ")
	d.SortKey, d.Order = v.Get("sort"), v.Get("order")
	d.GroupBy = v.Get("group")
	if d.GroupBy != "" && !slices.ContainsFunc(groupings, func(g grouping) bool { return g.Key == d.GroupBy }) {
		d.GroupBy = ""
	}
	for _, rg := range ranges {
		d.Ranges = append(d.Ranges, option{Value: rg.Key, Label: rg.Label, Selected: v.Get("range") == rg.Key})
	}
	d.Grouping = append(d.Grouping, option{Value: "", Label: "No grouping", Selected: d.GroupBy == ""})
	for _, g := range groupings {
		d.Grouping = append(d.Grouping, option{Value: g.Key, Label: g.Label, Selected: d.GroupBy == g.Key})
	}
	filter := onlyKeys(v, filterKeys...)
	d.Filter = filter.Encode()
	d.Sort = sortLinks(v)
	code := http.StatusOK
	q, err := alertQuery(v, s.loc, s.now())
	if err != nil {
		code, d.Error = status(err)
		if code >= 500 {
			return err
		}
		d.Facets = facetGroups(store.Facets{}, v)
		s.render(w, code, "alerts", d)
		return nil
	}
	d.From, d.Until = inputTime(q.From, s.loc), inputTime(q.Until, s.loc)
	d.Export = href(s.opts.APIPrefix+"/alerts/export.csv", exportParams(v, q))
	page, err := s.st.Alerts(r.Context(), q)
	if err != nil {
		return err
	}
	fq := q
	fq.Cursor = ""
	facets, err := s.st.AlertFacets(r.Context(), fq)
	if err != nil {
		return err
	}
	d.Total = facets.Total
	d.Facets = facetGroups(facets, v)
	self := r.URL.RequestURI()
	rows := make([]alertRow, len(page.Alerts))
	for i, a := range page.Alerts {
		rows[i] = rowOf(a, self)
	}
	d.Rows = len(rows)
	d.Groups = s.group(rows, page.Alerts, facets, v, d.GroupBy)
	if d.GroupBy != "" {
		d.GroupList = groupList(facets, v, d.GroupBy)
	}
	if page.Next != "" {
		d.Next = href("/alerts", withValue(v, "cursor", page.Next))
	}
	if q.Cursor != "" {
		d.Paged = true
		d.FirstPage = href("/alerts", withValue(v, "cursor", ""))
	}
	s.render(w, code, "alerts", d)
	return nil
}

// exportParams keeps the filter and order of the grid for the CSV export,
// with the time range in RFC 3339 as the API takes it.
func exportParams(v url.Values, q store.AlertQuery) url.Values {
	out := onlyKeys(v, "sensor", "site", "zone", "severity", "status", "engine", "category", "protocol", "type", "q", "sort", "order")
	for _, d := range q.Devices {
		out.Add("device", d)
	}
	if !q.From.IsZero() {
		out.Set("from", q.From.Format(time.RFC3339))
	}
	if !q.Until.IsZero() {
		out.Set("until", q.Until.Format(time.RFC3339))
	}
	return out
}

// sortLinks returns the header links of the sortable columns: a click on
// the active one reverses the order.
func sortLinks(v url.Values) map[string]sortLink {
	cur := v.Get("sort")
	if cur == "" {
		cur = string(store.SortLastDetection)
	}
	asc := v.Get("order") == "asc"
	out := map[string]sortLink{}
	for _, k := range []store.Sort{store.SortLastDetection, store.SortSeverity, store.SortFirstDetection} {
		l := sortLink{Active: string(k) == cur}
		nv := withValue(withValue(v, "cursor", ""), "sort", string(k))
		nv = withValue(nv, "order", "")
		if l.Active {
			if asc {
				l.Arrow = "▲"
			} else {
				l.Arrow = "▼"
				nv = withValue(nv, "order", "asc")
			}
		}
		l.Href = href("/alerts", nv)
		out[string(k)] = l
	}
	return out
}

// groupKey returns what alert a is grouped by.
func groupKey(a *store.AlertRecord, by string) string {
	switch by {
	case "engine":
		return a.Engine.String()
	case "name":
		return a.Type
	case "sensor":
		return a.Sensor
	case "severity":
		return a.Severity.String()
	case "site":
		return a.Site
	}
	return ""
}

func groupLabel(by, key string) string {
	if by == "name" {
		return typeName(key)
	}
	if key == "" {
		return "(none)"
	}
	return key
}

func groupDim(by string) store.Dim {
	for _, g := range groupings {
		if g.Key == by {
			return g.dim
		}
	}
	return ""
}

// group splits the page's rows by the grouping, groups in the order of
// their facet counts (most severe first for severity), keeping the
// page's order inside a group.
func (s *server) group(rows []alertRow, recs []*store.AlertRecord, f store.Facets, v url.Values, by string) []rowGroup {
	if by == "" {
		return []rowGroup{{Rows: rows}}
	}
	dim := groupDim(by)
	counts := map[string]int64{}
	order := map[string]int{}
	for i, c := range f.Counts[dim] {
		counts[c.Value] = c.Count
		order[c.Value] = i
	}
	var out []rowGroup
	idx := map[string]int{}
	for i, a := range recs {
		k := groupKey(a, by)
		j, ok := idx[k]
		if !ok {
			j = len(out)
			idx[k] = j
			out = append(out, rowGroup{key: k, Label: groupLabel(by, k), Count: counts[k],
				Filter: href("/alerts", withValue(withValue(v, string(dim), k), "cursor", ""))})
		}
		out[j].Rows = append(out[j].Rows, rows[i])
	}
	rank := func(k string) int {
		if o, ok := order[k]; ok {
			return o
		}
		return len(order)
	}
	slices.SortStableFunc(out, func(a, b rowGroup) int { return cmp.Compare(rank(a.key), rank(b.key)) })
	return out
}

// groupList returns every group of the filter with its count.
func groupList(f store.Facets, v url.Values, by string) []rowGroup {
	var out []rowGroup
	dim := groupDim(by)
	for _, c := range f.Counts[dim] {
		out = append(out, rowGroup{Label: groupLabel(by, c.Value), Count: c.Count,
			Filter: href("/alerts", withValue(withValue(v, string(dim), c.Value), "cursor", ""))})
	}
	return out
}

// bulkAction applies a status change, a severity change, Learn or Mute to
// the selected alerts, or a status or severity change to every alert
// matching the grid's filter.
func (s *server) bulkAction(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := r.ParseForm(); err != nil {
		return badRequest("malformed form")
	}
	back := r.PostForm.Get("back")
	if back == "" {
		back = "/alerts"
	}
	ids := values(r.PostForm, "id")
	action := r.PostForm.Get("action")
	ctx := r.Context()
	reason := strings.TrimSpace(r.PostForm.Get("reason"))
	sevName, isSeverity := strings.CutPrefix(action, "severity:")
	var sev alert.Severity
	if isSeverity {
		var err error
		if sev, err = alert.ParseSeverity(sevName); err != nil {
			return badRequest("unknown severity %q", clip(sevName))
		}
	}
	if r.PostForm.Get("scope") == "filter" {
		q, err := alertQuery(parseQuery(r.PostForm.Get("filter")), s.loc, s.now())
		if err != nil {
			return err
		}
		if isSeverity {
			_, err = s.st.BulkSetSeverity(ctx, q, sev, p.User, reason)
		} else {
			st, perr := alert.ParseStatus(action)
			if perr != nil {
				return badRequest("only a status or severity change applies to every alert matching the filter")
			}
			_, err = s.st.BulkSetStatus(ctx, q, st, p.User, reason)
		}
		if err != nil {
			return err
		}
		redirect(w, r, back, "bulk")
		return nil
	}
	if len(ids) == 0 {
		return badRequest("select at least one alert")
	}
	if len(ids) > store.MaxLimit {
		return badRequest("at most %d alerts at once", store.MaxLimit)
	}
	switch {
	case isSeverity:
		if err := s.st.SetSeverity(ctx, ids, sev, p.User, reason); err != nil {
			return err
		}
	case action == "learn":
		for _, id := range ids {
			rec, err := s.st.Alert(ctx, id)
			if err != nil {
				return err
			}
			if _, ok := learnEntry(rec); !ok {
				return badRequest("alert %q (%s) cannot be learned; nothing was changed", rec.Title, rec.Type)
			}
		}
		for _, id := range ids {
			if _, err := s.st.Learn(ctx, id, p.User); err != nil {
				return err
			}
		}
	case action == "mute":
		for _, id := range ids {
			if err := s.st.Mute(ctx, id, p.User); err != nil {
				return err
			}
		}
	default:
		st, err := alert.ParseStatus(action)
		if err != nil {
			return badRequest("unknown action %q", clip(action))
		}
		if err := s.st.SetStatus(ctx, ids, st, p.User, reason); err != nil {
			return err
		}
	}
	redirect(w, r, back, "bulk")
	return nil
}
