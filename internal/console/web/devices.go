package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/console/auth"
	"github.com/otwatch/otwatch/internal/console/vulns"
	"github.com/otwatch/otwatch/internal/csaf"
	"github.com/otwatch/otwatch/internal/devmap"
	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/recommend"
	"github.com/otwatch/otwatch/internal/store"
)

// deviceHref links to a device's page, coming from from ("" for none).
func deviceHref(sensor string, id inventory.DeviceID, from string) string {
	h := "/devices/" + url.PathEscape(sensor) + "/" + strconv.FormatUint(uint64(id), 10)
	if from != "" {
		h += "?from=" + url.QueryEscape(from)
	}
	return h
}

// deviceName names a device: its name, else its first address.
func deviceName(d *inventory.Device) string {
	if d.Name != "" {
		return d.Name
	}
	if a := store.DeviceAddr(d); a != "" {
		return a
	}
	return fmt.Sprintf("device %d", d.ID)
}

func purdueLabel(l int) string {
	if l < 0 || l > 5 {
		return "unknown"
	}
	return "Level " + strconv.Itoa(l)
}

// deviceAddrs returns the addresses alerts and events name the device by:
// its IPs and its MAC, in canonical form.
func deviceAddrs(d *inventory.Device) []string {
	var out []string
	for _, s := range append(slices.Clone(d.IPs), d.MAC) {
		if a, err := store.NormalizeAddr(s); err == nil && !slices.Contains(out, a) && len(out) < store.MaxValues {
			out = append(out, a)
		}
	}
	return out
}

// protocols lists the protocols a device serves and uses.
func protocols(d *inventory.Device) []string {
	var out []string
	for _, s := range append(slices.Clone(d.Serves), d.Uses...) {
		if s.Protocol != "" && !slices.Contains(out, s.Protocol) {
			out = append(out, s.Protocol)
		}
	}
	slices.Sort(out)
	return out
}

// deviceRow is one line of the device grid.
type deviceRow struct {
	Href, Name, Type, Vendor, Model, Firmware, IPs, MAC, Purdue, Site, Zone, Sensor string
	Protocols                                                                       []string
	LastSeen                                                                        time.Time
	Alerts                                                                          int64
	Inactive                                                                        bool
	Risk, RiskClass                                                                 string
}

// devicesData is the device inventory page.
type devicesData struct {
	*base
	Error     string
	Rows      []deviceRow
	Q         string
	Sensors   []option
	Sites     []option
	Zones     []option
	Types     []option
	Levels    []option
	Vendor    string
	Protocol  string
	Device    string
	Sorts     []option
	Next      string
	FirstPage string
}

// deviceQuery builds the store query of the device grid's parameters.
func deviceQuery(v url.Values) (store.DeviceQuery, error) {
	q := store.DeviceQuery{Sensors: values(v, "sensor"), Sites: values(v, "site"), Zones: values(v, "zone"),
		Vendors: values(v, "vendor"), Protocols: values(v, "protocol"), Text: v.Get("q"), Limit: store.DefaultLimit}
	for _, t := range values(v, "type") {
		q.Types = append(q.Types, inventory.Type(t))
	}
	for _, l := range values(v, "purdue") {
		n, err := strconv.Atoi(l)
		if err != nil {
			return q, badRequest("purdue: %q is not a level", clip(l))
		}
		q.Purdue = append(q.Purdue, n)
	}
	for _, s := range values(v, "device") {
		a, err := store.NormalizeAddr(s)
		if err != nil {
			return q, badRequest("device: %q is neither an IP nor a MAC address", clip(s))
		}
		q.Devices = append(q.Devices, a)
	}
	if s := v.Get("inactive"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return q, badRequest("inactive: %q is not true or false", clip(s))
		}
		q.Inactive = &b
	}
	q.Sort = store.DeviceSort(v.Get("sort"))
	q.Ascending = v.Get("order") == "asc"
	if c := v.Get("cursor"); c != "" {
		if _, err := store.DecodeCursor(c); err != nil {
			return q, badRequest("cursor: not a page this console gave")
		}
		q.Cursor = c
	}
	return q.Normalize()
}

