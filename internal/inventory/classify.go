package inventory

import (
	"fmt"
	"slices"
	"strings"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/service"
)

// Type is a device's role in the plant.
type Type string

// Device types.
const (
	TypePLC           Type = "plc"
	TypeRTU           Type = "rtu"
	TypeIED           Type = "ied"
	TypeHMI           Type = "hmi"
	TypeEngineering   Type = "engineering_workstation"
	TypeHistorian     Type = "historian"
	TypeSCADAServer   Type = "scada_server"
	TypeOPCServer     Type = "opc_server"
	TypeNetwork       Type = "network_device"
	TypeITWorkstation Type = "it_workstation"
	TypeITServer      Type = "it_server"
	TypeIoT           Type = "iot"
	TypeUnknown       Type = "unknown"
)

// field reports whether t is a field controller (Purdue level 1).
func (t Type) field() bool { return t == TypePLC || t == TypeRTU || t == TypeIED }

// fixedLevel is the Purdue level a type implies, or -1 when the level
// follows the device's position.
func (t Type) fixedLevel() int {
	switch t {
	case TypePLC, TypeRTU, TypeIED:
		return 1
	case TypeHMI, TypeEngineering, TypeSCADAServer, TypeOPCServer:
		return 2
	case TypeHistorian:
		return 3
	case TypeITWorkstation, TypeITServer:
		return 4
	}
	return -1
}

// servedType is the type a server of protocol p is.
func servedType(p string) Type {
	switch p {
	case "dnp3", "iec104":
		return TypeRTU
	case "mms", "goose", "iec61850", "sv":
		return TypeIED
	case "opcua":
		return TypeOPCServer
	case "pi-server":
		return TypeHistorian
	case "fox", "fox-tls", "abb-800xa":
		return TypeSCADAServer
	case "mqtt", "mqtt-tls":
		return TypeITServer
	case "s7comm", "s7comm-plus", "cip", "iso-tsap":
		return TypePLC
	}
	if service.Industrial(p) {
		return TypePLC
	}
	return ""
}

// itServices are IT protocols whose server is an IT server.
var itServices = map[string]bool{
	"http": true, "https": true, "http-alt": true, "https-alt": true, "ssh": true, "smb": true, "rdp": true,
	"dns": true, "ldap": true, "ldaps": true, "kerberos": true, "mssql": true, "mysql": true, "postgresql": true,
	"oracle": true, "smtp": true, "imap": true, "pop3": true, "ftp": true, "ntp": true, "syslog": true,
	"winrm": true, "winrm-tls": true, "msrpc": true, "tftp": true, "telnet": true, "vnc": true,
}

// databases are services a historian serves its data with.
var databases = map[string]bool{"mssql": true, "mysql": true, "postgresql": true, "oracle": true, "pi-server": true}

// networkVendors make switches, routers and firewalls.
var networkVendors = []string{"cisco", "juniper", "hirschmann", "aruba", "fortinet", "palo alto", "westermo", "ruggedcom", "extreme networks", "netgear", "mikrotik", "ubiquiti"}

// typeOfFact maps a device-type or product fact to a type.
func typeOfFact(v string) Type {
	v = strings.ToLower(v)
	switch {
	case strings.Contains(v, "logic controller"), strings.Contains(v, "plc"), strings.Contains(v, "communications adapter"),
		strings.Contains(v, "logix"), strings.Contains(v, "simatic s7"), strings.Contains(v, "cpu 3"), strings.Contains(v, "cpu 1"):
		return TypePLC
	case strings.Contains(v, "human-machine"), strings.Contains(v, "human machine"), strings.Contains(v, "hmi"), strings.Contains(v, "operator"):
		return TypeHMI
	case strings.Contains(v, "remote terminal"), strings.Contains(v, "rtu"), strings.Contains(v, "outstation"):
		return TypeRTU
	case strings.Contains(v, "protection relay"), strings.Contains(v, "ied"), strings.Contains(v, "merging unit"):
		return TypeIED
	case strings.Contains(v, "switch"), strings.Contains(v, "router"), strings.Contains(v, "firewall"):
		return TypeNetwork
	}
	return ""
}

// plural returns "1 PLC" or "3 PLCs".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func typeLabel(t Type) string {
	switch t {
	case TypePLC, TypeRTU, TypeIED, TypeHMI:
		return strings.ToUpper(string(t))
	}
	return "field device"
}

