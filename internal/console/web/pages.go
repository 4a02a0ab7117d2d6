package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/otwatch/otwatch/internal/console/auth"
	"github.com/otwatch/otwatch/internal/devmap"
	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/store"
)

// mapData is the device map page.
type mapData struct {
	*base
	Sensor    string
	Sensors   []option
	Protocols []option
	Levels    []option
	Zones     []option
	Types     []option
	SVG       template.HTML
	Devices   int
	Edges     int
	Hidden    devmap.Hidden
	Empty     bool
	Filtered  bool
}

func (s *server) mapPage(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	ctx := r.Context()
	v := r.URL.Query()
	d := &mapData{base: s.newBase(r, "Device map", "map"), Sensor: v.Get("sensor")}
	sensors, err := s.sensorsWithDevices(ctx)
	if err != nil {
		return err
	}
	if d.Sensor == "" && len(sensors) > 0 {
		d.Sensor = sensors[0].ID
	}
	for _, x := range sensors {
		d.Sensors = append(d.Sensors, option{Value: x.ID, Label: firstOf(x.Name, x.ID), Selected: x.ID == d.Sensor})
	}
	if d.Sensor == "" {
		d.Empty = true
		s.render(w, http.StatusOK, "map", d)
		return nil
	}
	snap, _, err := s.snapshot(ctx, d.Sensor)
	if err != nil {
		return err
	}
	zone, err := s.zoneFunc(ctx)
	if err != nil {
		return err
	}
	var f devmap.Filter
	f.Protocols = values(v, "protocol")
	f.Zones = values(v, "zone")
	for _, t := range values(v, "type") {
		if !slices.Contains(inventory.Types, inventory.Type(t)) {
			return badRequest("type: %q is not a device type", clip(t))
		}
		f.Types = append(f.Types, inventory.Type(t))
	}
	for _, l := range values(v, "level") {
		n, err := strconv.Atoi(l)
		if err != nil || n < -1 || n > 5 {
			return badRequest("level: %q is not a Purdue level", clip(l))
		}
		f.Levels = append(f.Levels, n)
	}
	d.Filtered = len(f.Protocols)+len(f.Zones)+len(f.Types)+len(f.Levels) > 0
	var hl devmap.Highlight
	if id := v.Get("device"); id != "" {
		n, err := parseDeviceID(id)
		if err != nil {
			return err
		}
		hl.Devices = []inventory.DeviceID{inventory.DeviceID(n)}
	}
	m := devmap.Layout(snap, devmap.Options{Zone: zone, Filter: f, Highlight: hl})
	d.Devices, d.Edges, d.Hidden = len(m.Devices), len(m.Edges), m.Hidden
	if d.SVG, err = mapSVG(m, d.Sensor, r.URL.RequestURI()); err != nil {
		return err
	}
	// Filter choices from the whole snapshot.
	var protos, zones []string
	for _, c := range snap.Connections {
		if c.Protocol != "" && !slices.Contains(protos, c.Protocol) {
			protos = append(protos, c.Protocol)
		}
	}
	for i := range snap.Devices {
		if z := zone(&snap.Devices[i]); z != "" && !slices.Contains(zones, z) {
			zones = append(zones, z)
		}
	}
	slices.Sort(protos)
	slices.Sort(zones)
	for _, x := range protos {
		d.Protocols = append(d.Protocols, option{Value: x, Label: x, Selected: slices.Contains(f.Protocols, x)})
	}
	for _, x := range zones {
		d.Zones = append(d.Zones, option{Value: x, Label: x, Selected: slices.Contains(f.Zones, x)})
	}
	for l := 5; l >= -1; l-- {
		d.Levels = append(d.Levels, option{Value: strconv.Itoa(l), Label: devmap.LevelLabel(l), Selected: slices.Contains(f.Levels, l)})
	}
	for _, t := range inventory.Types {
		d.Types = append(d.Types, option{Value: string(t), Label: devmap.TypeLabel(t), Selected: slices.Contains(f.Types, t)})
	}
	s.render(w, http.StatusOK, "map", d)
	return nil
}

// sensorsWithDevices returns the sensors that have devices: the
// configured ones, by ID.
func (s *server) sensorsWithDevices(ctx context.Context) ([]store.Sensor, error) {
	all, err := s.st.Sensors(ctx)
	if err != nil {
		return nil, err
	}
	var out []store.Sensor
	for _, x := range all {
		page, err := s.st.Devices(ctx, store.DeviceQuery{Sensors: []string{x.ID}, Limit: 1})
		if err != nil {
			return nil, err
		}
		if len(page.Devices) > 0 {
			out = append(out, x)
		}
	}
	return out, nil
}

