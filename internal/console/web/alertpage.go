package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/attack"
	"github.com/otwatch/otwatch/internal/console/auth"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/devmap"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/store"
)

// kv is a labelled value.
type kv struct {
	Key, Value string
}

// deviceCard shows one side of an alert.
type deviceCard struct {
	Role     string // "Source", "Destination"
	Party    string
	Port     uint16
	Known    bool // the inventory knows the device
	Href     string
	Name     string
	Type     string
	Vendor   string
	Model    string
	Firmware string
	IPs      string
	MAC      string
	Purdue   string
}

// tacticView and techniqueView are ATT&CK entries as the page shows them.
type tacticView struct {
	ID, Name, URL string
}

type techniqueView struct {
	ID, Name, URL, Summary string
	Tactics                []tacticView
}

// tabLink is one tab of a details page.
type tabLink struct {
	Key, Label, Href string
	Active           bool
}

// timelineRow is one entry of an event timeline.
type timelineRow struct {
	Time       time.Time
	Kind       string // "event" or "alert"
	Type       string
	Sensor     string
	Device     string
	DeviceHref string
	Peer       string
	PeerHref   string
	Detail     string
	AlertHref  string
	SevClass   string
	Current    bool
}

// alertData is the alert details page.
type alertData struct {
	*base
	A          *store.AlertRecord
	Name       string
	SevClass   string
	Tab        string
	Tabs       []tabLink
	From       string
	Cards      []deviceCard
	Tactics    []tacticView
	Techniques []techniqueView
	Operation  []kv
	OpSummary  string
	Details    []kv
	Learnable  bool
	LearnText  string
	Comments   []store.Comment
	History    []store.StatusChange
	PcapHref   string
	PDFHref    string
	Actions    []statusAction

	MapSVG    template.HTML
	MapNote   string
	MapDevs   int
	Timeline  []timelineRow
	Window    string
	Packets   []packetRow
	PacketErr string
}

// statusAction is a status change the alert allows.
type statusAction struct {
	To, Label string
}

// alertTabs are the tabs of the alert page.
var alertTabs = []struct{ key, label string }{
	{"overview", "Overview"}, {"map", "Map view"}, {"timeline", "Event timeline"}, {"evidence", "Evidence"},
}

// timelineWindow is how far around an alert its timeline reaches.
const timelineWindow = time.Hour

func (s *server) alertPage(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	ctx := r.Context()
	id := r.PathValue("id")
	rec, err := s.st.Alert(ctx, id)
	if err != nil {
		return err
	}
	from := auth.SafeNext(r.URL.Query().Get("from"))
	if r.URL.Query().Get("from") == "" {
		from = ""
	}
	d := &alertData{base: s.newBase(r, alertName(&rec.Alert), "alerts"), A: rec, Name: alertName(&rec.Alert),
		SevClass: sevClass(rec.Severity), From: from}
	d.Crumbs = append(s.crumbs(ctx, from), crumb{Label: d.Name})
	d.Tab = r.URL.Query().Get("tab")
	if !slices.ContainsFunc(alertTabs, func(t struct{ key, label string }) bool { return t.key == d.Tab }) {
		d.Tab = "overview"
	}
	for _, t := range alertTabs {
		v := url.Values{}
		if from != "" {
			v.Set("from", from)
		}
		if t.key != "overview" {
			v.Set("tab", t.key)
		}
		d.Tabs = append(d.Tabs, tabLink{Key: t.key, Label: t.label, Active: t.key == d.Tab, Href: href("/alerts/"+url.PathEscape(id), v)})
	}
	s.fillAlert(ctx, d, r.URL.RequestURI())
	if d.Comments, err = s.st.Comments(ctx, id); err != nil {
		return err
	}
	if d.History, err = s.st.History(ctx, id); err != nil {
		return err
	}
	switch d.Tab {
	case "map":
		err = s.alertMap(ctx, d)
	case "timeline":
		err = s.alertTimeline(ctx, d, r.URL.RequestURI())
	case "evidence":
		err = s.alertEvidence(ctx, d)
	}
	if err != nil {
		return err
	}
	s.render(w, http.StatusOK, "alert", d)
	return nil
}