// classify sets the type, evidence and Purdue level of every device in s.
func classify(s *Snapshot) {
	idx := func(id DeviceID) *Device { return s.Device(id) }
	// Pass 1: what a device is by its identity, forwarding and the
	// industrial services it answers on.
	for i := range s.Devices {
		d := &s.Devices[i]
		d.Type, d.Evidence = TypeUnknown, nil
		switch {
		case d.Forwards:
			d.Type = TypeNetwork
			d.Evidence = append(d.Evidence, "forwards traffic for other hosts (its MAC carries IP addresses other MACs own or many IPs)")
			continue
		case strings.HasPrefix(d.Address, "bacnet:"):
			// A BACnet device on a network behind a router (MS/TP,
			// ARCNET, another B/IP or Ethernet segment) that answers
			// with a Device object: a building-automation (DDC) field
			// controller, level 1 like a PLC.
			d.Type = TypePLC
			d.Evidence = append(d.Evidence, bacnetEvidence(s, d))
			continue
		}
		for _, f := range d.Facts {
			if f.Key != dissect.FactDeviceType && f.Key != dissect.FactProduct && f.Key != dissect.FactModel {
				continue
			}
			if t := typeOfFact(f.Value); t != "" {
				d.Type = t
				d.Evidence = append(d.Evidence, fmt.Sprintf("%s %q reported by %s", strings.ReplaceAll(f.Key, "_", " "), f.Value, f.Source))
				break
			}
		}
		if d.Type == TypeUnknown {
			for _, f := range d.Facts {
				if f.Source == "s7comm.szl" || strings.HasPrefix(f.Source, "s7comm") && f.Key == dissect.FactModel {
					d.Type = TypePLC
					ev := "S7 SZL CPU order number " + f.Value
					if d.Vendor != "" {
						ev = "vendor " + d.Vendor + " and " + ev
					}
					d.Evidence = append(d.Evidence, ev)
					break
				}
			}
		}
		for _, sv := range d.Serves {
			t := servedType(sv.Protocol)
			if t == "" {
				continue
			}
			d.Evidence = append(d.Evidence, "serves "+sv.Protocol+portText(sv))
			if d.Type == TypeUnknown {
				d.Type = t
			}
		}
	}
	// Pass 2: what a client does to the field devices.
	type clientStats struct {
		regular, occasional, program []string
		protos                       []string
		interval                     float64
		unanswered                   int
		probed                       map[DeviceID]bool
		ports                        map[uint16]bool
	}
	cs := map[DeviceID]*clientStats{}
	get := func(id DeviceID) *clientStats {
		if cs[id] == nil {
			cs[id] = &clientStats{probed: map[DeviceID]bool{}, ports: map[uint16]bool{}}
		}
		return cs[id]
	}
	for _, c := range s.Connections {
		if c.Relation != "" {
			continue
		}
		st := get(c.Client)
		if c.PacketsFr == 0 || c.Requests == 0 {
			st.unanswered++
			st.probed[c.Server] = true
			st.ports[c.Port] = true
			continue
		}
		srv := idx(c.Server)
		if !srv.Type.field() {
			continue
		}
		name := typeLabel(srv.Type)
		if !slices.Contains(st.protos, c.Protocol) {
			st.protos = append(st.protos, c.Protocol)
		}
		key := name + "\x00" + fmt.Sprint(c.Server)
		if c.ClassMask&(1<<dissect.ClassProgram|1<<dissect.ClassFirmware) != 0 && !slices.Contains(st.program, key) {
			st.program = append(st.program, key)
		}
		if c.Regular {
			if !slices.Contains(st.regular, key) {
				st.regular = append(st.regular, key)
				st.interval = max(st.interval, c.Interval)
			}
		} else if !slices.Contains(st.occasional, key) {
			st.occasional = append(st.occasional, key)
		}
	}
	for i := range s.Devices {
		d := &s.Devices[i]
		st := cs[d.ID]
		if st == nil || d.Type != TypeUnknown && d.Type != TypeITWorkstation {
			continue
		}
		protos := strings.Join(st.protos, "/")
		switch {
		case len(st.program) > 0:
			d.Type = TypeEngineering
			d.Evidence = append(d.Evidence, "sends program or firmware operations to "+targets(st.program))
		case len(st.regular) > 0:
			servesDB, servesOT := "", ""
			for _, sv := range d.Serves {
				if databases[sv.Protocol] {
					servesDB = sv.Protocol
				}
				if service.Industrial(sv.Protocol) || sv.Protocol == "opcua" {
					servesOT = sv.Protocol
				}
			}
			ev := fmt.Sprintf("polls %s over %s at a fixed interval (%.1f s)", targets(st.regular), protos, st.interval)
			switch {
			case servesDB != "":
				d.Type = TypeHistorian
				d.Evidence = append(d.Evidence, ev, "serves "+servesDB+" (a historian database)")
			case servesOT != "" || len(st.regular) >= 10:
				d.Type = TypeSCADAServer
				d.Evidence = append(d.Evidence, ev)
				if servesOT != "" {
					d.Evidence = append(d.Evidence, "serves "+servesOT+" to other systems")
				}
			default:
				d.Type = TypeHMI
				d.Evidence = append(d.Evidence, ev)
			}
		case len(st.occasional) > 0:
			d.Type = TypeEngineering
			d.Evidence = append(d.Evidence, fmt.Sprintf("opens occasional %s sessions to %s, without a fixed polling interval", protos, targets(st.occasional)))
		}
	}
	// Pass 3: IT hosts, IoT, network vendors, scanners.
	for i := range s.Devices {
		d := &s.Devices[i]
		if d.Type != TypeUnknown {
			continue
		}
		var itServed, used []string
		onlyMQTT := len(d.Uses) > 0
		for _, sv := range d.Serves {
			if itServices[sv.Protocol] && !slices.Contains(itServed, sv.Protocol) {
				itServed = append(itServed, sv.Protocol)
			}
		}
		for _, sv := range d.Uses {
			if !slices.Contains(used, sv.Protocol) {
				used = append(used, sv.Protocol)
			}
			if sv.Protocol != "mqtt" && sv.Protocol != "mqtt-tls" && sv.Protocol != "coap" && sv.Protocol != "dns" && sv.Protocol != "ntp" && sv.Protocol != "dhcp" {
				onlyMQTT = false
			}
		}
		vendor := strings.ToLower(d.Vendor)
		switch {
		case len(itServed) > 0:
			d.Type = TypeITServer
			d.Evidence = append(d.Evidence, "serves "+joinNames(itServed))
		case onlyMQTT && slices.ContainsFunc(used, func(p string) bool { return strings.HasPrefix(p, "mqtt") || p == "coap" }):
			d.Type = TypeIoT
			d.Evidence = append(d.Evidence, "talks only "+joinNames(used)+" (telemetry)")
		case d.OS != "" || len(used) > 0:
			d.Type = TypeITWorkstation
			if d.OS != "" {
				d.Evidence = append(d.Evidence, "runs "+d.OS)
			}
			if len(used) > 0 {
				d.Evidence = append(d.Evidence, "uses "+joinNames(used))
			}
		case vendor != "" && slices.ContainsFunc(networkVendors, func(n string) bool { return strings.Contains(vendor, n) }):
			d.Type = TypeNetwork
			d.Evidence = append(d.Evidence, "vendor "+d.Vendor+" makes network equipment (OUI)")
		}
		if st := cs[d.ID]; st != nil && len(st.probed) >= 5 && st.unanswered >= 10 {
			d.Evidence = append(d.Evidence, fmt.Sprintf("probes %d hosts on %d ports without exchanging data (scanning)", len(st.probed), len(st.ports)))
		}
	}
	// Overrides and Purdue levels: fixed by type, else the most common
	// level among the typed devices of the same subnet.
	bySubnet := map[string][6]int{}
	for i := range s.Devices {
		d := &s.Devices[i]
		if d.ov.Type != "" {
			d.Type = d.ov.Type
			d.Evidence = append([]string{"type set by a user"}, d.Evidence...)
		}
		if d.Type == TypeUnknown && len(d.Evidence) == 0 {
			d.Evidence = []string{"no identity or behaviour seen that tells its type"}
		}
		d.Purdue = d.Type.fixedLevel()
		if d.Purdue >= 0 {
			for _, p := range d.subnets {
				c := bySubnet[p.String()]
				c[d.Purdue]++
				bySubnet[p.String()] = c
			}
		}
	}
	for i := range s.Devices {
		d := &s.Devices[i]
		if d.Purdue < 0 {
			var c [6]int
			for _, p := range d.subnets {
				n := bySubnet[p.String()]
				for l := range c {
					c[l] += n[l]
				}
			}
			best := -1
			for l := range c {
				if c[l] > 0 && (best < 0 || c[l] > c[best]) {
					best = l
				}
			}
			d.Purdue = best
		}
		if d.ov.Purdue != nil {
			d.Purdue = *d.ov.Purdue
		}
	}
}