// eventsData is the event timeline page.
type eventsData struct {
	*base
	Error     string
	Rows      []timelineRow
	Sensors   []option
	Types     []option
	Device    string
	From      string
	Until     string
	Asc       bool
	Next      string
	FirstPage string
}

// eventTypes are the event types the timeline filter offers: the
// sensor's own and every inventory event type.
var eventTypes = func() []string {
	types := []string{"alert", "mode_change", "program_download"}
	for _, t := range inventory.EventTypes {
		types = append(types, string(t))
	}
	return types
}()

func (s *server) eventsPage(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	ctx := r.Context()
	v := r.URL.Query()
	d := &eventsData{base: s.newBase(r, "Event timeline", "events"), Device: v.Get("device"), Asc: v.Get("order") == "asc"}
	var sites, zones []option
	if err := s.locationOptions(ctx, v, &d.Sensors, &sites, &zones); err != nil {
		return err
	}
	types := slices.Clone(eventTypes)
	for _, t := range values(v, "type") {
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	for _, t := range types {
		d.Types = append(d.Types, option{Value: t, Label: strings.ReplaceAll(t, "_", " "), Selected: slices.Contains(values(v, "type"), t)})
	}
	q, err := s.eventQuery(v)
	if err != nil {
		code, msg := status(err)
		if code >= 500 {
			return err
		}
		d.Error = msg
		s.render(w, code, "events", d)
		return nil
	}
	d.From, d.Until = inputTime(q.From, s.loc), inputTime(q.Until, s.loc)
	page, err := s.st.Events(ctx, q)
	if err != nil {
		return err
	}
	d.Rows = s.eventRows(page.Events, r.URL.RequestURI())
	if page.Next != "" {
		d.Next = href("/events", withValue(v, "cursor", page.Next))
	}
	if q.Cursor != "" {
		d.FirstPage = href("/events", withValue(v, "cursor", ""))
	}
	s.render(w, http.StatusOK, "events", d)
	return nil
}

func (s *server) eventQuery(v url.Values) (store.EventQuery, error) {
	q := store.EventQuery{Sensors: values(v, "sensor"), Types: values(v, "type"), AlertID: v.Get("alert"), Ascending: v.Get("order") == "asc",
		Limit: 100}
	for _, x := range values(v, "device") {
		a, err := store.NormalizeAddr(x)
		if err != nil {
			return q, badRequest("device: %q is neither an IP nor a MAC address", clip(x))
		}
		q.Devices = append(q.Devices, a)
	}
	var err error
	if q.From, q.Until, err = timeRange(v, s.loc, s.now()); err != nil {
		return q, err
	}
	if c := v.Get("cursor"); c != "" {
		if _, err := store.DecodeCursor(c); err != nil {
			return q, badRequest("cursor: not a page this console gave")
		}
		q.Cursor = c
	}
	return q.Normalize()
}

// siteView is a site with its zones and sensors.
type siteView struct {
	store.Site
	Zones   []zoneView
	Sensors []sensorView
}

type zoneView struct {
	store.Zone
	SubnetText string
}

type sensorView struct {
	store.Sensor
	Online   bool
	NextMode string
	Zones    []option
	Sites    []option
}

// sitesData is the sites, zones and sensors page.
type sitesData struct {
	*base
	Sites      []siteView
	Unassigned []sensorView
	SiteOpts   []option
}

// sensorOnline is how recently a sensor must have reported to count as
// online.
const sensorOnline = 2 * time.Minute

func (s *server) sitesPage(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	ctx := r.Context()
	d := &sitesData{base: s.newBase(r, "Sites, zones and sensors", "sites")}
	sites, err := s.st.Sites(ctx)
	if err != nil {
		return err
	}
	zones, err := s.st.Zones(ctx, "")
	if err != nil {
		return err
	}
	sensors, err := s.st.Sensors(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	sv := func(x store.Sensor) sensorView {
		v := sensorView{Sensor: x, Online: !x.LastSeen.IsZero() && now.Sub(x.LastSeen) < sensorOnline, NextMode: string(store.ModeOperational)}
		if x.Mode == store.ModeOperational {
			v.NextMode = string(store.ModeLearning)
		}
		v.Sites = append(v.Sites, option{Value: "", Label: "(no site)", Selected: x.Site == ""})
		for _, st := range sites {
			v.Sites = append(v.Sites, option{Value: st.ID, Label: firstOf(st.Name, st.ID), Selected: st.ID == x.Site})
		}
		v.Zones = append(v.Zones, option{Value: "", Label: "(no zone)", Selected: x.Zone == ""})
		for _, z := range zones {
			v.Zones = append(v.Zones, option{Value: z.ID, Label: z.Site + " / " + firstOf(z.Name, z.ID), Selected: z.ID == x.Zone})
		}
		return v
	}
	for _, st := range sites {
		view := siteView{Site: st}
		for _, z := range zones {
			if z.Site == st.ID {
				var subs []string
				for _, p := range z.Subnets {
					subs = append(subs, p.String())
				}
				view.Zones = append(view.Zones, zoneView{Zone: z, SubnetText: strings.Join(subs, ", ")})
			}
		}
		for _, x := range sensors {
			if x.Site == st.ID {
				view.Sensors = append(view.Sensors, sv(x))
			}
		}
		d.Sites = append(d.Sites, view)
		d.SiteOpts = append(d.SiteOpts, option{Value: st.ID, Label: firstOf(st.Name, st.ID)})
	}
	for _, x := range sensors {
		if x.Site == "" || !slices.ContainsFunc(sites, func(st store.Site) bool { return st.ID == x.Site }) {
			d.Unassigned = append(d.Unassigned, sv(x))
		}
	}
	s.render(w, http.StatusOK, "sites", d)
	return nil
}

// ident checks an id typed into a form: 1 to 64 letters, digits, '-',
// '_' or '.'.
func ident(what, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 64 || strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
	}) >= 0 {
		return "", badRequest("%s id %q: use 1 to 64 letters, digits, '-', '_' or '.'", what, clip(s))
	}
	return s, nil
}

