package report

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/attack"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/inventory"
)

// AlertReport is everything the PDF of one alert shows.
type AlertReport struct {
	Alert alert.Alert
	// Source and Destination are the alert's devices as the inventory
	// knows them; nil when it does not (the alert's parties are shown).
	Source, Destination *inventory.Device
	// Events are the timeline excerpt around the alert, in the order to
	// print; the first MaxEvents are printed.
	Events []Event
	// Packets are the evidence packets, decoded, in capture order; the
	// first MaxPackets are listed.
	Packets []Packet
	// PacketTotal is the number of evidence packets when more were kept
	// than Packets holds; 0 means len(Packets).
	PacketTotal int
	// Recommendations are the actions advised for the alert's devices.
	Recommendations []Recommendation
	// Comments are the alert's comments, oldest first.
	Comments []Comment
	// Generated is when the report is made, printed in the footer and
	// used as the PDF's creation date; zero prints none and dates the
	// PDF at the alert's last detection.
	Generated time.Time
	// Location is the time zone of the printed times; nil is UTC.
	Location *time.Location
}

// Event is one entry of the event timeline.
type Event struct {
	Time   time.Time
	Sensor string
	Type   string // "new_device", "alert", "mode_change"...
	Device string // the device's address or name
	Peer   string // the other device, if any
	Detail string
}

// Packet is one evidence packet, decoded.
type Packet struct {
	Time        time.Time
	Source      string // "10.1.1.50:49152"
	Destination string
	Protocol    string
	Length      int
	// Summary is the protocol fields of the operation ("Job: PLC Stop").
	Summary string
}

// Recommendation is one action advised for a device.
type Recommendation struct {
	Severity string // "Critical", "High", "Medium", "Low" or ""
	Title    string
	Text     string
}

// Comment is a note a person left on the alert.
type Comment struct {
	Author string
	Time   time.Time
	Text   string
}

// Table limits.
const (
	MaxEvents  = 50 // timeline rows printed
	MaxPackets = 40 // packet rows printed
	maxLines   = 40 // lines of one table cell
)

// Page geometry, in millimetres, and type sizes, in points.
const (
	margin   = 15.0
	lineH    = 4.2 // table and paragraph line height
	cellPad  = 1.0 // above and below a table cell's text
	bodySize = 9.0
	fontName = "Helvetica"
)

// AlertPDF writes the report of one alert to w as a PDF document.
func AlertPDF(w io.Writer, in AlertReport) error {
	if w == nil {
		return errors.New("report: alert PDF: nil writer")
	}
	a := &in.Alert
	if a.ID == "" && a.Title == "" && a.Type == "" {
		return errors.New("report: alert PDF: alert has no id, title or type")
	}
	loc := in.Location
	if loc == nil {
		loc = time.UTC
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	r := &renderer{pdf: pdf, enc: newEncoder(pdf.UnicodeTranslatorFromDescriptor("cp1252")), loc: loc}
	created := in.Generated
	if created.IsZero() {
		created = a.LastDetection
	}
	if created.IsZero() {
		created = time.Unix(0, 0)
	}
	pdf.SetCreationDate(created)
	pdf.SetModificationDate(created)
	pdf.SetCatalogSort(true)
	title := a.Title
	if title == "" {
		title = a.Type
	}
	if title == "" {
		title = "Alert " + a.ID
	}
	pdf.SetTitle(capRunes(title, 500), true)
	pdf.SetSubject("otwatch alert "+capRunes(a.ID, 100), true)
	pdf.SetCreator("otwatch", true)
	pdf.SetProducer("otwatch", true)
	pdf.SetMargins(margin, margin, margin)
	pdf.SetAutoPageBreak(true, margin+5)
	pdf.AliasNbPages("")
	footer := "otwatch alert report"
	if a.ID != "" {
		footer += " · " + a.ID
	}
	if !in.Generated.IsZero() {
		footer += " · generated " + r.time(in.Generated)
	}
	footer = r.enc.enc(capRunes(footer, 160), false)
	pdf.SetFooterFunc(func() {
		pdf.SetY(-margin)
		pdf.SetFont(fontName, "", 7.5)
		pdf.SetTextColor(110, 110, 110)
		pdf.CellFormat(0, 4, footer, "", 0, "L", false, 0, "")
		pdf.SetX(margin)
		pdf.CellFormat(0, 4, "Page "+strconv.Itoa(pdf.PageNo())+" of {nb}", "", 0, "R", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
	})
	pdf.AddPage()

	r.titleBlock(a, title)
	r.summary(a)
	r.device("Source device", in.Source, a.Source)
	r.device("Destination device", in.Destination, a.Destination)
	r.attack(a)
	r.operation(a)
	r.events(in.Events)
	r.evidence(in.Packets, in.PacketTotal)
	r.remediation(a.Remediation)
	r.recommendations(in.Recommendations)
	r.comments(in.Comments)

	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("report: writing alert %s PDF: %w", a.ID, err)
	}
	return nil
}

// renderer draws the report's parts on one document.
type renderer struct {
	pdf *fpdf.Fpdf
	enc *encoder
	loc *time.Location
}

// time formats t in the report's time zone, "-" when zero.
func (r *renderer) time(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(r.loc).Format("2006-01-02 15:04:05.000 MST")
}

// shortTime formats t for a table column whose header names the zone.
func (r *renderer) shortTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(r.loc).Format("2006-01-02 15:04:05.000")
}

