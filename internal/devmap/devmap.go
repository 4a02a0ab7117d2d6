package devmap

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/netip"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/otwatch/otwatch/internal/dissect/service"
	"github.com/otwatch/otwatch/internal/inventory"
)

// Options control a layout. The zero value lays out every device, grouped
// by /24 (IPv4) and /64 (IPv6) subnet.
type Options struct {
	// Zone returns the zone a device is in, "" when none; nil puts every
	// device in no zone. Devices are grouped by zone and subnet.
	Zone func(d *inventory.Device) string
	// SubnetBits4 and SubnetBits6 are the prefix lengths of the subnets
	// devices are grouped by; 0 means 24 and 64.
	SubnetBits4, SubnetBits6 int
	// Filter selects what the map shows.
	Filter Filter
	// Highlight marks devices and connections for emphasis.
	Highlight Highlight
	// AllLevels draws a band for every Purdue level 0 to 5 even when it
	// holds no device, so maps of different sites line up.
	AllLevels bool
	// MaxLabel caps a device's label lines at this many characters; 0
	// means 24.
	MaxLabel int
	// Industrial reports whether a protocol is an industrial one; nil
	// uses the built-in list (the industrial dissectors and the registered
	// ports of industrial protocols).
	Industrial func(protocol string) bool
}

// Filter selects the devices and connections a map shows. An empty list
// does not filter; lists combine with AND, values within one list with OR.
// Highlighted devices and connections are shown whatever the filter.
type Filter struct {
	// Protocols keeps the connections of these protocols, and the
	// devices that have one.
	Protocols []string `json:"protocols,omitempty"`
	// Levels keeps devices of these Purdue levels; -1 is unknown.
	Levels []int `json:"levels,omitempty"`
	// Zones keeps devices of these zones; "" is no zone.
	Zones []string `json:"zones,omitempty"`
	// Types keeps devices of these types.
	Types []inventory.Type `json:"types,omitempty"`
}

// Highlight names what an alert's map view emphasises.
type Highlight struct {
	// Devices are emphasised and always shown.
	Devices []inventory.DeviceID `json:"devices,omitempty"`
	// Connections are emphasised, in either direction, and always shown
	// with their two devices.
	Connections []Link `json:"connections,omitempty"`
}

// Link is a pair of devices, client first.
type Link struct {
	Client inventory.DeviceID `json:"client"`
	Server inventory.DeviceID `json:"server"`
}

// Rect is an area of the map, in SVG user units.
type Rect struct {
	X int `json:"x"`
	Y int `json:"y"`
	W int `json:"w"`
	H int `json:"h"`
}

// Contains reports whether o lies inside r (edges included).
func (r Rect) Contains(o Rect) bool {
	return o.X >= r.X && o.Y >= r.Y && o.X+o.W <= r.X+r.W && o.Y+o.H <= r.Y+r.H
}

// Overlaps reports whether r and o share any area.
func (r Rect) Overlaps(o Rect) bool {
	return r.X < o.X+o.W && o.X < r.X+r.W && r.Y < o.Y+o.H && o.Y < r.Y+r.H
}

// IsZero reports whether r is the zero Rect.
func (r Rect) IsZero() bool { return r == Rect{} }

// Map is a laid-out device map.
type Map struct {
	Width  int `json:"width"`
	Height int `json:"height"`
	// Bands are the Purdue levels, top to bottom.
	Bands []Band `json:"bands"`
	// Groups are the zone/subnet boxes, band by band.
	Groups []Group `json:"groups"`
	// Devices are the devices shown, group by group.
	Devices []Node `json:"devices"`
	// Edges join devices, ordered by their pair of IDs; highlighted ones
	// come last.
	Edges []Edge `json:"edges"`
	// Focus is the region around the highlighted devices the page should
	// show first; zero when nothing is highlighted.
	Focus Rect `json:"focus,omitzero"`
	// Hidden counts what the filter left out.
	Hidden Hidden `json:"hidden"`
	// Highlighted reports whether anything is highlighted.
	Highlighted bool `json:"highlighted"`
}

// Hidden counts the devices and connections a filter left out.
type Hidden struct {
	Devices     int `json:"devices"`
	Connections int `json:"connections"`
}

// Band is one Purdue level's stripe across the map.
type Band struct {
	// Level is the Purdue level, -1 for unknown.
	Level int    `json:"level"`
	Label string `json:"label"`
	Rect
}

