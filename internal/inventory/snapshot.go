package inventory

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
)

// Fact is one value a source gave for one key, with its provenance.
type Fact struct {
	Key    string    `json:"key"`
	Value  string    `json:"value"`
	Source string    `json:"source"` // "oui", "enip.list_identity", "s7comm.szl", "dhcp", ...
	Rank   int       `json:"rank"`   // source reliability, higher wins
	First  time.Time `json:"first_seen"`
	Last   time.Time `json:"last_seen"`
	Best   bool      `json:"best"` // this value wins for its key
}

// Service is a protocol a device serves or uses.
type Service struct {
	Protocol  string   `json:"protocol"`
	Transport string   `json:"transport,omitempty"`
	Port      uint16   `json:"port,omitempty"`
	Classes   []string `json:"classes,omitempty"` // operation classes seen
}

// String returns "modbus/tcp 502".
func (s Service) String() string {
	if s.Transport == "" {
		return s.Protocol
	}
	return fmt.Sprintf("%s/%s %d", s.Protocol, s.Transport, s.Port)
}

// Device is one device as the inventory knows it at snapshot time.
type Device struct {
	ID  DeviceID `json:"id"`
	MAC string   `json:"mac,omitempty"`
	IPs []string `json:"ips,omitempty"`
	// Address is the address of a device the sensor sees only through a
	// router, on a network of its own protocol: "bacnet:<network>:<mac>"
	// for a device behind a BACnet router (network number and MAC address
	// on that network as the router's NPDU gives them, SNET and SADR).
	Address string `json:"address,omitempty"`
	// RoutedBy is the router that forwards the messages of a device known
	// by Address, 0 when not yet known.
	RoutedBy DeviceID `json:"routed_by,omitempty"`
	Name     string   `json:"name,omitempty"`  // override, else best host name
	Names    []string `json:"names,omitempty"` // every host name seen
	Vendor   string   `json:"vendor,omitempty"`
	Product  string   `json:"product,omitempty"`
	Model    string   `json:"model,omitempty"`
	Firmware string   `json:"firmware,omitempty"`
	Serial   string   `json:"serial,omitempty"`
	OS       string   `json:"os,omitempty"`
	Type     Type     `json:"type"`
	// Purdue is the Purdue model level, 0 to 5, or -1 when unknown.
	Purdue     int       `json:"purdue_level"`
	Evidence   []string  `json:"evidence,omitempty"`
	Authorized bool      `json:"authorized"`
	Overridden bool      `json:"overridden,omitempty"`
	Forwards   bool      `json:"forwards,omitempty"` // routes traffic for other hosts
	Serves     []Service `json:"serves,omitempty"`
	Uses       []Service `json:"uses,omitempty"`
	Facts      []Fact    `json:"facts,omitempty"`
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
	Inactive   bool      `json:"inactive,omitempty"`
	PacketsTx  uint64    `json:"packets_sent"`
	PacketsRx  uint64    `json:"packets_received"`
	BytesTx    uint64    `json:"bytes_sent"`
	BytesRx    uint64    `json:"bytes_received"`

	subnets []netip.Prefix
	ov      Override
}

// Key returns the identity of a device that outlives one inventory, where
// its DeviceID is only its position: its MAC address, else its routed
// address, else its first IP address ("device:<id>" for a device known by
// none, which a snapshot does not hold).
func (d *Device) Key() string {
	switch {
	case d.MAC != "":
		return d.MAC
	case d.Address != "":
		return d.Address
	case len(d.IPs) > 0:
		return d.IPs[0]
	}
	return fmt.Sprintf("device:%d", d.ID)
}

// Connection is the traffic from one device to another's server port, or,
// with Relation set, a link that is not traffic of its own.
type Connection struct {
	Client DeviceID `json:"client"`
	Server DeviceID `json:"server"`
	// Relation is RelationRoutedBy for the link from a device known by
	// Address (Client) to the router that forwards its messages (Server);
	// "" for traffic.
	Relation  string    `json:"relation,omitempty"`
	Protocol  string    `json:"protocol"`
	Transport string    `json:"transport"`
	Port      uint16    `json:"port,omitempty"`
	First     time.Time `json:"first_seen"`
	Last      time.Time `json:"last_seen"`
	PacketsTo uint64    `json:"packets_to_server"`
	PacketsFr uint64    `json:"packets_to_client"`
	BytesTo   uint64    `json:"bytes_to_server"`
	BytesFr   uint64    `json:"bytes_to_client"`
	// ClassMask has bit c set for every dissect.Class c seen.
	ClassMask uint16   `json:"class_mask"`
	Classes   []string `json:"classes,omitempty"`
	// Requests counts the client's request bursts; Interval is their mean
	// spacing in seconds and Regular says whether it is steady (polling).
	Requests      uint32  `json:"requests"`
	Interval      float64 `json:"interval_s,omitempty"`
	Regular       bool    `json:"regular,omitempty"`
	CrossesSubnet bool    `json:"crosses_subnet"`
	CrossesPurdue bool    `json:"crosses_purdue"`
}

