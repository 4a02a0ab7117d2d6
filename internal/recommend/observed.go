package recommend

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/service"
	"github.com/otwatch/otwatch/internal/inventory"
)

// Alert types the observed recommendations read.
const (
	alertCleartext    = "malware.cleartext_credentials"
	alertRemoteAccess = "malware.remote_access"
	alertInternet     = "policy.internet_access"
	alertITOT         = "policy.it_ot_crossing"
	alertS7Stop       = "s7comm.plc_stop"
	alertS7Start      = "s7comm.plc_start"
	alertCIPMode      = "cip.mode_change"
	alertProgramming  = "policy.unauthorized_programming"
	alertS7Download   = "s7comm.program_download"
	alertOB1Write     = "malware.s7_ob1_write"
)

// view is what the observed rules need about one device of a snapshot.
type view struct {
	snap *inventory.Snapshot
	d    *inventory.Device
	in   []*inventory.Connection // traffic to d's services
	out  []*inventory.Connection // traffic from d to others
	to   []*alert.Alert          // alerts whose destination is d
	from []*alert.Alert          // alerts whose source is d
	// newer, when set, is what outdatedFirmware would find among the
	// devices of d's model (an Index's precomputed answer).
	newer *newerFirmware
}

func newView(snap *inventory.Snapshot, d *inventory.Device, alerts []*alert.Alert) *view {
	v := &view{snap: snap, d: d}
	if snap != nil {
		for i := range snap.Connections {
			c := &snap.Connections[i]
			switch {
			case c.Relation != "":
			case c.Server == d.ID:
				v.in = append(v.in, c)
			case c.Client == d.ID:
				v.out = append(v.out, c)
			}
		}
	}
	for _, a := range alerts {
		if a == nil {
			continue
		}
		if involves(a.Destination, d) {
			v.to = append(v.to, a)
		} else if involves(a.Source, d) {
			v.from = append(v.from, a)
		}
	}
	return v
}

// peer returns the other device of a connection, or nil.
func (v *view) peer(c *inventory.Connection) *inventory.Device {
	if v.snap == nil {
		return nil
	}
	id := c.Client
	if id == v.d.ID {
		id = c.Server
	}
	return v.snap.Device(id)
}

func (v *view) label() string { return Ref(v.d).String() }

// clients returns the labels of the clients of d's service p.
func (v *view) clients(p string) []string {
	var out []string
	for _, c := range v.in {
		if c.Protocol != p {
			continue
		}
		if pd := v.peer(c); pd != nil {
			if l := Ref(pd).String(); !slices.Contains(out, l) {
				out = append(out, l)
			}
		}
	}
	return out
}

// alertEvidence describes an alert for evidence.
func alertEvidence(a *alert.Alert) string {
	s := fmt.Sprintf("alert %s: %s", a.Type, a.Title)
	if !a.FirstDetection.IsZero() {
		s += " (" + a.FirstDetection.UTC().Format(time.DateTime)
		if a.Count > 1 {
			s += fmt.Sprintf(", %d times until %s", a.Count, a.LastDetection.UTC().Format(time.DateTime))
		}
		s += ")"
	}
	return s
}

// otTypes are the device types of the plant's control system.
var otTypes = map[inventory.Type]bool{
	inventory.TypePLC: true, inventory.TypeRTU: true, inventory.TypeIED: true, inventory.TypeHMI: true,
	inventory.TypeEngineering: true, inventory.TypeHistorian: true, inventory.TypeSCADAServer: true,
	inventory.TypeOPCServer: true,
}

// isOT reports whether d belongs to the control system: an OT device type,
// or another device at Purdue level 0 to 3 that is not on the internet.
func isOT(d *inventory.Device) bool {
	if otTypes[d.Type] {
		return true
	}
	if d.Type == inventory.TypeITWorkstation || d.Type == inventory.TypeITServer {
		return false
	}
	return d.Purdue >= 0 && d.Purdue <= 3 && !publicOnly(d)
}

// isField reports whether d is a field controller.
func isField(d *inventory.Device) bool {
	return d.Type == inventory.TypePLC || d.Type == inventory.TypeRTU || d.Type == inventory.TypeIED
}