// Group is a box of devices sharing a zone and subnet within a band.
type Group struct {
	Level int    `json:"level"`
	Zone  string `json:"zone,omitempty"`
	// Subnet is the devices' subnet ("10.1.2.0/24"), their routed network
	// ("bacnet:3"), or "" for devices known by MAC address only.
	Subnet  string `json:"subnet,omitempty"`
	Label   string `json:"label"`
	Devices int    `json:"devices"`
	Rect
}

// Node is one device on the map.
type Node struct {
	ID inventory.DeviceID `json:"id"`
	// Label is the device's name or address, capped at Options.MaxLabel
	// characters; Sub, in a smaller font, its address and type (or type
	// and vendor), capped at a sixth more; Name is the label capped at 200
	// characters only, for a tooltip.
	Label     string         `json:"label"`
	Sub       string         `json:"sub"`
	Name      string         `json:"name"`
	Type      inventory.Type `json:"type"`
	Level     int            `json:"level"`
	Zone      string         `json:"zone,omitempty"`
	Subnet    string         `json:"subnet,omitempty"`
	Group     int            `json:"group"` // index in Map.Groups
	Highlight bool           `json:"highlight,omitempty"`
	Rect
}

// Center returns the centre of the node's box.
func (n *Node) Center() (x, y int) { return n.X + n.W/2, n.Y + n.H/2 }

// Edge kinds.
const (
	KindIndustrial = "industrial" // at least one industrial protocol
	KindIT         = "it"         // IT protocols only
	KindRelation   = "relation"   // not traffic: a routed device's link to its router
)

// Edge joins two devices: every connection between them, either way.
type Edge struct {
	// From and To are the client and server of the connections, or the
	// lower and higher ID when they go both ways.
	From inventory.DeviceID `json:"from"`
	To   inventory.DeviceID `json:"to"`
	// Both is set when connections go both ways.
	Both bool `json:"both,omitempty"`
	// Protocols are the distinct protocols, sorted.
	Protocols     []string `json:"protocols"`
	Kind          string   `json:"kind"`
	Connections   int      `json:"connections"`
	Packets       uint64   `json:"packets"`
	Bytes         uint64   `json:"bytes"`
	CrossesPurdue bool     `json:"crosses_purdue,omitempty"`
	Highlight     bool     `json:"highlight,omitempty"`
	// X1, Y1, X2, Y2 are the centres of From and To.
	X1 int `json:"x1"`
	Y1 int `json:"y1"`
	X2 int `json:"x2"`
	Y2 int `json:"y2"`
}

// JSON returns the map as JSON.
func (m *Map) JSON() ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("devmap: encoding map: %w", err)
	}
	return b, nil
}

// Geometry, in SVG user units.
const (
	nodeW, nodeH = 168, 40
	gapX, gapY   = 12, 12
	cellW, cellH = nodeW + gapX, nodeH + gapY
	groupPad     = 10 // inside a group box, left, right and bottom
	groupHead    = 24 // group label line, above its devices
	groupGap     = 16 // between group boxes
	bandHead     = 30 // band label line, above its groups
	bandPad      = 12 // inside a band, left, right and bottom
	bandGap      = 8  // between bands
	emptyBand    = 24 // content height of a band without devices
	minWidth     = 720
	focusMargin  = 80
	focusMinW    = 640
	focusMinH    = 360
)

// levelNames names the Purdue levels 0 to 5.
var levelNames = [...]string{
	"Level 0 · Physical process",
	"Level 1 · Basic control",
	"Level 2 · Supervisory control",
	"Level 3 · Site operations",
	"Level 4 · Business planning and logistics",
	"Level 5 · Enterprise",
}

// LevelLabel returns the band label of a Purdue level (-1: unknown).
func LevelLabel(level int) string {
	if level >= 0 && level < len(levelNames) {
		return levelNames[level]
	}
	return "Level unknown"
}

// levelOf returns a device's level, -1 when out of 0..5.
func levelOf(d *inventory.Device) int {
	if d.Purdue >= 0 && d.Purdue <= 5 {
		return d.Purdue
	}
	return -1
}

// bandIndex orders levels top to bottom: 5 first, unknown last.
func bandIndex(level int) int {
	if level < 0 {
		return 6
	}
	return 5 - level
}

// dissectorIndustrial names the dissectors of industrial protocols whose
// names are not registered service names.
var dissectorIndustrial = map[string]bool{
	"s7comm": true, "s7comm_plus": true, "cotp": true, "mms": true, "goose": true, "sv": true,
	"cip": true, "fins": true, "hartip": true, "profinet": true, "pn_io_cm": true, "synphasor": true,
	"bacnet_eth": true, "dnp3": true, "modbus": true, "enip": true, "iec104": true, "opcua": true, "bacnet": true,
}