// bacnetEvidence says why a routed BACnet device is a field controller:
// "BACnet device 10 on network 3 (MAC 10) behind router 192.168.0.24".
func bacnetEvidence(s *Snapshot, d *Device) string {
	rest := strings.TrimPrefix(d.Address, "bacnet:")
	network, mac, _ := strings.Cut(rest, ":")
	ev := "BACnet device"
	for _, f := range d.Facts {
		if f.Key == dissect.FactAddress && f.Best {
			if n, ok := strings.CutPrefix(f.Value, "device:"); ok {
				ev += " " + n
			}
			break
		}
	}
	ev += " on network " + network + " (MAC " + mac + ")"
	if r := s.Device(d.RoutedBy); r != nil {
		ev += " behind router " + r.label()
	}
	return ev
}

// targets summarises the devices a client talks to: "3 PLCs", "1 RTU".
func targets(keys []string) string {
	count := map[string]int{}
	var order []string
	for _, k := range keys {
		name, _, _ := strings.Cut(k, "\x00")
		if count[name] == 0 {
			order = append(order, name)
		}
		count[name]++
	}
	var parts []string
	for _, n := range order {
		parts = append(parts, plural(count[n], n))
	}
	return strings.Join(parts, " and ")
}

func portText(sv Service) string {
	if sv.Port == 0 {
		return ""
	}
	return fmt.Sprintf(" on %d", sv.Port)
}