// isIT reports whether d is an IT host: an IT type or Purdue level 4 or 5.
func isIT(d *inventory.Device) bool {
	return d.Type == inventory.TypeITWorkstation || d.Type == inventory.TypeITServer || d.Purdue >= 4
}

// industrial reports whether p is an industrial protocol.
func industrial(p string) bool {
	switch p {
	case "s7comm", "s7comm-plus", "cotp", "cip", "fins", "mms", "goose", "iec61850", "hartip", "synphasor", "bacnet", "profinet":
		return true
	}
	return service.Industrial(p)
}

// observed returns the recommendations from what the sensor saw; newer,
// when not nil, is the newer firmware of d's model (see Index).
func observed(snap *inventory.Snapshot, d *inventory.Device, alerts []*alert.Alert, newer *newerFirmware) []Recommendation {
	if publicOnly(d) {
		return nil // a host on the internet is not the plant's to fix
	}
	v := newView(snap, d, alerts)
	v.newer = newer
	var out []Recommendation
	out = append(out, v.insecureProtocols()...)
	out = append(out, v.cleartextCredentials()...)
	out = append(out, v.remoteAccess()...)
	out = append(out, v.internet()...)
	out = append(out, v.outdatedFirmware()...)
	out = append(out, v.plcMode()...)
	out = append(out, v.plcProgramming()...)
	out = append(out, v.itotCrossing()...)
	return out
}

// facts returns the values of d's facts with key, most recent first.
func (v *view) facts(key string) []inventory.Fact {
	var out []inventory.Fact
	for _, f := range v.d.Facts {
		if f.Key == key {
			out = append(out, f)
		}
	}
	slices.SortStableFunc(out, func(a, b inventory.Fact) int { return b.Last.Compare(a.Last) })
	return out
}

// serves reports whether d serves protocol p, and how ("telnet/tcp 23").
func (v *view) serves(p string) (string, bool) {
	for _, s := range v.d.Serves {
		if s.Protocol == p {
			return s.String(), true
		}
	}
	return "", false
}

// insecure describes one protocol that should not be served.
type insecure struct {
	protocol string
	severity alert.Severity
	title    string
	text     string
}

var insecureProtocols = []insecure{
	{"telnet", alert.High, "Disable Telnet on %s",
		"Telnet sends logins, passwords and every command in clear, and gives a shell to whoever has them. Disable it on the device and manage it over SSH or a local console; if it cannot be disabled, allow port 23 only from the engineering workstation at the firewall."},
	{"ftp", alert.Medium, "Replace FTP on %s",
		"FTP sends its login and the files (programs, configurations, firmware) in clear and unauthenticated by integrity. Disable the FTP server, or use SFTP or FTPS where the device supports them, and allow port 21 only from the hosts that transfer files."},
}

// insecureProtocols flags Telnet and FTP served by any plant device, plain
// HTTP served by an OT device and SNMP v1 or v2c.
func (v *view) insecureProtocols() []Recommendation {
	var out []Recommendation
	for _, ip := range insecureProtocols {
		how, ok := v.serves(ip.protocol)
		if !ok {
			continue
		}
		r := newRec(v.d, KindInsecureProtocol, ip.protocol, ip.severity, SourceObserved)
		r.Title = fmt.Sprintf(ip.title, v.label())
		r.Text = ip.text
		r.Evidence = []string{"serves " + how}
		if cs := v.clients(ip.protocol); len(cs) > 0 {
			r.Evidence = append(r.Evidence, "used by "+listOf(cs))
		}
		out = append(out, r)
	}
	how, ok := v.serves("http")
	if !ok {
		how, ok = v.serves("http-alt")
	}
	if ok && isOT(v.d) {
		sev := alert.Low
		if isField(v.d) {
			sev = alert.Medium
		}
		r := newRec(v.d, KindInsecureProtocol, "http", sev, SourceObserved)
		r.Title = "Disable the plain HTTP server of " + v.label()
		r.Text = "The device serves HTTP without TLS: its web pages, logins and settings cross the network in clear. Disable the web server if nobody uses it, or switch it to HTTPS with a certificate and allow it only from the hosts that need it."
		r.Evidence = []string{"serves " + how}
		if cs := append(v.clients("http"), v.clients("http-alt")...); len(cs) > 0 {
			r.Evidence = append(r.Evidence, "used by "+listOf(cs))
		}
		out = append(out, r)
	}
	var old []string
	var ev []string
	for _, f := range v.facts(FactSNMPVersion) {
		if f.Value == "v1" || f.Value == "v2c" {
			if !slices.Contains(old, f.Value) {
				old = append(old, f.Value)
			}
			ev = append(ev, fmt.Sprintf("SNMP %s seen (%s, last %s)", f.Value, f.Source, f.Last.UTC().Format(time.DateTime)))
		}
	}
	if len(old) > 0 {
		r := newRec(v.d, KindInsecureProtocol, "snmp", alert.Medium, SourceObserved)
		slices.Sort(old)
		r.Title = fmt.Sprintf("Replace SNMP %s on %s with SNMPv3", strings.Join(old, " and "), v.label())
		r.Text = "SNMP v1 and v2c authenticate with a community string sent in clear, and a write community lets anyone who read it change the device's configuration. Configure SNMPv3 with authentication and privacy (authPriv), disable v1 and v2c, and change the community strings that were exposed."
		r.Evidence = ev
		if how, ok := v.serves("snmp"); ok {
			r.Evidence = append([]string{"serves " + how}, r.Evidence...)
		}
		out = append(out, r)
	}
	return out
}