// IsIndustrial reports whether the built-in list takes protocol as an
// industrial protocol.
func IsIndustrial(protocol string) bool {
	return dissectorIndustrial[protocol] || service.Industrial(protocol)
}

// dev is a device being laid out.
type dev struct {
	d     *inventory.Device
	level int
	zone  string
	gkey  groupKey
	ip    netip.Addr // first address, for ordering
	keep  bool
	hl    bool
	node  int // index in Map.Devices, -1 when not shown
}

// groupKey identifies a group within a band.
type groupKey struct {
	level  int
	zone   string
	kind   int // 0 subnet, 1 routed network, 2 none
	prefix netip.Prefix
	net    string // routed network, "bacnet:3"
}

func (k *groupKey) subnet() string {
	switch k.kind {
	case 0:
		return k.prefix.String()
	case 1:
		return k.net
	}
	return ""
}

func (k *groupKey) label(n int) string {
	var s string
	switch k.kind {
	case 0:
		s = k.prefix.String()
	case 1:
		proto, num, _ := strings.Cut(k.net, ":")
		s = proto + " network " + num
	default:
		s = "No IP address"
	}
	if k.zone != "" {
		s = k.zone + " · " + s
	}
	return s + " (" + itoa(n) + ")"
}

func compareGroupKeys(a, b *groupKey) int {
	if c := cmp.Compare(bandIndex(a.level), bandIndex(b.level)); c != 0 {
		return c
	}
	if a.zone != b.zone {
		// Named zones first, by name.
		if a.zone == "" || b.zone == "" {
			return cmp.Compare(b.zone, a.zone)
		}
		return strings.Compare(a.zone, b.zone)
	}
	if c := cmp.Compare(a.kind, b.kind); c != 0 {
		return c
	}
	if c := a.prefix.Addr().Compare(b.prefix.Addr()); c != 0 {
		return c
	}
	if c := cmp.Compare(a.prefix.Bits(), b.prefix.Bits()); c != 0 {
		return c
	}
	return strings.Compare(a.net, b.net)
}