// timeHeader is the header of a time column.
func (r *renderer) timeHeader() string { return "Time (" + r.loc.String() + ")" }

func dash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

func (r *renderer) width() float64 {
	w, _ := r.pdf.GetPageSize()
	return w - 2*margin
}

// room reports whether h millimetres fit above the bottom margin.
func (r *renderer) room(h float64) bool {
	_, ph := r.pdf.GetPageSize()
	_, bottom := r.pdf.GetAutoPageBreak()
	return r.pdf.GetY()+h <= ph-bottom
}

// heading starts a section, on a new page when less than a few lines of
// it would fit.
func (r *renderer) heading(s string) {
	p := r.pdf
	if !r.room(28) {
		p.AddPage()
	} else {
		p.Ln(4)
	}
	p.SetFont(fontName, "B", 12)
	p.SetTextColor(30, 55, 90)
	p.CellFormat(0, 7, r.enc.enc(s, false), "B", 1, "L", false, 0, "")
	p.SetTextColor(0, 0, 0)
	p.Ln(2)
}

// subheading titles a part of a section.
func (r *renderer) subheading(s string) {
	p := r.pdf
	if !r.room(16) {
		p.AddPage()
	}
	p.SetFont(fontName, "B", 10)
	p.CellFormat(0, 6, r.enc.enc(s, false), "", 1, "L", false, 0, "")
}

// para writes a wrapped paragraph.
func (r *renderer) para(s string) {
	r.pdf.SetFont(fontName, "", bodySize+0.5)
	r.pdf.MultiCell(0, lineH+0.4, r.enc.enc(s, true), "", "L", false)
}

// note writes a line in grey italics.
func (r *renderer) note(s string) {
	p := r.pdf
	p.SetFont(fontName, "I", bodySize)
	p.SetTextColor(90, 90, 90)
	p.MultiCell(0, lineH, r.enc.enc(s, true), "", "L", false)
	p.SetTextColor(0, 0, 0)
}

// column is one column of a table: its share of the width and header.
type column struct {
	share  float64
	header string
}

// table draws rows under a header that repeats on every page. Cells wrap;
// a cell longer than maxLines lines (or than a page) is cut.
func (r *renderer) table(cols []column, rows [][]string, links []string) {
	p := r.pdf
	total := 0.0
	for _, c := range cols {
		total += c.share
	}
	widths := make([]float64, len(cols))
	for i, c := range cols {
		widths[i] = r.width() * c.share / total
	}
	var header []string
	for _, c := range cols {
		header = append(header, c.header)
	}
	_, ph := p.GetPageSize()
	_, bottom := p.GetAutoPageBreak()
	pageLines := int((ph-bottom-margin-2*(lineH+2*cellPad))/lineH) - 1
	drawHeader := func() {
		if header[0] != "" {
			p.SetFont(fontName, "B", bodySize)
			r.row(widths, header, true, maxLines, "")
		}
	}
	if !r.room(2 * (lineH + 2*cellPad)) {
		p.AddPage()
	}
	drawHeader()
	p.SetFont(fontName, "", bodySize)
	for i, row := range rows {
		cells := make([]string, len(cols))
		for j := range cols {
			if j < len(row) {
				cells[j] = row[j]
			}
		}
		h := r.rowHeight(widths, cells, min(maxLines, pageLines))
		if !r.room(h) {
			p.AddPage()
			drawHeader()
			p.SetFont(fontName, "", bodySize)
		}
		link := ""
		if i < len(links) {
			link = links[i]
		}
		r.row(widths, cells, false, min(maxLines, pageLines), link)
	}
}