// RelationRoutedBy is the Relation of a device's link to its router.
const RelationRoutedBy = "routed_by"

// Snapshot is the inventory at one moment.
type Snapshot struct {
	Time        time.Time    `json:"time"`
	Devices     []Device     `json:"devices"`
	Connections []Connection `json:"connections"`
}

// Device returns the device with id, or nil.
func (s *Snapshot) Device(id DeviceID) *Device {
	i := sort.Search(len(s.Devices), func(i int) bool { return s.Devices[i].ID >= id })
	if i < len(s.Devices) && s.Devices[i].ID == id {
		return &s.Devices[i]
	}
	return nil
}

// Override is what a person set on a device; it survives rediscovery
// because it is kept by the device's MAC (or IP for a device known by IP).
type Override struct {
	Type       Type   `json:"type,omitempty"`
	Name       string `json:"name,omitempty"`
	Purdue     *int   `json:"purdue_level,omitempty"`
	Authorized *bool  `json:"authorized,omitempty"`
}

// SetOverride sets the override of the device with the given MAC, IP or
// routed address ("00:1b:1b:6e:42:a9", "10.10.2.11", "bacnet:3:10"),
// whether or not it has been seen yet.
func (inv *Inventory) SetOverride(addr string, o Override) error {
	k, err := overrideKey(addr)
	if err != nil {
		return err
	}
	if o.Purdue != nil && (*o.Purdue < 0 || *o.Purdue > 5) {
		return fmt.Errorf("inventory: Purdue level %d outside 0-5", *o.Purdue)
	}
	if o.Type != "" && !slices.Contains(Types, o.Type) {
		return fmt.Errorf("inventory: unknown device type %q", o.Type)
	}
	inv.overrides[k] = o
	return nil
}

func overrideKey(addr string) (string, error) {
	if m, err := net.ParseMAC(addr); err == nil && len(m) == 6 {
		return m.String(), nil
	}
	if a, err := netip.ParseAddr(addr); err == nil {
		return a.String(), nil
	}
	if rest, ok := strings.CutPrefix(addr, "bacnet:"); ok {
		if n, mac, ok := strings.Cut(rest, ":"); ok && n != "" && mac != "" && strings.Trim(n, "0123456789") == "" {
			return strings.ToLower(addr), nil
		}
	}
	return "", fmt.Errorf("inventory: %q is neither a MAC nor an IP address", addr)
}

// svcKey names a service of a device that some connection exchanged data
// over.
type svcKey struct {
	port      uint16
	transport uint8
	serves    bool
	dev       *device
}

func macString(m [6]byte) string { return net.HardwareAddr(m[:]).String() }

func ts(t int64) time.Time {
	if t == 0 {
		return time.Time{}
	}
	return time.Unix(0, t).UTC()
}

func classNames(mask uint16) []string {
	var out []string
	for c := dissect.Class(0); c < 16; c++ {
		if mask&(1<<c) != 0 {
			out = append(out, c.String())
		}
	}
	return out
}

// subnet returns the prefix taken as a's subnet.
func (inv *Inventory) subnet(a netip.Addr) netip.Prefix {
	bits := inv.opts.SubnetBits6
	if a.Is4() {
		bits = inv.opts.SubnetBits4
	}
	p, _ := a.Prefix(bits)
	return p
}