// cleartextCredentials flags passwords sent to d in clear, by protocol.
func (v *view) cleartextCredentials() []Recommendation {
	ev := map[string][]string{}
	var protos []string
	add := func(p, e string) {
		if !slices.Contains(protos, p) {
			protos = append(protos, p)
		}
		ev[p] = append(ev[p], e)
	}
	for _, a := range v.to {
		if a.Type == alertCleartext && a.Protocol != "snmp" {
			add(cmpOr(a.Protocol, "unknown"), alertEvidence(a))
		}
	}
	for _, f := range v.facts(FactCleartextCredentials) {
		if f.Value == "snmp" {
			continue
		}
		add(f.Value, fmt.Sprintf("a password was sent in clear over %s (%s, %s to %s)", f.Value, f.Source,
			f.First.UTC().Format(time.DateTime), f.Last.UTC().Format(time.DateTime)))
	}
	slices.Sort(protos)
	var out []Recommendation
	for _, p := range protos {
		r := newRec(v.d, KindCleartextCredentials, p, alert.High, SourceObserved)
		r.Title = fmt.Sprintf("Change the passwords sent in clear to %s over %s", v.label(), p)
		r.Text = fmt.Sprintf("Passwords for %s crossed the network unencrypted over %s: anyone on the path could read and reuse them. Change the passwords of the accounts used, then replace %s with an encrypted protocol (SSH, SFTP, HTTPS) or disable it on the device.", v.label(), p, p)
		r.Evidence = ev[p]
		out = append(out, r)
	}
	return out
}

// remoteServices are the remote-access protocols an OT device should not
// serve to anyone but a jump host, with the severity of serving them.
var remoteServices = []struct {
	protocol string
	severity alert.Severity
}{{"vnc", alert.Medium}, {"rdp", alert.Medium}, {"ssh", alert.Low}}

// remoteAccess flags remote sessions into an OT device.
func (v *view) remoteAccess() []Recommendation {
	if !isOT(v.d) {
		return nil
	}
	ev := map[string][]string{}
	sev := map[string]alert.Severity{}
	var protos []string
	add := func(p string, s alert.Severity, e string) {
		if !slices.Contains(protos, p) {
			protos = append(protos, p)
		}
		ev[p] = append(ev[p], e)
		sev[p] = max(sev[p], s)
	}
	for _, rs := range remoteServices {
		how, ok := v.serves(rs.protocol)
		cs := v.clients(rs.protocol)
		if ok && len(cs) > 0 {
			add(rs.protocol, rs.severity, "serves "+how+" to "+listOf(cs))
		}
	}
	for _, a := range v.to {
		if a.Type == alertRemoteAccess {
			add(cmpOr(a.Protocol, "unknown"), a.Severity, alertEvidence(a))
		}
	}
	slices.Sort(protos)
	var out []Recommendation
	for _, p := range protos {
		r := newRec(v.d, KindRemoteAccess, p, sev[p], SourceObserved)
		r.Title = fmt.Sprintf("Control %s remote access to %s", strings.ToUpper(p), v.label())
		r.Text = fmt.Sprintf("Remote sessions into %s over %s let whoever holds the credentials operate it interactively. Route remote access through the plant's jump host with multi-factor authentication, allow %s to the device only from it, and disable the service where nobody needs it.", v.label(), strings.ToUpper(p), strings.ToUpper(p))
		r.Evidence = ev[p]
		out = append(out, r)
	}
	return out
}