func formText(r *http.Request, name string, max int) (string, error) {
	v := strings.TrimSpace(r.PostFormValue(name))
	if len([]rune(v)) > max {
		return "", badRequest("%s is longer than %d characters", name, max)
	}
	return v, nil
}

// placeForm reads the id, name and description of a site or zone (what)
// from its form; the name is the id when left empty.
func placeForm(r *http.Request, what string) (id, name, desc string, err error) {
	if id, err = ident(what, r.PostFormValue("id")); err != nil {
		return "", "", "", err
	}
	if name, err = formText(r, "name", 200); err != nil {
		return "", "", "", err
	}
	if desc, err = formText(r, "description", 1000); err != nil {
		return "", "", "", err
	}
	return id, firstOf(name, id), desc, nil
}

func (s *server) sitePut(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, name, desc, err := placeForm(r, "site")
	if err != nil {
		return err
	}
	if err := s.st.PutSite(r.Context(), store.Site{ID: id, Name: name, Description: desc}, p.User); err != nil {
		return err
	}
	redirect(w, r, "/sites", "saved")
	return nil
}

// siteConfigDelete returns the handler that removes the site, zone or
// sensor its path names with del and goes back to the sites page.
func siteConfigDelete(del func(ctx context.Context, id, actor string) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		if err := del(r.Context(), r.PathValue("id"), p.User); err != nil {
			return err
		}
		redirect(w, r, "/sites", "deleted")
		return nil
	}
}

func (s *server) zonePut(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, name, desc, err := placeForm(r, "zone")
	if err != nil {
		return err
	}
	site, err := ident("site", r.PostFormValue("site"))
	if err != nil {
		return err
	}
	z := store.Zone{ID: id, Site: site, Name: name, Description: desc}
	for _, f := range strings.FieldsFunc(r.PostFormValue("subnets"), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' }) {
		pfx, err := netip.ParsePrefix(f)
		if err != nil {
			return badRequest("subnet %q is not a prefix such as 10.1.2.0/24", clip(f))
		}
		z.Subnets = append(z.Subnets, pfx.Masked())
	}
	if len(z.Subnets) > 256 {
		return badRequest("at most 256 subnets per zone")
	}
	if err := s.st.PutZone(r.Context(), z, p.User); err != nil {
		return err
	}
	redirect(w, r, "/sites", "saved")
	return nil
}

// sensorPut creates a sensor or updates its name and placement, keeping
// its mode.
func (s *server) sensorPut(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	ctx := r.Context()
	id, err := ident("sensor", r.PostFormValue("id"))
	if err != nil {
		return err
	}
	name, err := formText(r, "name", 200)
	if err != nil {
		return err
	}
	x, err := s.st.Sensor(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		x = store.Sensor{ID: id, Mode: store.ModeLearning}
	case err != nil:
		return err
	}
	if name != "" {
		x.Name = name
	}
	if x.Name == "" {
		x.Name = id
	}
	x.Site, x.Zone = strings.TrimSpace(r.PostFormValue("site")), strings.TrimSpace(r.PostFormValue("zone"))
	if x.Zone != "" {
		zones, err := s.st.Zones(ctx, "")
		if err != nil {
			return err
		}
		i := slices.IndexFunc(zones, func(z store.Zone) bool { return z.ID == x.Zone })
		if i < 0 {
			return badRequest("zone %q does not exist", clip(x.Zone))
		}
		if x.Site == "" {
			x.Site = zones[i].Site
		}
	}
	if err := s.st.PutSensor(ctx, x, p.User); err != nil {
		return err
	}
	redirect(w, r, "/sites", "saved")
	return nil
}