// Snapshot returns every device and connection bound so far, classified.
func (inv *Inventory) Snapshot() *Snapshot {
	s := &Snapshot{Time: ts(inv.now)}
	inv.used = map[svcKey]bool{}
	for i := range inv.edges {
		e := &inv.edges[i]
		if e.exchanged() {
			if d := inv.devOf(e.server); d != 0 {
				inv.used[svcKey{e.port, e.transport, true, &inv.devs[d-1]}] = true
			}
			if d := inv.devOf(e.client); d != 0 {
				inv.used[svcKey{e.port, e.transport, false, &inv.devs[d-1]}] = true
			}
		}
	}
	defer func() { inv.used = nil }()
	for i := range inv.devs {
		d := &inv.devs[i]
		if d.removed || d.empty() {
			continue
		}
		s.Devices = append(s.Devices, inv.deviceView(DeviceID(i+1), d))
	}
	for i := range inv.routed {
		rr := &inv.routed[i]
		r := inv.devOf(rr.router)
		if r == 0 || inv.devs[r-1].removed || inv.devs[rr.dev-1].removed {
			continue
		}
		s.Connections = append(s.Connections, Connection{Client: rr.dev, Server: r, Relation: RelationRoutedBy,
			Protocol: "bacnet", First: ts(rr.first), Last: ts(rr.last)})
	}
	type ck struct {
		c, s  DeviceID
		proto string
		port  uint16
		tr    uint8
	}
	conns := map[ck]int{}
	for i := range inv.edges {
		e := &inv.edges[i]
		c, sv := inv.devOf(e.client), inv.devOf(e.server)
		if c == 0 || sv == 0 || c == sv || inv.devs[c-1].removed || inv.devs[sv-1].removed {
			continue
		}
		k := ck{c, sv, inv.edgeProto(e), e.port, e.transport}
		j, ok := conns[k]
		if !ok {
			j = len(s.Connections)
			conns[k] = j
			s.Connections = append(s.Connections, Connection{Client: c, Server: sv, Protocol: k.proto, Transport: trName(e.transport), Port: e.port, First: ts(e.first)})
		}
		cn := &s.Connections[j]
		if f := ts(e.first); f.Before(cn.First) {
			cn.First = f
		}
		if l := ts(e.last); l.After(cn.Last) {
			cn.Last = l
		}
		cn.PacketsTo += uint64(e.pkts[0])
		cn.PacketsFr += uint64(e.pkts[1])
		cn.BytesTo += e.bytes[0]
		cn.BytesFr += e.bytes[1]
		cn.ClassMask |= e.classes
		if e.reqs >= cn.Requests {
			cn.Requests = e.reqs
			cn.Interval = float64(e.gapMean)
			cn.Regular = e.regular()
		}
	}
	for i := range s.Connections {
		s.Connections[i].Classes = classNames(s.Connections[i].ClassMask)
	}
	sort.Slice(s.Connections, func(i, j int) bool {
		a, b := &s.Connections[i], &s.Connections[j]
		if a.Client != b.Client {
			return a.Client < b.Client
		}
		if a.Server != b.Server {
			return a.Server < b.Server
		}
		if a.Port != b.Port {
			return a.Port < b.Port
		}
		if a.Relation != b.Relation {
			return a.Relation < b.Relation
		}
		return a.Protocol < b.Protocol
	})
	classify(s)
	for i := range s.Connections {
		c := &s.Connections[i]
		if c.Relation != "" {
			continue // not traffic: crosses no boundary of its own
		}
		a, b := s.Device(c.Client), s.Device(c.Server)
		c.CrossesSubnet = len(a.subnets) > 0 && len(b.subnets) > 0 && !slices.ContainsFunc(a.subnets, func(p netip.Prefix) bool { return slices.Contains(b.subnets, p) })
		c.CrossesPurdue = a.Purdue >= 0 && b.Purdue >= 0 && a.Purdue != b.Purdue
	}
	return s
}

// regular reports whether a client polls steadily: eight request bursts
// or more over at least half a minute, spaced within 20% of their mean.
func (e *edge) regular() bool {
	return e.gaps >= 8 && float32(e.gaps)*e.gapMean >= 30 && e.gapDev < 0.2*e.gapMean
}