func (s *server) devicesPage(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	ctx := r.Context()
	v := r.URL.Query()
	d := &devicesData{base: s.newBase(r, "Devices", "devices"), Q: v.Get("q"), Vendor: v.Get("vendor"),
		Protocol: v.Get("protocol"), Device: v.Get("device")}
	if err := s.locationOptions(ctx, v, &d.Sensors, &d.Sites, &d.Zones); err != nil {
		return err
	}
	for _, t := range inventory.Types {
		d.Types = append(d.Types, option{Value: string(t), Label: devmap.TypeLabel(t), Selected: slices.Contains(values(v, "type"), string(t))})
	}
	for l := -1; l <= 5; l++ {
		val := strconv.Itoa(l)
		d.Levels = append(d.Levels, option{Value: val, Label: purdueLabel(l), Selected: slices.Contains(values(v, "purdue"), val)})
	}
	for _, so := range []struct{ v, l string }{{"last_seen", "Last seen"}, {"first_seen", "First seen"}, {"name", "Name"}, {"risk", "Risk"}} {
		d.Sorts = append(d.Sorts, option{Value: so.v, Label: so.l, Selected: v.Get("sort") == so.v})
	}
	// By risk, the whole selection is read and ranked here, and paged
	// by offset; the store knows no risk.
	byRisk := v.Get("sort") == "risk"
	qv := v
	if byRisk {
		qv = withValue(withValue(v, "sort", ""), "cursor", "")
	}
	q, err := deviceQuery(qv)
	if err != nil {
		code, msg := status(err)
		if code >= 500 {
			return err
		}
		d.Error = msg
		s.render(w, code, "devices", d)
		return nil
	}
	assessment, err := s.fleet.Assess(ctx)
	if err != nil {
		return err
	}
	risk := func(dev *store.DeviceRecord) float64 {
		if a := assessment.Device(dev.Sensor, dev.ID); a != nil {
			return a.Risk.Score
		}
		return 0
	}
	var devs []*store.DeviceRecord
	if byRisk {
		if devs, err = s.riskPage(ctx, q, v, risk, d); err != nil {
			return err
		}
	} else {
		page, err := s.st.Devices(ctx, q)
		if err != nil {
			return err
		}
		devs = page.Devices
		if page.Next != "" {
			d.Next = href("/devices", withValue(v, "cursor", page.Next))
		}
		if q.Cursor != "" {
			d.FirstPage = href("/devices", withValue(v, "cursor", ""))
		}
	}
	self := r.URL.RequestURI()
	d.Rows = make([]deviceRow, len(devs))
	for i, dev := range devs {
		d.Rows[i] = deviceRow{Href: deviceHref(dev.Sensor, dev.ID, self), Name: deviceName(&dev.Device), Type: devmap.TypeLabel(dev.Type),
			Vendor: dev.Vendor, Model: firstOf(dev.Model, dev.Product), Firmware: dev.Firmware, IPs: strings.Join(dev.IPs, ", "),
			MAC: dev.MAC, Purdue: purdueLabel(dev.Purdue), Site: dev.Site, Zone: dev.Zone, Sensor: dev.Sensor,
			Protocols: protocols(&dev.Device), LastSeen: dev.LastSeen, Inactive: dev.Inactive}
		d.Rows[i].Risk, d.Rows[i].RiskClass = scoreCell(risk(dev))
	}
	if err := s.alertCounts(ctx, devs, d.Rows); err != nil {
		return err
	}
	s.render(w, http.StatusOK, "devices", d)
	return nil
}