func (s *server) sensorMode(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	m, err := store.ParseSensorMode(r.PostFormValue("mode"))
	if err != nil {
		return err
	}
	if err := s.st.SetSensorMode(r.Context(), r.PathValue("id"), m, p.User); err != nil {
		return err
	}
	redirect(w, r, "/sites", "mode")
	return nil
}

// auditData is the audit log page.
type auditData struct {
	*base
	Error     string
	Entries   []auditRow
	Actor     string
	Action    string
	Object    string
	Next      string
	FirstPage string
}

// auditRow is one audit entry with a link to its object when it has a
// page.
type auditRow struct {
	store.AuditEntry
	Href string
}

func (s *server) auditPage(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	ctx := r.Context()
	v := r.URL.Query()
	d := &auditData{base: s.newBase(r, "Audit log", "audit"), Actor: v.Get("actor"), Action: v.Get("action"), Object: v.Get("object")}
	q := store.AuditQuery{Actor: d.Actor, Action: d.Action, Object: d.Object, Limit: 100}
	if c := v.Get("cursor"); c != "" {
		if _, err := store.DecodeCursor(c); err != nil {
			return badRequest("cursor: not a page this console gave")
		}
		q.Cursor = c
	}
	var err error
	if q.From, q.Until, err = timeRange(v, s.loc, s.now()); err != nil {
		return err
	}
	page, err := s.st.Audit(ctx, q)
	if err != nil {
		return err
	}
	var recIDs []string
	for _, e := range page.Entries {
		if id, ok := strings.CutPrefix(e.Object, "recommendation:"); ok {
			recIDs = append(recIDs, id)
		}
	}
	recs := map[string]store.RecommendationStatus{}
	if len(recIDs) > 0 {
		if recs, err = s.st.RecommendationStatuses(ctx, recIDs); err != nil {
			return err
		}
	}
	for _, e := range page.Entries {
		row := auditRow{AuditEntry: e}
		if id, ok := strings.CutPrefix(e.Object, "alert:"); ok {
			row.Href = alertHref(id, r.URL.RequestURI())
		}
		if id, ok := strings.CutPrefix(e.Object, "recommendation:"); ok {
			// The device the recommendation is for, by the address its
			// status is kept with.
			if a, err := store.NormalizeAddr(recs[id].Device); err == nil {
				row.Href = href("/devices", url.Values{"device": {a}})
			}
		}
		d.Entries = append(d.Entries, row)
	}
	if page.Next != "" {
		d.Next = href("/audit", withValue(v, "cursor", page.Next))
	}
	if q.Cursor != "" {
		d.FirstPage = href("/audit", withValue(v, "cursor", ""))
	}
	s.render(w, http.StatusOK, "audit", d)
	return nil
}

// loginData is the login page.
type loginData struct {
	*base
	Next  string
	Name  string
	Error string
}

func (s *server) loginPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	next := auth.SafeNext(r.URL.Query().Get("next"))
	if p, err := s.auth.Authenticate(r); err == nil && p != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	s.render(w, http.StatusOK, "login", &loginData{base: s.newBase(r, "Log in", ""), Next: next})
}

func (s *server) login(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	d := &loginData{base: s.newBase(r, "Log in", ""), Next: auth.SafeNext(r.PostFormValue("next")), Name: r.PostFormValue("name")}
	if err := auth.CheckOrigin(r); err != nil {
		d.Error = "This login form was sent from another site; open the console's own login page."
		s.render(w, http.StatusForbidden, "login", d)
		return
	}
	_, secret, err := s.auth.Login(r.Context(), d.Name, r.PostFormValue("password"), s.auth.ClientIP(r))
	var rl *auth.RateLimitError
	switch {
	case errors.As(err, &rl):
		w.Header().Set("Retry-After", strconv.Itoa(int(rl.RetryAfter.Seconds()+0.999)))
		d.Error = fmt.Sprintf("Too many login attempts; try again in %v.", rl.RetryAfter.Round(time.Second))
		s.render(w, http.StatusTooManyRequests, "login", d)
		return
	case errors.Is(err, auth.ErrInvalidCredentials):
		d.Error = "Wrong user name or password."
		s.render(w, http.StatusUnauthorized, "login", d)
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	s.auth.SetSessionCookie(w, secret)
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

func (s *server) logout(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := s.auth.Logout(r.Context(), p); err != nil {
		return err
	}
	s.auth.ClearSessionCookie(w)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}