// deviceView builds the public view of one device (classification aside).
func (inv *Inventory) deviceView(id DeviceID, d *device) Device {
	v := Device{ID: id, Purdue: -1, Type: TypeUnknown, Inactive: d.inactive}
	var facts []fact
	var svcs []svc
	first, last := int64(0), int64(0)
	see := func(f, l int64) {
		if f != 0 && (first == 0 || f < first) {
			first = f
		}
		last = max(last, l)
	}
	if d.mac != 0 {
		m := &inv.macs[d.mac-1]
		v.MAC = macString(m.mac)
		v.Forwards = m.forwarder
		facts = append(facts, m.facts...)
		svcs = append(svcs, m.svcs...)
		see(m.first, m.last)
		v.PacketsTx += uint64(m.pkts[0])
		v.PacketsRx += uint64(m.pkts[1])
		v.BytesTx += m.bytes[0]
		v.BytesRx += m.bytes[1]
	}
	if d.routed != 0 {
		rr := &inv.routed[d.routed-1]
		v.Address = inv.routedAddress(d.routed)
		v.RoutedBy = inv.devOf(rr.router)
		facts = append(facts, rr.facts...)
		see(rr.first, rr.last)
	}
	addrs := slices.Clone(d.addrs)
	slices.SortFunc(addrs, func(a, b uint32) int { return inv.addrs[a-1].ip.Compare(inv.addrs[b-1].ip) })
	for _, a := range addrs {
		ar := &inv.addrs[a-1]
		v.IPs = append(v.IPs, ar.ip.String())
		if p := inv.subnet(ar.ip); !slices.Contains(v.subnets, p) {
			v.subnets = append(v.subnets, p)
		}
		facts = append(facts, ar.facts...)
		svcs = append(svcs, ar.svcs...)
		see(ar.first, ar.last)
		v.PacketsTx += uint64(ar.pkts[0])
		v.PacketsRx += uint64(ar.pkts[1])
		v.BytesTx += ar.bytes[0]
		v.BytesRx += ar.bytes[1]
	}
	v.FirstSeen, v.LastSeen = ts(first), ts(last)
	best := inv.bestFacts(d)
	for _, f := range facts {
		k, val := inv.names.str(f.key), inv.names.str(f.value)
		v.Facts = append(v.Facts, Fact{Key: k, Value: val, Source: inv.names.str(f.source), Rank: int(f.rank), First: ts(f.first), Last: ts(f.last), Best: best[k] == val})
		if k == dissect.FactHostname && !slices.Contains(v.Names, val) {
			v.Names = append(v.Names, val)
		}
	}
	sort.SliceStable(v.Facts, func(i, j int) bool {
		a, b := &v.Facts[i], &v.Facts[j]
		if a.Key != b.Key {
			return a.Key < b.Key
		}
		if a.Rank != b.Rank {
			return a.Rank > b.Rank
		}
		return a.Last.After(b.Last)
	})
	v.Vendor, v.Product, v.Model = best[dissect.FactVendor], best[dissect.FactProduct], best[dissect.FactModel]
	v.Firmware, v.Serial, v.OS, v.Name = best[dissect.FactFirmware], best[dissect.FactSerial], best[dissect.FactOS], best[dissect.FactHostname]
	for _, s := range svcs {
		if !s.parsed && !inv.used[svcKey{s.port, s.transport, s.serves, d}] {
			continue // an open port nobody exchanged data with
		}
		sv := Service{Protocol: inv.names.str(s.proto), Transport: trName(s.transport), Port: s.port, Classes: classNames(s.classes)}
		if s.transport == 0 {
			sv.Transport = ""
		}
		if s.serves {
			v.Serves = append(v.Serves, sv)
		} else {
			v.Uses = append(v.Uses, sv)
		}
	}
	for _, l := range []*[]Service{&v.Serves, &v.Uses} {
		sort.Slice(*l, func(i, j int) bool { return (*l)[i].String() < (*l)[j].String() })
	}
	if o, ok := inv.override(&v); ok {
		v.Overridden = true
		v.ov = o
		if o.Name != "" {
			v.Name = o.Name
		}
		if o.Authorized != nil {
			v.Authorized = *o.Authorized
		}
	}
	return v
}

// override returns the override set for a device's MAC, one of its IPs or
// its routed address.
func (inv *Inventory) override(v *Device) (Override, bool) {
	if v.Address != "" {
		if o, ok := inv.overrides[v.Address]; ok {
			return o, true
		}
	}
	if v.MAC != "" {
		if o, ok := inv.overrides[v.MAC]; ok {
			return o, true
		}
	}
	for _, ip := range v.IPs {
		if o, ok := inv.overrides[ip]; ok {
			return o, true
		}
	}
	return Override{}, false
}

// Types lists the device types.
var Types = []Type{TypePLC, TypeRTU, TypeIED, TypeHMI, TypeEngineering, TypeHistorian, TypeSCADAServer,
	TypeOPCServer, TypeNetwork, TypeITWorkstation, TypeITServer, TypeIoT, TypeUnknown}

// joinNames lists up to three names and a count of the rest.
func joinNames(ns []string) string {
	if len(ns) > 3 {
		return strings.Join(ns[:3], ", ") + fmt.Sprintf(" and %d more", len(ns)-3)
	}
	return strings.Join(ns, ", ")
}