// lines splits an encoded cell text into the lines of a column of width w
// in the current font, at most n of them.
func (r *renderer) lines(txt string, w float64, n int) []string {
	var out []string
	for _, l := range r.pdf.SplitLines([]byte(txt), w) {
		if len(out) == n {
			out[n-1] = strings.TrimRight(out[n-1], " ") + "..."
			break
		}
		out = append(out, string(l))
	}
	if len(out) == 0 {
		out = []string{""}
	}
	return out
}

func (r *renderer) rowHeight(widths []float64, cells []string, n int) float64 {
	most := 1
	for j, c := range cells {
		most = max(most, len(r.lines(r.enc.enc(c, true), widths[j], n)))
	}
	return float64(most)*lineH + 2*cellPad
}

// row draws one table row at the current position; link, if set, is the
// target of the first cell.
func (r *renderer) row(widths []float64, cells []string, header bool, n int, link string) {
	p := r.pdf
	x0, y0 := p.GetX(), p.GetY()
	split := make([][]string, len(cells))
	most := 1
	for j, c := range cells {
		split[j] = r.lines(r.enc.enc(c, true), widths[j], n)
		most = max(most, len(split[j]))
	}
	h := float64(most)*lineH + 2*cellPad
	x := x0
	p.SetDrawColor(190, 190, 190)
	if header {
		p.SetFillColor(232, 236, 241)
	}
	for j, ls := range split {
		style := "D"
		if header {
			style = "FD"
		}
		p.Rect(x, y0, widths[j], h, style)
		if j == 0 && link != "" {
			p.SetTextColor(20, 70, 160)
			p.LinkString(x, y0, widths[j], h, link)
		}
		for k, l := range ls {
			p.SetXY(x, y0+cellPad+float64(k)*lineH)
			p.CellFormat(widths[j], lineH, l, "", 0, "L", false, 0, "")
		}
		p.SetTextColor(0, 0, 0)
		x += widths[j]
	}
	p.SetDrawColor(0, 0, 0)
	p.SetXY(x0, y0+h)
}

// kv draws label/value pairs as a two-column table.
func (r *renderer) kv(pairs [][2]string) {
	rows := make([][]string, len(pairs))
	for i, kv := range pairs {
		rows[i] = []string{kv[0], dash(kv[1])}
	}
	r.table([]column{{0.28, ""}, {0.72, ""}}, rows, nil)
}

func (r *renderer) titleBlock(a *alert.Alert, title string) {
	p := r.pdf
	p.SetFont(fontName, "B", 8)
	p.SetTextColor(110, 110, 110)
	p.CellFormat(0, 5, "ALERT REPORT", "", 1, "L", false, 0, "")
	p.SetTextColor(0, 0, 0)
	p.SetFont(fontName, "B", 16)
	p.MultiCell(0, 7, r.enc.enc(title, false), "", "L", false)
	p.Ln(2)
	if a.Description != "" {
		r.para(a.Description)
	}
}

func (r *renderer) summary(a *alert.Alert) {
	r.heading("Summary")
	count := "-"
	if a.Count > 0 {
		count = strconv.FormatUint(a.Count, 10)
	}
	learnable := "no"
	if a.Learnable {
		learnable = "yes"
	}
	r.kv([][2]string{
		{"Severity", severity(a.Severity)},
		{"Status", status(a.Status)},
		{"Engine", engine(a.Engine)},
		{"Category", a.Category},
		{"Type", a.Type},
		{"Protocol", a.Protocol},
		{"Sensor", a.Sensor},
		{"Site", a.Site},
		{"Zone", a.Zone},
		{"First detection", r.time(a.FirstDetection)},
		{"Last detection", r.time(a.LastDetection)},
		{"Count", count},
		{"Learnable", learnable},
		{"Alert ID", a.ID},
	})
}