// fillAlert sets what the overview and the pane show; self is the page
// the device links come back to.
func (s *server) fillAlert(ctx context.Context, d *alertData, self string) {
	rec := d.A
	if rec.Description == "" {
		if t := detect.LookupType(rec.Type); t != nil {
			rec.Description = t.Description
		}
	}
	for i, step := range rec.Remediation {
		rec.Remediation[i] = alert.Expand(step, rec.Source, rec.Destination, rec.Protocol, "")
	}
	d.Cards = []deviceCard{s.card(ctx, "Source", rec.Sensor, rec.Source, self), s.card(ctx, "Destination", rec.Sensor, rec.Destination, self)}
	d.Tactics, d.Techniques = attackViews(&rec.Alert)
	if rec.Operation != nil {
		d.Operation = operationFields(rec.Operation)
		d.OpSummary = operationSummary(rec.Operation)
	}
	for _, a := range rec.Details {
		d.Details = append(d.Details, kv{a.Key, a.Value})
	}
	if e, ok := learnEntry(rec); ok {
		d.Learnable, d.LearnText = true, e.String()
	}
	if rec.Pcap != nil {
		d.PcapHref = s.opts.APIPrefix + "/alerts/" + url.PathEscape(rec.ID) + "/pcap"
	}
	d.PDFHref = "/alerts/" + url.PathEscape(rec.ID) + "/report.pdf"
	for _, a := range []statusAction{{"Active", "Acknowledge"}, {"Closed", "Close"}, {"Active", "Reopen"}} {
		to, _ := alert.ParseStatus(a.To)
		if store.Transition(rec.Status, to) && (a.Label == "Reopen") == (rec.Status == alert.Closed) {
			d.Actions = append(d.Actions, a)
		}
	}
}

// attackViews returns the alert's ATT&CK tactics and techniques with
// their names, summaries and links; ids the catalogue lacks are shown
// bare.
func attackViews(a *alert.Alert) ([]tacticView, []techniqueView) {
	tv := func(id string) tacticView {
		if t, ok := attack.LookupTactic(id); ok {
			return tacticView{ID: t.ID, Name: t.Name, URL: t.URL}
		}
		return tacticView{ID: id}
	}
	var tactics []tacticView
	tacticIDs := a.Tactics
	if len(tacticIDs) == 0 {
		tacticIDs = attack.TacticsOf(a.Techniques...)
	}
	for _, id := range tacticIDs {
		tactics = append(tactics, tv(id))
	}
	var techs []techniqueView
	for _, id := range a.Techniques {
		t, ok := attack.LookupTechnique(id)
		if !ok {
			techs = append(techs, techniqueView{ID: id})
			continue
		}
		v := techniqueView{ID: t.ID, Name: t.Name, URL: t.URL, Summary: t.Summary}
		for _, ta := range t.Tactics {
			v.Tactics = append(v.Tactics, tv(ta))
		}
		techs = append(techs, v)
	}
	return tactics, techs
}

// card returns the device card of one party of an alert of sensor.
func (s *server) card(ctx context.Context, role, sensor string, pt alert.Party, from string) deviceCard {
	c := deviceCard{Role: role, Party: partyText(pt), Port: pt.Port}
	if c.Party == "" {
		c.Party = "unknown"
	}
	dev := s.deviceOf(ctx, sensor, pt)
	if dev == nil {
		return c
	}
	c.Known = true
	c.Href = deviceHref(dev.Sensor, dev.ID, from)
	c.Name = deviceName(&dev.Device)
	c.Type = devmap.TypeLabel(dev.Type)
	c.Vendor, c.Model, c.Firmware = dev.Vendor, firstOf(dev.Model, dev.Product), dev.Firmware
	c.IPs = strings.Join(dev.IPs, ", ")
	c.MAC = dev.MAC
	c.Purdue = purdueLabel(dev.Purdue)
	return c
}