// Layout lays out the devices and connections of snap. A nil snapshot
// gives an empty map. Devices with a duplicate ID after the first, and
// connections naming a device the snapshot lacks, are left out.
func Layout(snap *inventory.Snapshot, opts Options) *Map {
	if opts.SubnetBits4 <= 0 || opts.SubnetBits4 > 32 {
		opts.SubnetBits4 = 24
	}
	if opts.SubnetBits6 <= 0 || opts.SubnetBits6 > 128 {
		opts.SubnetBits6 = 64
	}
	if opts.MaxLabel <= 0 {
		opts.MaxLabel = 24
	}
	if opts.Industrial == nil {
		opts.Industrial = IsIndustrial
	}
	m := &Map{Bands: []Band{}, Groups: []Group{}, Devices: []Node{}, Edges: []Edge{}}
	var devices []inventory.Device
	var conns []inventory.Connection
	if snap != nil {
		devices, conns = snap.Devices, snap.Connections
	}

	// Devices, with the attributes the layout sorts and filters by.
	devs := make([]dev, 0, len(devices))
	byID := make(map[inventory.DeviceID]int, len(devices))
	for i := range devices {
		d := &devices[i]
		if _, dup := byID[d.ID]; dup {
			continue
		}
		byID[d.ID] = len(devs)
		v := dev{d: d, level: levelOf(d), node: -1}
		if opts.Zone != nil {
			v.zone = opts.Zone(d)
		}
		v.gkey = groupKey{level: v.level, zone: v.zone, kind: 2}
		for _, s := range d.IPs {
			if a, err := netip.ParseAddr(s); err == nil {
				a = a.Unmap()
				bits := opts.SubnetBits6
				if a.Is4() {
					bits = opts.SubnetBits4
				}
				p, _ := a.WithZone("").Prefix(bits)
				v.ip = a
				v.gkey.kind, v.gkey.prefix = 0, p
				break
			}
		}
		if v.gkey.kind == 2 && d.Address != "" {
			if i := strings.LastIndexByte(d.Address, ':'); i > 0 {
				v.gkey.kind, v.gkey.net = 1, d.Address[:i]
			}
		}
		devs = append(devs, v)
	}

	// Highlight: the listed devices and the ends of the listed connections.
	hlPair := map[[2]inventory.DeviceID]bool{}
	mark := func(id inventory.DeviceID) {
		if i, ok := byID[id]; ok {
			devs[i].hl = true
		}
	}
	for _, id := range opts.Highlight.Devices {
		mark(id)
	}
	for _, l := range opts.Highlight.Connections {
		mark(l.Client)
		mark(l.Server)
		hlPair[pairKey(l.Client, l.Server)] = true
	}

	// Filters.
	f := &opts.Filter
	for i := range devs {
		v := &devs[i]
		v.keep = v.hl || (len(f.Levels) == 0 || slices.Contains(f.Levels, v.level)) &&
			(len(f.Zones) == 0 || slices.Contains(f.Zones, v.zone)) &&
			(len(f.Types) == 0 || slices.Contains(f.Types, v.d.Type))
	}
	keepConn := make([]bool, len(conns))
	linked := make([]bool, len(devs))
	for i := range conns {
		c := &conns[i]
		a, okA := byID[c.Client]
		b, okB := byID[c.Server]
		if !okA || !okB || a == b {
			continue
		}
		hl := hlPair[pairKey(c.Client, c.Server)]
		if hl || devs[a].keep && devs[b].keep && (len(f.Protocols) == 0 || slices.Contains(f.Protocols, c.Protocol)) {
			keepConn[i] = true
			linked[a], linked[b] = true, true
		}
	}
	if len(f.Protocols) > 0 {
		for i := range devs {
			devs[i].keep = devs[i].keep && (linked[i] || devs[i].hl)
		}
	}

	// Groups: the kept devices sorted by band, zone, subnet and address.
	order := make([]int, 0, len(devs))
	for i := range devs {
		if devs[i].keep {
			order = append(order, i)
		} else {
			m.Hidden.Devices++
		}
	}
	slices.SortFunc(order, func(i, j int) int {
		a, b := &devs[i], &devs[j]
		if c := compareGroupKeys(&a.gkey, &b.gkey); c != 0 {
			return c
		}
		if c := a.ip.Compare(b.ip); c != 0 {
			return c
		}
		return cmp.Compare(a.d.ID, b.d.ID)
	})
	type span struct{ first, n, cols, rows, w, h int }
	var spans []span
	area := 0
	maxW := 0
	for k := 0; k < len(order); {
		e := k + 1
		for e < len(order) && compareGroupKeys(&devs[order[k]].gkey, &devs[order[e]].gkey) == 0 {
			e++
		}
		n := e - k
		cols := min(n, int(math.Ceil(math.Sqrt(float64(n)*0.6))))
		rows := (n + cols - 1) / cols
		s := span{first: k, n: n, cols: cols, rows: rows,
			w: 2*groupPad + cols*cellW - gapX, h: groupHead + rows*cellH - gapY + groupPad}
		spans = append(spans, s)
		area += (s.w + groupGap) * (s.h + groupGap)
		maxW = max(maxW, s.w)
		k = e
	}
	// Bands as wide as a 2:1 map of all groups would be.
	content := max(maxW, int(math.Sqrt(2*float64(area))), minWidth-2*bandPad)
	m.Width = content + 2*bandPad

	y := 0
	si := 0
	for bi := 0; bi <= 6; bi++ {
		level := 5 - bi
		if bi == 6 {
			level = -1
		}
		var mine []span
		for si < len(spans) && devs[order[spans[si].first]].level == level {
			mine = append(mine, spans[si])
			si++
		}
		if len(mine) == 0 && !(opts.AllLevels && level >= 0) {
			continue
		}
		if len(m.Bands) > 0 {
			y += bandGap
		}
		band := Band{Level: level, Label: LevelLabel(level), Rect: Rect{X: 0, Y: y, W: m.Width}}
		x, sy, shelfH := bandPad, y+bandHead, 0
		for _, s := range mine {
			if x > bandPad && x+s.w > bandPad+content {
				x, sy, shelfH = bandPad, sy+shelfH+groupGap, 0
			}
			gi := len(m.Groups)
			first := &devs[order[s.first]]
			g := Group{Level: level, Zone: first.zone, Subnet: first.gkey.subnet(), Label: first.gkey.label(s.n),
				Devices: s.n, Rect: Rect{X: x, Y: sy, W: s.w, H: s.h}}
			m.Groups = append(m.Groups, g)
			for j := 0; j < s.n; j++ {
				v := &devs[order[s.first+j]]
				v.node = len(m.Devices)
				m.Devices = append(m.Devices, node(v, gi, &g, x+groupPad+(j%s.cols)*cellW, sy+groupHead+(j/s.cols)*cellH, opts.MaxLabel))
			}
			x += s.w + groupGap
			shelfH = max(shelfH, s.h)
		}
		if len(mine) == 0 {
			shelfH = emptyBand
		}
		band.H = sy + shelfH + bandPad - y
		m.Bands = append(m.Bands, band)
		y += band.H
	}
	m.Height = y

	// Edges: one per pair of shown devices. A first pass makes the edges
	// and counts their connections, so that their protocol lists can share
	// one array.
	edgeOf := make(map[[2]inventory.DeviceID]int, len(conns)/2)
	connEdge := make([]int32, len(conns))
	for i := range conns {
		connEdge[i] = -1
		c := &conns[i]
		if !keepConn[i] {
			if _, ok := byID[c.Client]; ok {
				if _, ok := byID[c.Server]; ok && c.Client != c.Server {
					m.Hidden.Connections++
				}
			}
			continue
		}
		a, b := &devs[byID[c.Client]], &devs[byID[c.Server]]
		if a.node < 0 || b.node < 0 {
			m.Hidden.Connections++
			continue
		}
		k := pairKey(c.Client, c.Server)
		ei, ok := edgeOf[k]
		if !ok {
			ei = len(m.Edges)
			edgeOf[k] = ei
			na, nb := &m.Devices[a.node], &m.Devices[b.node]
			x1, y1 := na.Center()
			x2, y2 := nb.Center()
			m.Edges = append(m.Edges, Edge{From: c.Client, To: c.Server, Kind: KindRelation,
				CrossesPurdue: a.level >= 0 && b.level >= 0 && a.level != b.level,
				Highlight:     hlPair[k], X1: x1, Y1: y1, X2: x2, Y2: y2})
		}
		connEdge[i] = int32(ei)
		m.Edges[ei].Connections++
	}
	slab := make([]string, 0, len(conns)-m.Hidden.Connections)
	for i := range m.Edges {
		e := &m.Edges[i]
		e.Protocols = slab[len(slab) : len(slab) : len(slab)+e.Connections]
		slab = slab[:len(slab)+e.Connections]
	}
	for i := range conns {
		if connEdge[i] < 0 {
			continue
		}
		c := &conns[i]
		e := &m.Edges[connEdge[i]]
		if e.From != c.Client {
			e.Both = true
		}
		e.Packets += c.PacketsTo + c.PacketsFr
		e.Bytes += c.BytesTo + c.BytesFr
		p := c.Protocol
		if p == "" {
			p = "unknown"
		}
		if !slices.Contains(e.Protocols, p) {
			e.Protocols = append(e.Protocols, p)
		}
		switch {
		case c.Relation != "":
		case opts.Industrial(c.Protocol):
			e.Kind = KindIndustrial
		case e.Kind == KindRelation:
			e.Kind = KindIT
		}
	}
	// Edges in pair order, highlighted ones last so they are drawn on
	// top; a pair with traffic both ways runs from the lower ID.
	for i := range m.Edges {
		e := &m.Edges[i]
		slices.Sort(e.Protocols)
		if e.Both && e.From > e.To {
			e.From, e.To = e.To, e.From
			e.X1, e.Y1, e.X2, e.Y2 = e.X2, e.Y2, e.X1, e.Y1
		}
	}
	slices.SortFunc(m.Edges, func(a, b Edge) int {
		if a.Highlight != b.Highlight {
			if a.Highlight {
				return 1
			}
			return -1
		}
		ka, kb := pairKey(a.From, a.To), pairKey(b.From, b.To)
		if c := cmp.Compare(ka[0], kb[0]); c != 0 {
			return c
		}
		return cmp.Compare(ka[1], kb[1])
	})

	// Focus: the highlighted devices with a margin, at least a screenful.
	minX, minY, maxX, maxY := math.MaxInt, math.MaxInt, math.MinInt, math.MinInt
	for i := range m.Devices {
		n := &m.Devices[i]
		if !n.Highlight {
			continue
		}
		m.Highlighted = true
		minX, minY = min(minX, n.X), min(minY, n.Y)
		maxX, maxY = max(maxX, n.X+n.W), max(maxY, n.Y+n.H)
	}
	if m.Highlighted {
		r := Rect{X: minX - focusMargin, Y: minY - focusMargin, W: maxX - minX + 2*focusMargin, H: maxY - minY + 2*focusMargin}
		if r.W < focusMinW {
			r.X -= (focusMinW - r.W) / 2
			r.W = focusMinW
		}
		if r.H < focusMinH {
			r.Y -= (focusMinH - r.H) / 2
			r.H = focusMinH
		}
		m.Focus = r
	}
	return m
}