func severity(s alert.Severity) string {
	if s == 0 {
		return "-"
	}
	return s.String()
}

func status(s alert.Status) string {
	if s == 0 {
		return "-"
	}
	return s.String()
}

func engine(e alert.Engine) string {
	if e == 0 {
		return "-"
	}
	return e.String()
}

// device describes one side of the alert: the inventory's device when
// known, else what the traffic showed of it.
func (r *renderer) device(title string, d *inventory.Device, party alert.Party) {
	r.heading(title)
	port := "-"
	if party.Port != 0 {
		port = strconv.Itoa(int(party.Port))
	}
	if d == nil {
		if party.IsZero() && party.Name == "" {
			r.note("Not known.")
			return
		}
		r.note("Not in the inventory: as seen in the traffic.")
		ip, mac := "", ""
		if party.IP.IsValid() {
			ip = party.IP.String()
		}
		if !party.MAC.IsZero() {
			mac = party.MAC.String()
		}
		r.kv([][2]string{{"Name", party.Name}, {"IP address", ip}, {"MAC address", mac}, {"Port", port}})
		return
	}
	name := d.Name
	if name == "" && len(d.Names) > 0 {
		name = d.Names[0]
	}
	level := "unknown"
	if d.Purdue >= 0 && d.Purdue <= 5 {
		level = strconv.Itoa(d.Purdue)
	}
	ips := strings.Join(d.IPs, ", ")
	if d.Address != "" {
		ips = strings.TrimPrefix(ips+", "+d.Address, ", ")
	}
	model := d.Model
	if d.Product != "" && d.Product != d.Model {
		model = strings.TrimSuffix(d.Product+" / "+d.Model, " / ")
	}
	r.kv([][2]string{
		{"Name", name},
		{"IP addresses", ips},
		{"MAC address", d.MAC},
		{"Port seen", port},
		{"Vendor", d.Vendor},
		{"Product / model", model},
		{"Firmware", d.Firmware},
		{"Serial", d.Serial},
		{"Type", string(d.Type)},
		{"Purdue level", level},
		{"Device ID", strconv.FormatUint(uint64(d.ID), 10)},
	})
}

// attack lists the alert's tactics and techniques from the catalogue.
func (r *renderer) attack(a *alert.Alert) {
	r.heading("MITRE ATT&CK for ICS")
	if len(a.Techniques) == 0 && len(a.Tactics) == 0 {
		r.note("The alert names no technique.")
		return
	}
	tactics := a.Tactics
	if len(tactics) == 0 {
		tactics = attack.TacticsOf(a.Techniques...)
	}
	unknown := "(not in ATT&CK for ICS " + attack.Version + ")"
	if len(tactics) > 0 {
		r.subheading("Tactics")
		var rows [][]string
		var links []string
		for _, id := range tactics {
			t, ok := attack.LookupTactic(id)
			if !ok {
				rows, links = append(rows, []string{id, unknown}), append(links, "")
				continue
			}
			rows, links = append(rows, []string{t.ID, t.Name}), append(links, t.URL)
		}
		r.table([]column{{0.14, "ID"}, {0.86, "Tactic"}}, rows, links)
	}
	if len(a.Techniques) > 0 {
		r.pdf.Ln(2)
		r.subheading("Techniques")
		var rows [][]string
		var links []string
		for _, id := range a.Techniques {
			t, ok := attack.LookupTechnique(id)
			if !ok {
				rows, links = append(rows, []string{id, unknown, "", ""}), append(links, "")
				continue
			}
			var names []string
			for _, ta := range t.Tactics {
				if tt, ok := attack.LookupTactic(ta); ok {
					names = append(names, tt.Name)
				}
			}
			rows = append(rows, []string{t.ID, t.Name, strings.Join(names, ", "), t.Summary})
			links = append(links, t.URL)
		}
		r.table([]column{{0.10, "ID"}, {0.22, "Technique"}, {0.18, "Tactics"}, {0.50, "Description"}}, rows, links)
	}
	r.note("ATT&CK for ICS " + attack.Version + ", https://attack.mitre.org/. © The MITRE Corporation.")
}