// internet flags an OT device that exchanged traffic with a public
// address: reachable from the internet (Critical) when the public host
// opened the connection, else reaching out to it (High).
func (v *view) internet() []Recommendation {
	if !isOT(v.d) {
		return nil
	}
	var inbound, outbound []string
	for _, c := range v.in {
		if pd := v.peer(c); pd != nil && publicOnly(pd) {
			inbound = append(inbound, fmt.Sprintf("%s connected to its %s/%s %d (%s to %s)", Ref(pd), c.Protocol, c.Transport, c.Port, stamp(c.First), stamp(c.Last)))
		}
	}
	for _, c := range v.out {
		if pd := v.peer(c); pd != nil && publicOnly(pd) {
			outbound = append(outbound, fmt.Sprintf("connected to %s over %s/%s %d (%s to %s)", Ref(pd), c.Protocol, c.Transport, c.Port, stamp(c.First), stamp(c.Last)))
		}
	}
	for _, a := range append(slices.Clone(v.to), v.from...) {
		if a.Type != alertInternet {
			continue
		}
		if involves(a.Destination, v.d) && a.Source.IP.IsValid() && isPublic(a.Source.IP) {
			inbound = append(inbound, alertEvidence(a))
		} else {
			outbound = append(outbound, alertEvidence(a))
		}
	}
	var out []Recommendation
	if len(inbound) > 0 {
		r := newRec(v.d, KindInternet, "inbound", alert.Critical, SourceObserved)
		r.Title = v.label() + " is reachable from the internet"
		r.Text = "Hosts on the internet opened connections to this OT device. Block inbound traffic to it at the perimeter firewall, find the rule or port forwarding that let it through, and reach the device remotely only through a VPN and the plant's jump host."
		r.Evidence = inbound
		out = append(out, r)
	}
	if len(outbound) > 0 {
		r := newRec(v.d, KindInternet, "outbound", alert.High, SourceObserved)
		r.Title = "Stop " + v.label() + " from reaching the internet"
		r.Text = "This OT device exchanged traffic with public internet addresses. OT devices should not reach the internet: find the application that made the connections, block the traffic at the perimeter firewall, and route updates and remote support through a DMZ."
		r.Evidence = outbound
		out = append(out, r)
	}
	return out
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "unknown time"
	}
	return t.UTC().Format(time.DateTime)
}