// DeviceByAddr returns the ID of the device of snap that has addr as one
// of its IP addresses, as its MAC address or as its routed address
// ("bacnet:3:10"): how an alert's parties are found for Highlight.
func DeviceByAddr(snap *inventory.Snapshot, addr string) (inventory.DeviceID, bool) {
	if snap == nil || addr == "" {
		return 0, false
	}
	ip, ipErr := netip.ParseAddr(addr)
	mac, macErr := net.ParseMAC(addr)
	for i := range snap.Devices {
		d := &snap.Devices[i]
		switch {
		case ipErr == nil:
			for _, s := range d.IPs {
				if a, err := netip.ParseAddr(s); err == nil && a.Unmap() == ip.Unmap() {
					return d.ID, true
				}
			}
		case macErr == nil:
			if m, err := net.ParseMAC(d.MAC); err == nil && bytes.Equal(m, mac) {
				return d.ID, true
			}
		case d.Address != "" && strings.EqualFold(d.Address, addr):
			return d.ID, true
		}
	}
	return 0, false
}

func pairKey(a, b inventory.DeviceID) [2]inventory.DeviceID {
	if a > b {
		a, b = b, a
	}
	return [2]inventory.DeviceID{a, b}
}

// node places device v at (x, y) in group gi.
func node(v *dev, gi int, g *Group, x, y, maxLabel int) Node {
	d := v.d
	name, addr := d.Name, ""
	switch {
	case len(d.IPs) > 0:
		addr = d.IPs[0]
	case d.Address != "":
		addr = d.Address
	default:
		addr = d.MAC
	}
	if name == "" {
		name = addr
	}
	if name == "" {
		name = "device " + itoa(int(d.ID))
	}
	sub := TypeLabel(d.Type)
	switch {
	case addr != "" && addr != name:
		sub = addr + " · " + sub
	case d.Vendor != "":
		sub += " · " + d.Vendor
	}
	return Node{ID: d.ID, Label: capText(name, maxLabel), Sub: capText(sub, maxLabel*7/6), Name: capText(name, 200),
		Type: d.Type, Level: v.level, Zone: v.zone, Subnet: g.Subnet, Group: gi, Highlight: v.hl,
		Rect: Rect{X: x, Y: y, W: nodeW, H: nodeH}}
}