func endpoint(e dissect.Endpoint) string {
	var s string
	if e.IP.IsValid() {
		s = e.IP.String()
		if e.Port != 0 {
			if e.IP.Is6() {
				s = "[" + s + "]"
			}
			s += ":" + strconv.Itoa(int(e.Port))
		}
	}
	if !e.MAC.IsZero() {
		s = strings.TrimSpace(s + " (" + e.MAC.String() + ")")
	}
	return s
}

// operation decodes the triggering operation and the detection's details.
func (r *renderer) operation(a *alert.Alert) {
	r.heading("Triggering operation")
	op := a.Operation
	if op == nil {
		r.note("No single operation triggered this alert.")
	} else {
		if op.Detail != "" {
			r.para(op.Detail)
			r.pdf.Ln(1)
		}
		proto := op.Protocol
		if op.Transport != "" {
			proto += " over " + op.Transport
		}
		fn := op.FunctionName
		if op.FunctionCode != 0 || fn == "" {
			fn = strings.TrimSpace(fmt.Sprintf("%s (code %d, 0x%X)", fn, op.FunctionCode, op.FunctionCode))
		}
		seen := []string{}
		if op.Request {
			seen = append(seen, "request")
		}
		if op.Response {
			seen = append(seen, "response")
		}
		result := op.Result.Status.String()
		if op.Result.Code != 0 || op.Result.Text != "" {
			result += strings.TrimRight(fmt.Sprintf(": %s (code %d)", op.Result.Text, op.Result.Code), " ")
		}
		var targets []string
		for i, t := range op.Targets {
			if i == 20 {
				targets = append(targets, fmt.Sprintf("and %d more", len(op.Targets)-20))
				break
			}
			s := t.Kind
			if t.Name != "" {
				s += " " + t.Name
			}
			if t.Address != 0 || t.Count != 0 {
				s += " " + strconv.FormatUint(uint64(t.Address), 10)
				if t.Count > 1 {
					s += "-" + strconv.FormatUint(uint64(t.Address)+uint64(t.Count)-1, 10) + " (" + strconv.FormatUint(uint64(t.Count), 10) + ")"
				}
			}
			targets = append(targets, s)
		}
		pairs := [][2]string{
			{"Time", r.time(op.Time)},
			{"Protocol", proto},
			{"Function", fn},
			{"Operation class", op.Class.String()},
			{"Client", endpoint(op.Client)},
			{"Server", endpoint(op.Server)},
			{"Seen", strings.Join(seen, " and ")},
			{"Targets", strings.Join(targets, "; ")},
			{"Result", result},
		}
		for _, at := range op.Attrs {
			pairs = append(pairs, [2]string{at.Key, at.Value})
		}
		for _, f := range op.Identity {
			side := "client"
			if f.Server {
				side = "server"
			}
			pairs = append(pairs, [2]string{side + " " + f.Key, f.Value})
		}
		r.kv(pairs)
	}
	if len(a.Details) > 0 {
		r.pdf.Ln(2)
		r.subheading("Detection details")
		var pairs [][2]string
		for _, d := range a.Details {
			pairs = append(pairs, [2]string{d.Key, d.Value})
		}
		r.kv(pairs)
	}
}

func (r *renderer) events(evs []Event) {
	r.heading("Event timeline")
	if len(evs) == 0 {
		r.note("No events recorded around this alert.")
		return
	}
	var rows [][]string
	for _, e := range evs[:min(len(evs), MaxEvents)] {
		rows = append(rows, []string{r.shortTime(e.Time), e.Type, e.Device, e.Peer, e.Detail})
	}
	r.table([]column{{0.22, r.timeHeader()}, {0.15, "Type"}, {0.14, "Device"}, {0.14, "Peer"}, {0.35, "Detail"}}, rows, nil)
	if len(evs) > MaxEvents {
		r.note(fmt.Sprintf("%d more events not shown.", len(evs)-MaxEvents))
	}
}