// modelKey identifies the vendor and model of a device for comparing
// firmware: the vendor's first word and the model (else the product
// name), lower case without spaces; "" when either is unknown.
func modelKey(d *inventory.Device) string {
	vendor := strings.FieldsFunc(strings.ToLower(d.Vendor), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	model := strings.Join(strings.Fields(strings.ToLower(cmpOr(d.Model, d.Product))), "")
	if len(vendor) == 0 || model == "" {
		return ""
	}
	return vendor[0] + "\x00" + model
}

// outdatedFirmware flags a device running older firmware than another
// device of the same vendor and model.
func (v *view) outdatedFirmware() []Recommendation {
	key := modelKey(v.d)
	if key == "" || !readableVersion(v.d.Firmware) {
		return nil
	}
	nf := v.newer
	if nf == nil {
		if v.snap == nil {
			return nil
		}
		var same []*inventory.Device
		for i := range v.snap.Devices {
			if s := &v.snap.Devices[i]; s.ID != v.d.ID && modelKey(s) == key {
				same = append(same, s)
			}
		}
		nf = newestFirmware(same, v.d.Firmware)
	}
	newest, on := nf.newest, nf.on
	if newest == "" {
		return nil
	}
	model := cmpOr(v.d.Model, v.d.Product)
	r := newRec(v.d, KindOutdatedFirmware, newest, alert.Medium, SourceObserved)
	r.Title = fmt.Sprintf("Update %s from firmware %s to %s, as on its peers", v.label(), v.d.Firmware, newest)
	r.Text = fmt.Sprintf("Other %s %s devices of the plant run firmware %s; this one runs %s. Older firmware lacks the vendor's later security fixes: check the release notes and update it in the next maintenance window, or record why it must stay.", v.d.Vendor, model, newest, v.d.Firmware)
	r.Evidence = []string{fmt.Sprintf("firmware %s reported by %s", v.d.Firmware, factSource(v.d, dissect.FactFirmware)),
		fmt.Sprintf("%s %s runs %s", listOf(on), model, newest)}
	return []Recommendation{r}
}

// newerFirmware is the newest firmware of a model newer than a device's,
// and the devices that run it.
type newerFirmware struct {
	newest string   // "" when no device of the model runs newer firmware
	on     []string // labels of the devices running newest, in order
}

// newestFirmware returns the newest firmware newer than fw among devices
// of one model, in their order.
func newestFirmware(same []*inventory.Device, fw string) *newerFirmware {
	nf := &newerFirmware{}
	for _, s := range same {
		c, ok := compareFirmware(s.Firmware, fw)
		if !ok || c <= 0 {
			continue
		}
		switch n, _ := compareFirmware(s.Firmware, nf.newest); {
		case nf.newest == "" || n > 0:
			nf.newest, nf.on = s.Firmware, []string{Ref(s).String()}
		case n == 0:
			nf.on = append(nf.on, Ref(s).String())
		}
	}
	return nf
}

func factSource(d *inventory.Device, key string) string {
	for _, f := range d.Facts {
		if f.Key == key && f.Best {
			return f.Source
		}
	}
	return "the device"
}

// modeSeen is one observation of a controller's mode.
type modeSeen struct {
	mode, evidence string
	at             time.Time
}

// plcMode flags a controller whose last seen mode is not RUN, or whose
// mode was changed remotely without the final mode seen.
func (v *view) plcMode() []Recommendation {
	var seen []modeSeen
	for _, f := range v.facts(FactPLCMode) {
		seen = append(seen, modeSeen{f.Value, fmt.Sprintf("mode %s seen (%s, last %s)", strings.ToUpper(f.Value), f.Source, stamp(f.Last)), f.Last})
	}
	var changes []string
	for _, a := range v.to {
		switch a.Type {
		case alertS7Stop:
			seen = append(seen, modeSeen{"stop", alertEvidence(a), a.LastDetection})
		case alertS7Start:
			seen = append(seen, modeSeen{"run", alertEvidence(a), a.LastDetection})
		case alertCIPMode:
			changes = append(changes, alertEvidence(a))
		}
	}
	if len(seen) == 0 && len(changes) == 0 || !isField(v.d) && len(seen) == 0 {
		return nil
	}
	if len(seen) == 0 {
		r := newRec(v.d, KindPLCMode, "mode", alert.Low, SourceObserved)
		r.Title = "Confirm the operating mode of " + v.label() + " after a remote mode change"
		r.Text = "The controller's mode was changed over the network and the sensor did not see the mode it ended in. Check at the controller that it is in RUN, with the key switch (or protection level) set so that it cannot be switched or reprogrammed remotely."
		r.Evidence = changes
		return []Recommendation{r}
	}
	last := seen[0]
	for _, s := range seen[1:] {
		if s.at.After(last.at) {
			last = s
		}
	}
	switch last.mode {
	case "stop", "program", "monitor", "debug":
	default:
		return nil
	}
	r := newRec(v.d, KindPLCMode, "mode", alert.Medium, SourceObserved)
	if last.mode == "stop" {
		r.Title = v.label() + " was left in STOP"
		r.Text = "The last mode the sensor saw for the controller is STOP: it does not run its program. If the work is done, return it to RUN; then set the key switch or the CPU's protection level so that it cannot be stopped or reprogrammed over the network."
	} else {
		r.Title = fmt.Sprintf("%s was left in %s mode", v.label(), strings.ToUpper(last.mode))
		r.Text = fmt.Sprintf("The last mode the sensor saw for the controller is %s, in which its program can be changed over the network. When the work is done, return it to RUN and set the key switch or protection so that it cannot be reprogrammed remotely.", strings.ToUpper(last.mode))
	}
	r.Evidence = []string{last.evidence}
	r.Evidence = append(r.Evidence, changes...)
	return []Recommendation{r}
}

// plcProgramming flags a controller that accepted program operations over
// the network: Medium when a host other than an engineering workstation
// sent them.
func (v *view) plcProgramming() []Recommendation {
	if !isField(v.d) {
		return nil
	}
	sev := alert.Low
	var ev, protos []string
	for _, c := range v.in {
		if c.ClassMask&(1<<dissect.ClassProgram) == 0 {
			continue
		}
		pd := v.peer(c)
		who := "an unknown host"
		if pd != nil {
			who = Ref(pd).String()
			if pd.Type != inventory.TypeEngineering {
				sev = alert.Medium
			}
		}
		ev = append(ev, fmt.Sprintf("%s sent program operations over %s (%s to %s)", who, c.Protocol, stamp(c.First), stamp(c.Last)))
		if !slices.Contains(protos, c.Protocol) {
			protos = append(protos, c.Protocol)
		}
	}
	for _, a := range v.to {
		switch a.Type {
		case alertS7Download:
			ev = append(ev, alertEvidence(a))
		case alertProgramming, alertOB1Write: // from a host that never programmed it
			ev = append(ev, alertEvidence(a))
			sev = max(sev, alert.Medium)
		}
	}
	if len(ev) == 0 {
		return nil
	}
	r := newRec(v.d, KindPLCProgramming, "program", sev, SourceObserved)
	r.Title = v.label() + " accepts programming over the network"
	r.Text = "The controller answered program uploads or downloads from the network. Keep its key switch in RUN (not REM or PROG) or set its protection level or access protection with a password, and allow its engineering protocol only from the engineering workstation."
	r.Evidence = ev
	return []Recommendation{r}
}

// itotCrossing flags IT hosts that reached the industrial services of an
// OT device.
func (v *view) itotCrossing() []Recommendation {
	if !isOT(v.d) {
		return nil
	}
	var ev []string
	for _, c := range v.in {
		pd := v.peer(c)
		if pd == nil || !industrial(c.Protocol) || !isIT(pd) || publicOnly(pd) {
			continue
		}
		ev = append(ev, fmt.Sprintf("IT host %s (%s) connected to %s/%s %d (%s to %s)", Ref(pd), pd.Type, c.Protocol, c.Transport, c.Port, stamp(c.First), stamp(c.Last)))
	}
	for _, a := range v.to {
		if a.Type == alertITOT {
			ev = append(ev, alertEvidence(a))
		}
	}
	if len(ev) == 0 {
		return nil
	}
	r := newRec(v.d, KindITOTCrossing, "industrial", alert.High, SourceObserved)
	r.Title = "Block IT hosts from the industrial services of " + v.label()
	r.Text = "Hosts of the IT network reached this device's industrial protocols directly. Enforce the IT/OT boundary: allow industrial protocols only between OT zones at the firewall, give IT systems the data they need through a DMZ (historian replica, OPC UA gateway), and check the IT hosts for remote access tools or malware."
	r.Evidence = ev
	return []Recommendation{r}
}

// publicPeers returns the labels of the public internet hosts d exchanged
// traffic with.
func (v *view) publicPeers() []string {
	var out []string
	for _, c := range append(slices.Clone(v.in), v.out...) {
		if pd := v.peer(c); pd != nil && publicOnly(pd) {
			if l := Ref(pd).String(); !slices.Contains(out, l) {
				out = append(out, l)
			}
		}
	}
	for _, a := range append(slices.Clone(v.to), v.from...) {
		if a.Type != alertInternet && !strings.HasPrefix(a.Type, "malware.ioc_") {
			continue
		}
		for _, p := range []alert.Party{a.Source, a.Destination} {
			if p.IP.IsValid() && isPublic(p.IP) && !slices.Contains(out, p.String()) {
				out = append(out, p.String())
			}
		}
	}
	return out
}