// riskPage returns the page of the devices matching q, ranked by risk
// (highest first, then in q's order), that the offset parameter of v
// asks for, and sets d's page links.
func (s *server) riskPage(ctx context.Context, q store.DeviceQuery, v url.Values, risk func(*store.DeviceRecord) float64, d *devicesData) ([]*store.DeviceRecord, error) {
	offset := 0
	if o := v.Get("offset"); o != "" {
		n, err := strconv.Atoi(o)
		if err != nil || n < 0 {
			return nil, badRequest("offset: %q is not a row number", clip(o))
		}
		offset = n
	}
	size := q.Limit
	q.Limit = store.MaxLimit
	var all []*store.DeviceRecord
	for {
		page, err := s.st.Devices(ctx, q)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Devices...)
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	slices.SortStableFunc(all, func(a, b *store.DeviceRecord) int { return cmp.Compare(risk(b), risk(a)) })
	lo, hi := min(offset, len(all)), min(offset+size, len(all))
	if hi < len(all) {
		d.Next = href("/devices", withValue(v, "offset", strconv.Itoa(hi)))
	}
	if lo > 0 {
		d.FirstPage = href("/devices", withValue(v, "offset", ""))
	}
	return all[lo:hi], nil
}

// alertCounts sets the number of alerts involving each device, counting
// a few devices at a time.
func (s *server) alertCounts(ctx context.Context, devs []*store.DeviceRecord, rows []deviceRow) error {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	errs := make([]error, len(devs))
	for i, dev := range devs {
		addrs := deviceAddrs(&dev.Device)
		if len(addrs) == 0 {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			f, err := s.st.AlertFacets(ctx, store.AlertQuery{Devices: addrs})
			rows[i].Alerts, errs[i] = f.Total, err
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// locationOptions fills the sensor, site and zone choices of a filter.
func (s *server) locationOptions(ctx context.Context, v url.Values, sensors, sites, zones *[]option) error {
	sn, err := s.st.Sensors(ctx)
	if err != nil {
		return err
	}
	for _, x := range sn {
		*sensors = append(*sensors, option{Value: x.ID, Label: firstOf(x.Name, x.ID), Selected: slices.Contains(values(v, "sensor"), x.ID)})
	}
	st, err := s.st.Sites(ctx)
	if err != nil {
		return err
	}
	for _, x := range st {
		*sites = append(*sites, option{Value: x.ID, Label: firstOf(x.Name, x.ID), Selected: slices.Contains(values(v, "site"), x.ID)})
	}
	zn, err := s.st.Zones(ctx, "")
	if err != nil {
		return err
	}
	for _, x := range zn {
		*zones = append(*zones, option{Value: x.ID, Label: firstOf(x.Name, x.ID), Selected: slices.Contains(values(v, "zone"), x.ID)})
	}
	return nil
}

// property is one property of a device with where it came from.
type property struct {
	Key, Value, Source string
}

// connRow is one connection of a device.
type connRow struct {
	Peer, PeerHref   string
	Role             string // what the device is in it: "client" or "server"
	Protocol         string
	First, Last      time.Time
	Packets, Bytes   uint64
	Classes          string
	Regular          bool
	Interval         string
	CrossesPurdue    bool
	CrossesSubnet    bool
	RelationRoutedBy bool
}

// vulnRow is one advisory matched to a device.
type vulnRow struct {
	ID, Title, URL, Verdict, Confidence, FixedIn string
	CVEs                                         []cveCell
	Reasons                                      []string
	Critical                                     bool
}

// cveCell is one vulnerability of an advisory with its CVSS base score.
type cveCell struct {
	ID, Score, SevClass string
}

// recRow is one recommendation for a device.
type recRow struct {
	ID, Severity, SevClass, Title, Text, Status, StatusKey, Source, URL string
	Reason, Actor                                                       string
	Changed                                                             time.Time
	Evidence                                                            []string
	// Action is where its status form posts, Actions the changes its
	// status allows.
	Action  string
	Actions []recAction
	History []store.RecommendationStatus
}

// recAction is one status change a recommendation's form offers.
type recAction struct {
	Status, Label string
	Reason        bool // the change needs a reason
}

// factRow is one fact the inventory holds about a device.
type factRow struct {
	Key, Value, Source string
	Rank               int
	First, Last        time.Time
	Best               bool
}

// deviceData is the device details page.
type deviceData struct {
	*base
	D         *store.DeviceRecord
	Name      string
	Tab       string
	Tabs      []tabLink
	Props     []property
	Facts     []factRow
	Override  *store.DeviceOverride
	OvAddr    string
	Types     []option
	Levels    []option
	Auth      []option
	Alerts    []alertRow
	MoreAlrts string
	Vulns     []vulnRow
	VulnNote  string
	Recs      []recRow
	Risk      *recommend.Risk
	Conns     []connRow
	Events    []timelineRow
	Services  []string
	Uses      []string
}

// deviceTabs are the tabs of the device page.
var deviceTabs = []struct{ key, label string }{
	{"overview", "Properties"}, {"alerts", "Alerts"}, {"vulnerabilities", "Vulnerabilities"},
	{"recommendations", "Recommendations"}, {"connections", "Connections"}, {"timeline", "Timeline"},
}

func (s *server) devicePage(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	ctx := r.Context()
	sensor := r.PathValue("sensor")
	id, err := parseDeviceID(r.PathValue("id"))
	if err != nil {
		return err
	}
	dev, err := s.st.Device(ctx, sensor, inventory.DeviceID(id))
	if err != nil {
		return err
	}
	v := r.URL.Query()
	from := ""
	if v.Get("from") != "" {
		from = auth.SafeNext(v.Get("from"))
	}
	d := &deviceData{base: s.newBase(r, deviceName(&dev.Device), "devices"), D: dev, Name: deviceName(&dev.Device)}
	if from != "" {
		d.Crumbs = s.crumbs(ctx, from)
	} else {
		d.Crumbs = []crumb{{"Devices", "/devices"}}
	}
	d.Crumbs = append(d.Crumbs, crumb{Label: d.Name})
	d.Tab = v.Get("tab")
	if !slices.ContainsFunc(deviceTabs, func(t struct{ key, label string }) bool { return t.key == d.Tab }) {
		d.Tab = "overview"
	}
	base := deviceHref(sensor, dev.ID, "")
	for _, t := range deviceTabs {
		tv := url.Values{}
		if from != "" {
			tv.Set("from", from)
		}
		if t.key != "overview" {
			tv.Set("tab", t.key)
		}
		d.Tabs = append(d.Tabs, tabLink{Key: t.key, Label: t.label, Active: t.key == d.Tab, Href: href(base, tv)})
	}
	self := r.URL.RequestURI()
	switch d.Tab {
	case "overview":
		err = s.deviceOverview(ctx, d)
	case "alerts":
		err = s.deviceAlerts(ctx, d, self)
	case "vulnerabilities":
		err = s.deviceVulns(ctx, d)
	case "recommendations":
		err = s.deviceRecs(ctx, d)
	case "connections":
		err = s.deviceConns(ctx, d, self)
	case "timeline":
		err = s.deviceTimeline(ctx, d, self)
	}
	if err != nil {
		return err
	}
	s.render(w, http.StatusOK, "device", d)
	return nil
}

// overrideAddr is the address a device's override is kept by: its MAC,
// else its first IP, else its routed address.
func overrideAddr(d *inventory.Device) string {
	switch {
	case d.MAC != "":
		return d.MAC
	case len(d.IPs) > 0:
		return d.IPs[0]
	}
	return d.Address
}

// bestSource returns the source of the winning fact of key.
func bestSource(d *inventory.Device, key string) string {
	for _, f := range d.Facts {
		if f.Key == key && f.Best {
			return f.Source
		}
	}
	return ""
}

func (s *server) deviceOverview(ctx context.Context, d *deviceData) error {
	dev := &d.D.Device
	d.OvAddr = overrideAddr(dev)
	ovs, err := s.st.Overrides(ctx)
	if err != nil {
		return err
	}
	for i := range ovs {
		if a, err := store.NormalizeAddr(ovs[i].Addr); (err == nil && a == mustNorm(d.OvAddr)) || ovs[i].Addr == d.OvAddr {
			d.Override = &ovs[i]
			break
		}
	}
	ov := func(set bool, src string) string {
		if set {
			return "override"
		}
		return src
	}
	o := store.DeviceOverride{}
	if d.Override != nil {
		o = *d.Override
	}
	d.Props = []property{
		{"Name", dev.Name, ov(o.Name != "", firstOf(bestSource(dev, "hostname"), sourceIf(dev.Name, "traffic")))},
		{"Type", devmap.TypeLabel(dev.Type), ov(o.Type != "", "classification")},
		{"Vendor", dev.Vendor, bestSource(dev, "vendor")},
		{"Product", dev.Product, bestSource(dev, "product")},
		{"Model", dev.Model, bestSource(dev, "model")},
		{"Firmware", dev.Firmware, bestSource(dev, "firmware")},
		{"Serial", dev.Serial, bestSource(dev, "serial")},
		{"Operating system", dev.OS, bestSource(dev, "os")},
		{"IP addresses", strings.Join(dev.IPs, ", "), sourceIf(strings.Join(dev.IPs, ""), "traffic")},
		{"MAC address", dev.MAC, sourceIf(dev.MAC, "traffic")},
		{"Routed address", dev.Address, sourceIf(dev.Address, "traffic")},
		{"Purdue level", purdueLabel(dev.Purdue), ov(o.Purdue != nil, "classification")},
		{"Authorized", yesNo(dev.Authorized), ov(o.Authorized != nil, "baseline")},
		{"Site / zone", strings.Trim(d.D.Site+" / "+d.D.Zone, " /"), sourceIf(d.D.Site+d.D.Zone, "sensor "+d.D.Sensor)},
		{"Sensor", d.D.Sensor, ""},
		{"First seen", fmtTime(dev.FirstSeen, s.loc), ""},
		{"Last seen", fmtTime(dev.LastSeen, s.loc), ""},
		{"Traffic", fmt.Sprintf("%d packets sent, %d received; %d bytes sent, %d received", dev.PacketsTx, dev.PacketsRx, dev.BytesTx, dev.BytesRx), ""},
	}
	if len(dev.Names) > 1 {
		d.Props = append(d.Props, property{"Names seen", strings.Join(dev.Names, ", "), "traffic"})
	}
	for _, e := range dev.Evidence {
		d.Props = append(d.Props, property{"Classified by", e, "classification"})
	}
	for _, f := range dev.Facts {
		d.Facts = append(d.Facts, factRow{Key: f.Key, Value: f.Value, Source: f.Source, Rank: f.Rank, First: f.First, Last: f.Last, Best: f.Best})
	}
	for _, sv := range dev.Serves {
		d.Services = append(d.Services, serviceText(sv))
	}
	for _, sv := range dev.Uses {
		d.Uses = append(d.Uses, serviceText(sv))
	}
	for _, t := range inventory.Types {
		d.Types = append(d.Types, option{Value: string(t), Label: devmap.TypeLabel(t), Selected: o.Type == t})
	}
	for l := 0; l <= 5; l++ {
		d.Levels = append(d.Levels, option{Value: strconv.Itoa(l), Label: purdueLabel(l), Selected: o.Purdue != nil && *o.Purdue == l})
	}
	d.Auth = []option{{Value: "true", Label: "Authorized", Selected: o.Authorized != nil && *o.Authorized},
		{Value: "false", Label: "Not authorized", Selected: o.Authorized != nil && !*o.Authorized}}
	return nil
}

func mustNorm(a string) string {
	n, err := store.NormalizeAddr(a)
	if err != nil {
		return a
	}
	return n
}

func sourceIf(v, src string) string {
	if v == "" {
		return ""
	}
	return src
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func serviceText(sv inventory.Service) string {
	t := sv.String()
	if len(sv.Classes) > 0 {
		t += " (" + strings.Join(sv.Classes, ", ") + ")"
	}
	return t
}

// deviceAlertLimit bounds the alerts a device's Alerts tab lists.
const deviceAlertLimit = 200

func (s *server) deviceAlerts(ctx context.Context, d *deviceData, self string) error {
	addrs := deviceAddrs(&d.D.Device)
	if len(addrs) == 0 {
		return nil
	}
	page, err := s.st.Alerts(ctx, store.AlertQuery{Devices: addrs, Limit: deviceAlertLimit})
	if err != nil {
		return err
	}
	for _, a := range page.Alerts {
		d.Alerts = append(d.Alerts, rowOf(a, self))
	}
	if page.Next != "" {
		v := url.Values{}
		for _, a := range addrs {
			v.Add("device", a)
		}
		d.MoreAlrts = href("/alerts", v)
	}
	return nil
}

func (s *server) deviceVulns(ctx context.Context, d *deviceData) error {
	dev, err := s.fleet.Device(ctx, d.D)
	if err != nil {
		return err
	}
	d.Risk = &dev.Risk
	if s.fleet.Advisories() == 0 {
		d.VulnNote = "No vendor advisories are loaded, so no device is matched to known vulnerabilities yet. " + loadAdvisories
		return nil
	}
	for _, m := range dev.Matches {
		row := vulnRow{ID: m.Advisory.ID, Title: m.Advisory.Title, URL: m.Advisory.URL, Verdict: m.Verdict.String(),
			Confidence: fmt.Sprintf("%.0f%% (%s)", m.Confidence*100, m.Level()), FixedIn: m.FixedIn, Reasons: m.Reasons,
			Critical: m.Verdict == csaf.Affected}
		for _, v := range m.Vulnerabilities {
			c := cveCell{ID: cmp.Or(v.CVE, v.Title)}
			if score, ok := cvss(v); ok {
				c.Score, c.SevClass = fmt.Sprintf("%.1f", score), sevClass(cvssSeverity(score))
			}
			row.CVEs = append(row.CVEs, c)
		}
		d.Vulns = append(d.Vulns, row)
	}
	if len(d.Vulns) == 0 {
		d.VulnNote = fmt.Sprintf("None of the %d loaded advisories concerns this device's vendor, model and firmware.", s.fleet.Advisories())
	}
	return nil
}

// loadAdvisories says how to load vendor advisories.
const loadAdvisories = "Start the console with --advisories PATH (CSAF 2.0 files or folders, such as CISA's ICS advisories), or set OTWATCH_ADVISORIES."

// cvss returns a vulnerability's CVSS base score: v3, else v4.
func cvss(v *csaf.Vulnerability) (float64, bool) {
	switch {
	case v.CVSS3 != nil:
		return v.CVSS3.Score, true
	case v.CVSS4 != nil && v.CVSS4.Score > 0:
		return v.CVSS4.Score, true
	}
	return 0, false
}

// cvssSeverity rates a CVSS base score as CVSS v3 does: Critical from 9.0,
// High from 7.0, Medium from 4.0, else Low.
func cvssSeverity(score float64) alert.Severity {
	switch {
	case score >= 9:
		return alert.Critical
	case score >= 7:
		return alert.High
	case score >= 4:
		return alert.Medium
	}
	return alert.Low
}

// statusText names a recommendation status for people: "in progress".
func statusText(st recommend.Status) string { return strings.ReplaceAll(st.String(), "_", " ") }

// recActions returns the changes the lifecycle allows from status.
func recActions(status recommend.Status) []recAction {
	var out []recAction
	for to := recommend.Open; to <= recommend.Dismissed; to++ {
		if recommend.CheckTransition(status, to, "reason") != nil {
			continue
		}
		a := recAction{Status: to.String()}
		switch to {
		case recommend.Open:
			a.Label = "Reopen"
			if status == recommend.InProgress {
				a.Label = "Back to open"
			}
		case recommend.InProgress:
			a.Label = "Start"
		case recommend.Done:
			a.Label = "Mark done"
		case recommend.Dismissed:
			a.Label, a.Reason = "Dismiss", true
		}
		out = append(out, a)
	}
	return out
}

// recommendations returns the recommendations for a device, with their
// statuses.
func (s *server) recommendations(ctx context.Context, dev *store.DeviceRecord) ([]vulns.Recommendation, error) {
	d, err := s.fleet.Device(ctx, dev)
	if err != nil {
		return nil, err
	}
	return d.Recommendations, nil
}

func (s *server) deviceRecs(ctx context.Context, d *deviceData) error {
	dev, err := s.fleet.Device(ctx, d.D)
	if err != nil {
		return err
	}
	d.Risk = &dev.Risk
	base := deviceHref(d.D.Sensor, d.D.ID, "")
	for _, r := range dev.Recommendations {
		row := recRow{ID: r.ID, Severity: r.Severity.String(), SevClass: sevClass(r.Severity), Title: r.Title, Text: r.Text,
			Status: statusText(r.Status), StatusKey: r.Status.String(), Source: string(r.Source), URL: r.URL, Evidence: r.Evidence,
			Reason: r.Reason, Actor: r.Actor, Changed: r.Changed, Action: base + "/recommendations/" + url.PathEscape(r.ID) + "/status",
			Actions: recActions(r.Status)}
		if !r.Changed.IsZero() {
			if row.History, err = s.fleet.History(ctx, r.ID); err != nil {
				return err
			}
		}
		d.Recs = append(d.Recs, row)
	}
	return nil
}

// recommendationStatus changes a recommendation's status from the
// device's Recommendations tab.
func (s *server) recommendationStatus(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	rec, err := s.formDevice(r)
	if err != nil {
		return err
	}
	to, err := recommend.ParseStatus(r.PostFormValue("status"))
	if err != nil {
		return badRequest("status: %q is not open, in progress, done or dismissed", clip(r.PostFormValue("status")))
	}
	reason := r.PostFormValue("reason")
	if n := len([]rune(reason)); n > store.MaxReasonLen {
		return badRequest("the reason is longer than %d characters", store.MaxReasonLen)
	}
	dev, err := s.fleet.Device(r.Context(), rec)
	if err != nil {
		return err
	}
	id := r.PathValue("rec")
	rc := dev.Recommendation(id)
	if rc == nil {
		return fmt.Errorf("%w: %s has no recommendation %s", store.ErrNotFound, deviceName(&rec.Device), clip(id))
	}
	if _, err := s.fleet.SetStatus(r.Context(), rc, to, reason, p.User); err != nil {
		return err
	}
	back := deviceHref(rec.Sensor, rec.ID, "") + "?tab=recommendations"
	if b := r.PostFormValue("back"); b != "" {
		back = b
	}
	redirect(w, r, back, "recstatus")
	return nil
}

func (s *server) deviceConns(ctx context.Context, d *deviceData, self string) error {
	conns, err := s.st.Connections(ctx, d.D.Sensor, d.D.ID)
	if err != nil {
		return err
	}
	names := map[inventory.DeviceID]string{}
	peerName := func(id inventory.DeviceID) string {
		if n, ok := names[id]; ok {
			return n
		}
		n := fmt.Sprintf("device %d", id)
		if dev, err := s.st.Device(ctx, d.D.Sensor, id); err == nil {
			n = deviceName(&dev.Device)
		}
		names[id] = n
		return n
	}
	for _, c := range conns {
		row := connRow{Role: "client", Protocol: strings.Trim(fmt.Sprintf("%s %s/%d", c.Protocol, c.Transport, c.Port), " /0"),
			First: c.First, Last: c.Last, Packets: c.PacketsTo + c.PacketsFr, Bytes: c.BytesTo + c.BytesFr,
			Classes: strings.Join(c.Classes, ", "), Regular: c.Regular, CrossesPurdue: c.CrossesPurdue, CrossesSubnet: c.CrossesSubnet,
			RelationRoutedBy: c.Relation == inventory.RelationRoutedBy}
		peer := c.Server
		if c.Server == d.D.ID {
			row.Role, peer = "server", c.Client
		}
		if c.Transport == "" || c.Port == 0 {
			row.Protocol = c.Protocol
		}
		if c.Interval > 0 {
			row.Interval = (time.Duration(c.Interval * float64(time.Second))).Round(time.Millisecond).String()
		}
		row.Peer, row.PeerHref = peerName(peer), deviceHref(d.D.Sensor, peer, self)
		d.Conns = append(d.Conns, row)
	}
	slices.SortStableFunc(d.Conns, func(a, b connRow) int { return cmp.Compare(b.Packets, a.Packets) })
	return nil
}

func (s *server) deviceTimeline(ctx context.Context, d *deviceData, self string) error {
	addrs := deviceAddrs(&d.D.Device)
	q := store.EventQuery{Sensors: []string{d.D.Sensor}, Limit: store.DefaultRelated}
	if len(addrs) > 0 {
		q.Devices = addrs
	}
	page, err := s.st.Events(ctx, q)
	if err != nil {
		return err
	}
	var evs []store.Event
	for _, e := range page.Events {
		if len(addrs) > 0 || e.DeviceID == d.D.ID || e.PeerID == d.D.ID {
			evs = append(evs, e)
		}
	}
	d.Events = s.eventRows(evs, self)
	return nil
}

// deviceOverride saves what a person decided about a device.
func (s *server) deviceOverride(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	dev, err := s.formDevice(r)
	if err != nil {
		return err
	}
	var o inventory.Override
	o.Name = strings.TrimSpace(r.PostFormValue("name"))
	if len([]rune(o.Name)) > 200 {
		return badRequest("the name is longer than 200 characters")
	}
	if t := r.PostFormValue("type"); t != "" {
		if !slices.Contains(inventory.Types, inventory.Type(t)) {
			return badRequest("type: %q is not a device type", clip(t))
		}
		o.Type = inventory.Type(t)
	}
	if l := r.PostFormValue("purdue"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 || n > 5 {
			return badRequest("Purdue level: %q is not 0 to 5", clip(l))
		}
		o.Purdue = &n
	}
	if a := r.PostFormValue("authorized"); a != "" {
		b, err := strconv.ParseBool(a)
		if err != nil {
			return badRequest("authorized: %q is not true or false", clip(a))
		}
		o.Authorized = &b
	}
	if o == (inventory.Override{}) {
		return badRequest("set at least one override (name, type, Purdue level or authorization)")
	}
	if err := s.st.PutOverride(r.Context(), overrideAddr(&dev.Device), o, p.User); err != nil {
		return err
	}
	redirect(w, r, deviceHref(dev.Sensor, dev.ID, ""), "override")
	return nil
}

func (s *server) deviceOverrideDelete(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	dev, err := s.formDevice(r)
	if err != nil {
		return err
	}
	if err := s.st.DeleteOverride(r.Context(), overrideAddr(&dev.Device), p.User); err != nil {
		return err
	}
	redirect(w, r, deviceHref(dev.Sensor, dev.ID, ""), "deleted")
	return nil
}

// formDevice returns the device a form's path names.
func (s *server) formDevice(r *http.Request) (*store.DeviceRecord, error) {
	id, err := parseDeviceID(r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return s.st.Device(r.Context(), r.PathValue("sensor"), inventory.DeviceID(id))
}

// snapshot returns the inventory snapshot of a sensor as stored: its
// devices by ID and its connections.
func (s *server) snapshot(ctx context.Context, sensor string) (*inventory.Snapshot, []*store.DeviceRecord, error) {
	snap := &inventory.Snapshot{}
	var recs []*store.DeviceRecord
	q := store.DeviceQuery{Sensors: []string{sensor}, Limit: store.MaxLimit}
	for {
		page, err := s.st.Devices(ctx, q)
		if err != nil {
			return nil, nil, err
		}
		recs = append(recs, page.Devices...)
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	slices.SortFunc(recs, func(a, b *store.DeviceRecord) int { return cmp.Compare(a.ID, b.ID) })
	snap.Devices = make([]inventory.Device, len(recs))
	for i, r := range recs {
		snap.Devices[i] = r.Device
	}
	conns, err := s.st.Connections(ctx, sensor, 0)
	if err != nil {
		return nil, nil, err
	}
	snap.Connections = conns
	return snap, recs, nil
}

// zoneFunc returns the zone of a device for the map: the zone whose
// subnets hold one of its IPs, else none.
func (s *server) zoneFunc(ctx context.Context) (func(*inventory.Device) string, error) {
	zones, err := s.st.Zones(ctx, "")
	if err != nil {
		return nil, err
	}
	return func(d *inventory.Device) string {
		for _, ip := range d.IPs {
			a, err := netip.ParseAddr(ip)
			if err != nil {
				continue
			}
			for _, z := range zones {
				for _, p := range z.Subnets {
					if p.Contains(a.Unmap()) {
						return firstOf(z.Name, z.ID)
					}
				}
			}
		}
		return ""
	}, nil
}