func (r *renderer) evidence(pkts []Packet, total int) {
	r.heading("Evidence")
	if total < len(pkts) {
		total = len(pkts)
	}
	if total == 0 {
		r.note("No packets were kept for this alert.")
		return
	}
	var first, last time.Time
	var protos []string
	for _, p := range pkts {
		if !p.Time.IsZero() && (first.IsZero() || p.Time.Before(first)) {
			first = p.Time
		}
		if p.Time.After(last) {
			last = p.Time
		}
		if p.Protocol != "" && !slices.Contains(protos, p.Protocol) {
			protos = append(protos, p.Protocol)
		}
	}
	slices.Sort(protos)
	count := strconv.Itoa(total)
	if total > len(pkts) {
		count += fmt.Sprintf(" (%d decoded below)", min(len(pkts), MaxPackets))
	}
	r.kv([][2]string{
		{"Packets", count},
		{"First packet", r.time(first)},
		{"Last packet", r.time(last)},
		{"Protocols", strings.Join(protos, ", ")},
	})
	if len(pkts) == 0 {
		return
	}
	r.pdf.Ln(2)
	var rows [][]string
	for i, p := range pkts[:min(len(pkts), MaxPackets)] {
		length := ""
		if p.Length > 0 {
			length = strconv.Itoa(p.Length)
		}
		rows = append(rows, []string{strconv.Itoa(i + 1), r.shortTime(p.Time), p.Source, p.Destination, p.Protocol, length, p.Summary})
	}
	r.table([]column{{0.04, "#"}, {0.22, r.timeHeader()}, {0.15, "Source"}, {0.15, "Destination"}, {0.09, "Protocol"}, {0.07, "Length"}, {0.28, "Summary"}}, rows, nil)
	if len(pkts) > MaxPackets {
		r.note(fmt.Sprintf("%d more decoded packets not shown.", len(pkts)-MaxPackets))
	}
}

// numbered writes a numbered list.
func (r *renderer) numbered(items []string) {
	p := r.pdf
	p.SetFont(fontName, "", bodySize+0.5)
	for i, s := range items {
		num := strconv.Itoa(i+1) + "."
		p.CellFormat(8, lineH+0.4, num, "", 0, "R", false, 0, "")
		left, _, _, _ := p.GetMargins()
		p.SetLeftMargin(left + 10)
		p.SetX(left + 10)
		p.MultiCell(0, lineH+0.4, r.enc.enc(s, true), "", "L", false)
		p.SetLeftMargin(left)
		p.Ln(1)
	}
}

func (r *renderer) remediation(steps []string) {
	r.heading("Remediation")
	if len(steps) == 0 {
		r.note("No remediation steps for this alert type.")
		return
	}
	r.numbered(steps)
}

func (r *renderer) recommendations(recs []Recommendation) {
	r.heading("Recommendations for these devices")
	if len(recs) == 0 {
		r.note("No recommendations for these devices.")
		return
	}
	p := r.pdf
	for _, rec := range recs {
		if !r.room(3 * lineH) {
			p.AddPage()
		}
		head := rec.Title
		if rec.Severity != "" {
			head = "[" + rec.Severity + "] " + head
		}
		p.SetFont(fontName, "B", bodySize+0.5)
		p.MultiCell(0, lineH+0.4, r.enc.enc(dash(head), false), "", "L", false)
		if rec.Text != "" {
			r.para(rec.Text)
		}
		p.Ln(2)
	}
}

func (r *renderer) comments(cs []Comment) {
	r.heading("Comments")
	if len(cs) == 0 {
		r.note("No comments.")
		return
	}
	p := r.pdf
	for _, c := range cs {
		if !r.room(3 * lineH) {
			p.AddPage()
		}
		p.SetFont(fontName, "B", bodySize)
		p.MultiCell(0, lineH, r.enc.enc(dash(c.Author)+" · "+r.time(c.Time), false), "", "L", false)
		r.para(c.Text)
		p.Ln(2)
	}
}