// typeInfo gives each device type its label and CSS class.
var typeInfo = map[inventory.Type][2]string{
	inventory.TypePLC:           {"PLC", "plc"},
	inventory.TypeRTU:           {"RTU", "rtu"},
	inventory.TypeIED:           {"IED", "ied"},
	inventory.TypeHMI:           {"HMI", "hmi"},
	inventory.TypeEngineering:   {"Engineering WS", "ews"},
	inventory.TypeHistorian:     {"Historian", "hist"},
	inventory.TypeSCADAServer:   {"SCADA server", "scada"},
	inventory.TypeOPCServer:     {"OPC server", "opc"},
	inventory.TypeNetwork:       {"Network device", "net"},
	inventory.TypeITWorkstation: {"IT workstation", "ws"},
	inventory.TypeITServer:      {"IT server", "srv"},
	inventory.TypeIoT:           {"IoT", "iot"},
	inventory.TypeUnknown:       {"Unknown", "unk"},
}

// TypeLabel returns the short display name of a device type.
func TypeLabel(t inventory.Type) string {
	if ti, ok := typeInfo[t]; ok {
		return ti[0]
	}
	if t == "" {
		return "Unknown"
	}
	return string(t)
}

// typeClass returns the CSS class of a device type.
func typeClass(t inventory.Type) string {
	if ti, ok := typeInfo[t]; ok {
		return ti[1]
	}
	return "unk"
}

// capText returns s cut to at most n characters, ending in "…" when cut.
func capText(s string, n int) string {
	if len(s) <= n || utf8.RuneCountInString(s) <= n {
		return s
	}
	i, k := 0, 0
	for i = range s {
		if k == n-1 {
			break
		}
		k++
	}
	return s[:i] + "…"
}

func itoa(n int) string {
	var b [20]byte
	return string(appendInt(b[:0], n))
}

func appendInt(b []byte, n int) []byte {
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	var t [20]byte
	i := len(t)
	for {
		i--
		t[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(b, t[i:]...)
}