// deviceOf returns the device of sensor that a party is, nil when the
// inventory does not know it.
func (s *server) deviceOf(ctx context.Context, sensor string, pt alert.Party) *store.DeviceRecord {
	key := store.PartyKey(pt)
	if key == "" {
		return nil
	}
	q := store.DeviceQuery{Devices: []string{key}, Limit: 1}
	if sensor != "" {
		q.Sensors = []string{sensor}
	}
	page, err := s.st.Devices(ctx, q)
	if err != nil || len(page.Devices) == 0 {
		if err != nil {
			s.log.Warn("console page: looking up an alert's device", "addr", key, "err", err)
		}
		return nil
	}
	return page.Devices[0]
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// operationFields lists the decoded fields of an operation.
func operationFields(op *dissect.Operation) []kv {
	out := []kv{{"Protocol", strings.TrimSpace(op.Protocol + " " + op.Transport)}}
	fn := op.FunctionName
	if fn == "" {
		fn = "function"
	}
	out = append(out, kv{"Function", fmt.Sprintf("%s (code %d, 0x%02x)", fn, op.FunctionCode, op.FunctionCode)},
		kv{"Class", op.Class.String()},
		kv{"Client", endpointText(op.Client)}, kv{"Server", endpointText(op.Server)})
	for _, t := range op.Targets {
		out = append(out, kv{"Target", targetText(t)})
	}
	res := op.Result.Status.String()
	if op.Result.Code != 0 || op.Result.Text != "" {
		res += fmt.Sprintf(" (code %d %s)", op.Result.Code, op.Result.Text)
	}
	out = append(out, kv{"Result", strings.TrimSpace(res)})
	var dir []string
	if op.Request {
		dir = append(dir, "request")
	}
	if op.Response {
		dir = append(dir, "response")
	}
	if len(dir) > 0 {
		out = append(out, kv{"Seen", strings.Join(dir, " and ")})
	}
	for _, a := range op.Attrs {
		out = append(out, kv{a.Key, a.Value})
	}
	for _, f := range op.Identity {
		who := "client"
		if f.Server {
			who = "server"
		}
		out = append(out, kv{"Identity (" + who + ")", f.Key + ": " + f.Value})
	}
	if !op.Time.IsZero() {
		out = append(out, kv{"Time", op.Time.UTC().Format(time.RFC3339Nano)})
	}
	var frames []string
	for _, p := range op.Packets {
		if p.Frame != 0 {
			frames = append(frames, strconv.FormatUint(p.Frame, 10))
		}
	}
	if len(frames) > 0 {
		out = append(out, kv{"Capture frames", strings.Join(frames, ", ")})
	}
	return out
}

// operationSummary is one line saying what an operation did.
func operationSummary(op *dissect.Operation) string {
	if op.Detail != "" {
		return op.Detail
	}
	fn := op.FunctionName
	if fn == "" {
		fn = fmt.Sprintf("function %d", op.FunctionCode)
	}
	return fmt.Sprintf("%s %s sent by %s to %s", op.Protocol, fn, endpointText(op.Client), endpointText(op.Server))
}

func endpointText(e dissect.Endpoint) string {
	var s string
	switch {
	case e.IP.IsValid():
		s = e.IP.String()
		if e.Port != 0 {
			if e.IP.Is6() {
				s = "[" + s + "]"
			}
			s += ":" + strconv.Itoa(int(e.Port))
		}
	case !e.MAC.IsZero():
		s = e.MAC.String()
	default:
		s = "unknown"
	}
	return s
}

func targetText(t dissect.Target) string {
	s := t.Kind
	if t.Name != "" {
		s += " " + t.Name
	}
	if t.Address != 0 || t.Count != 0 {
		s += fmt.Sprintf(" @%d", t.Address)
		if t.Count > 1 {
			s += fmt.Sprintf(" ×%d", t.Count)
		}
	}
	return s
}

// alertMap draws the alert's sensor's device map with its devices and
// connection highlighted.
func (s *server) alertMap(ctx context.Context, d *alertData) error {
	snap, _, err := s.snapshot(ctx, d.A.Sensor)
	if err != nil {
		return err
	}
	var hl devmap.Highlight
	src, okS := devmap.DeviceByAddr(snap, store.PartyKey(d.A.Source))
	dst, okD := devmap.DeviceByAddr(snap, store.PartyKey(d.A.Destination))
	if okS {
		hl.Devices = append(hl.Devices, src)
	}
	if okD {
		hl.Devices = append(hl.Devices, dst)
	}
	if okS && okD {
		hl.Connections = []devmap.Link{{Client: src, Server: dst}}
	}
	if len(hl.Devices) == 0 {
		d.MapNote = "The inventory of sensor " + d.A.Sensor + " does not hold this alert's devices; the whole map is shown."
	}
	zone, err := s.zoneFunc(ctx)
	if err != nil {
		return err
	}
	m := devmap.Layout(snap, devmap.Options{Zone: zone, Highlight: hl})
	d.MapDevs = len(m.Devices)
	self := "/alerts/" + url.PathEscape(d.A.ID) + "?tab=map"
	if d.From != "" {
		self += "&from=" + url.QueryEscape(d.From)
	}
	svg, err := mapSVG(m, d.A.Sensor, self)
	if err != nil {
		return err
	}
	d.MapSVG = svg
	return nil
}

// mapSVG draws m for a page; devices link to their pages, coming back to
// from.
func mapSVG(m *devmap.Map, sensor, from string) (template.HTML, error) {
	var buf bytes.Buffer
	if err := m.WriteSVG(&buf, devmap.SVGOptions{DeviceHref: "/devices/" + url.PathEscape(sensor) + "/", Focus: true, NoStyle: true, ID: "devmap"}); err != nil {
		return "", err
	}
	b := buf.Bytes()
	if from != "" {
		// Device links come back here: add ?from= to each.
		b = bytes.ReplaceAll(b, []byte(`"><g id="d`), []byte(`?from=`+url.QueryEscape(from)+`"><g id="d`))
	}
	// WriteSVG writes a trusted document: every text and attribute it
	// holds is escaped by devmap.
	return template.HTML(b), nil
}

// alertTimeline gathers the events and alerts of the alert's devices
// around its time.
func (s *server) alertTimeline(ctx context.Context, d *alertData, self string) error {
	a := d.A
	evs, err := s.st.RelatedEvents(ctx, a.ID, timelineWindow, store.DefaultRelated)
	if err != nil {
		return err
	}
	rel, err := s.st.RelatedAlerts(ctx, a.ID, store.DefaultRelated)
	if err != nil {
		return err
	}
	d.Window = timelineWindow.String()
	rows := s.eventRows(evs, self)
	lo, hi := a.FirstDetection.Add(-timelineWindow), a.LastDetection.Add(timelineWindow)
	for _, o := range append(rel, a) {
		if o.LastDetection.Before(lo) || o.FirstDetection.After(hi) {
			continue
		}
		rows = append(rows, timelineRow{Time: o.FirstDetection, Kind: "alert", Type: alertName(&o.Alert), Sensor: o.Sensor,
			Device: partyText(o.Source), Peer: partyText(o.Destination), Detail: o.Title,
			AlertHref: alertHref(o.ID, self), SevClass: sevClass(o.Severity), Current: o.ID == a.ID})
	}
	slices.SortStableFunc(rows, func(x, y timelineRow) int { return x.Time.Compare(y.Time) })
	d.Timeline = rows
	return nil
}

// eventRows turns store events into timeline rows; links come back to
// from.
func (s *server) eventRows(evs []store.Event, from string) []timelineRow {
	rows := make([]timelineRow, 0, len(evs))
	for _, e := range evs {
		row := timelineRow{Time: e.Time, Kind: "event", Type: e.Type, Sensor: e.Sensor, Device: e.Device, Peer: e.Peer, Detail: e.Detail}
		if e.DeviceID != 0 && e.Sensor != "" {
			row.DeviceHref = deviceHref(e.Sensor, e.DeviceID, from)
		}
		if e.PeerID != 0 && e.Sensor != "" {
			row.PeerHref = deviceHref(e.Sensor, e.PeerID, from)
		}
		if e.AlertID != "" {
			row.AlertHref = alertHref(e.AlertID, from)
		}
		rows = append(rows, row)
	}
	return rows
}

// alertEvidence decodes the alert's stored packets.
func (s *server) alertEvidence(ctx context.Context, d *alertData) error {
	b, err := s.st.Evidence(ctx, d.A.ID)
	if errors.Is(err, store.ErrNotFound) {
		d.PacketErr = "No packets are stored for this alert (none were kept, or retention removed them)."
		return nil
	}
	if err != nil {
		return err
	}
	d.Packets, err = decodeEvidence(b, d.A.Operation)
	if err != nil {
		d.PacketErr = "The stored capture could not be read completely: " + err.Error()
	}
	return nil
}

// alertPane renders the details pane of the grid.
func (s *server) alertPane(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	ctx := r.Context()
	rec, err := s.st.Alert(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	from := auth.SafeNext(r.URL.Query().Get("from"))
	d := &alertData{base: s.newBase(r, "", "alerts"), A: rec, Name: alertName(&rec.Alert), SevClass: sevClass(rec.Severity), From: from}
	s.fillAlert(ctx, d, alertHref(rec.ID, from))
	d.Self = alertHref(rec.ID, from)
	s.renderFragment(w, "alerts", "pane", d)
	return nil
}

// backTo returns where a form on an alert page goes back to: its back
// field when it is a path here, else the alert's page.
func backTo(r *http.Request, id string) string {
	if b := r.PostFormValue("back"); b != "" {
		return auth.SafeNext(b)
	}
	return "/alerts/" + url.PathEscape(id)
}

func (s *server) alertStatus(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id := r.PathValue("id")
	st, err := alert.ParseStatus(r.PostFormValue("status"))
	if err != nil {
		return badRequest("status: %q is not New, Active or Closed", clip(r.PostFormValue("status")))
	}
	if err := s.st.SetStatus(r.Context(), []string{id}, st, p.User, strings.TrimSpace(r.PostFormValue("reason"))); err != nil {
		return err
	}
	redirect(w, r, backTo(r, id), "status")
	return nil
}

func (s *server) alertLearn(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id := r.PathValue("id")
	if _, err := s.st.Learn(r.Context(), id, p.User); err != nil {
		return err
	}
	redirect(w, r, backTo(r, id), "learned")
	return nil
}

func (s *server) alertMute(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id := r.PathValue("id")
	if err := s.st.Mute(r.Context(), id, p.User); err != nil {
		return err
	}
	redirect(w, r, backTo(r, id), "muted")
	return nil
}

func (s *server) alertUnmute(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id := r.PathValue("id")
	if err := s.st.Unmute(r.Context(), id, p.User); err != nil {
		return err
	}
	redirect(w, r, backTo(r, id), "unmuted")
	return nil
}

func (s *server) alertComment(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id := r.PathValue("id")
	text := r.PostFormValue("text")
	if err := store.CheckComment(text); err != nil {
		return err
	}
	if _, err := s.st.Comment(r.Context(), id, p.User, text); err != nil {
		return err
	}
	redirect(w, r, backTo(r, id), "commented")
	return nil
}

// crumbs returns the breadcrumbs of the page a details page was reached
// from.
func (s *server) crumbs(ctx context.Context, from string) []crumb {
	p, _, _ := strings.Cut(from, "?")
	parts := strings.Split(strings.Trim(p, "/"), "/")
	switch {
	case from == "":
		return []crumb{{"Alerts", "/alerts"}}
	case p == "/alerts":
		label := "Alerts"
		if strings.Contains(from, "?") {
			label = "Alerts (filtered)"
		}
		return []crumb{{label, from}}
	case len(parts) == 2 && parts[0] == "alerts":
		label := "Alert"
		if rec, err := s.st.Alert(ctx, parts[1]); err == nil {
			label = alertName(&rec.Alert)
		}
		return []crumb{{"Alerts", "/alerts"}, {label, from}}
	case len(parts) == 3 && parts[0] == "devices":
		label := "Device"
		if id, err := parseDeviceID(parts[2]); err == nil {
			if dev, err := s.st.Device(ctx, parts[1], inventory.DeviceID(id)); err == nil {
				label = deviceName(&dev.Device)
			}
		}
		return []crumb{{"Devices", "/devices"}, {label, from}}
	case p == "/devices":
		return []crumb{{"Devices", from}}
	case p == "/events":
		return []crumb{{"Event timeline", from}}
	case p == "/map":
		return []crumb{{"Device map", from}}
	case p == "/vulnerabilities":
		return []crumb{{"Vulnerabilities", from}}
	}
	return []crumb{{"Alerts", "/alerts"}}
}
