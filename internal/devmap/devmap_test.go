package devmap

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/inventory"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// plant is a small snapshot: a plant network over four Purdue levels, an
// office server, a device known only by MAC and a BACnet device behind a
// router.
func plant() *inventory.Snapshot {
	dev := func(id int, name, ip string, t inventory.Type, level int) inventory.Device {
		d := inventory.Device{ID: inventory.DeviceID(id), Name: name, Type: t, Purdue: level,
			MAC: fmt.Sprintf("00:1b:1b:00:00:%02x", id)}
		if ip != "" {
			d.IPs = []string{ip}
		}
		return d
	}
	s := &inventory.Snapshot{Devices: []inventory.Device{
		dev(1, "PLC-Line1", "10.1.2.10", inventory.TypePLC, 1),
		dev(2, "PLC-Line2", "10.1.2.11", inventory.TypePLC, 1),
		dev(3, "HMI-01", "10.1.2.30", inventory.TypeHMI, 2),
		dev(4, "", "10.1.2.31", inventory.TypeHMI, 2),
		dev(5, "EWS-01", "10.1.3.20", inventory.TypeEngineering, 3),
		dev(6, "HIST-01", "10.1.3.10", inventory.TypeHistorian, 3),
		dev(7, "SCADA-01", "10.1.3.5", inventory.TypeSCADAServer, 3),
		dev(8, "RTU-North-Substation-Feeder-7", "10.1.4.5", inventory.TypeRTU, 1),
		dev(9, `mail & <exchange> "01"`, "192.168.10.5", inventory.TypeITServer, 5),
		dev(10, "", "", inventory.TypeUnknown, -1),
		dev(11, "BACnet-Router", "10.1.5.1", inventory.TypeNetwork, 2),
		{ID: 12, Address: "bacnet:3:10", RoutedBy: 11, Type: inventory.TypeIoT, Purdue: 0, Vendor: "Acme Controls"},
		dev(13, "Sensor-GW", "10.1.6.7", inventory.TypeIoT, 0),
	}}
	s.Devices[9].Vendor = "Hirschmann"
	conn := func(c, sv int, proto string, port uint16) inventory.Connection {
		return inventory.Connection{Client: inventory.DeviceID(c), Server: inventory.DeviceID(sv), Protocol: proto,
			Transport: "tcp", Port: port, PacketsTo: 10, PacketsFr: 8, BytesTo: 1000, BytesFr: 800}
	}
	s.Connections = []inventory.Connection{
		conn(3, 1, "modbus", 502),
		conn(3, 2, "modbus", 502),
		conn(4, 2, "modbus", 502),
		conn(5, 1, "s7comm", 102),
		conn(5, 1, "http", 80), // parallel: one edge, two protocols
		conn(1, 5, "dns", 53),  // the other way: one edge, both ways
		conn(6, 1, "opcua", 4840),
		conn(7, 8, "dnp3", 20000),
		conn(5, 9, "smtp", 25),
		conn(10, 7, "ssh", 22),
		{Client: 12, Server: 11, Relation: inventory.RelationRoutedBy, Protocol: "bacnet"},
		conn(7, 11, "bacnet", 47808),
		conn(7, 13, "mqtt", 1883),
		conn(7, 99, "modbus", 502), // unknown server: left out
		conn(7, 7, "modbus", 502),  // to itself: left out
	}
	return s
}

// plantZone puts 10.1.2.0/24 in "Cell A" and 10.1.3.0/24 in "Control room".
func plantZone(d *inventory.Device) string {
	for _, ip := range d.IPs {
		switch {
		case strings.HasPrefix(ip, "10.1.2."):
			return "Cell A"
		case strings.HasPrefix(ip, "10.1.3."):
			return "Control room"
		}
	}
	return ""
}

// parsed is an SVG as a reader of SVG sees it, read with encoding/xml.
type parsed struct {
	root    xml.StartElement
	viewBox [4]int
	bands   []svgBand
	groups  []Rect
	devices map[int]svgDevice
	edges   []svgEdge
}

type svgBand struct {
	level int
	r     Rect
	label string
}

type svgDevice struct {
	class string
	r     Rect
	texts []string
}

type svgEdge struct {
	class          string
	from, to       int
	x1, y1, x2, y2 int
	protocols      string
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("not an integer: %q", s)
	}
	return n
}

func rectOf(t *testing.T, e xml.StartElement) Rect {
	return Rect{atoi(t, attr(e, "x")), atoi(t, attr(e, "y")), atoi(t, attr(e, "width")), atoi(t, attr(e, "height"))}
}

// parseSVG reads the document with encoding/xml (which rejects XML that is
// not well formed) and collects its bands, groups, devices and edges.
func parseSVG(t *testing.T, b []byte) *parsed {
	t.Helper()
	p := &parsed{devices: map[int]svgDevice{}}
	d := xml.NewDecoder(bytes.NewReader(b))
	var stack []xml.StartElement
	var band *svgBand
	var device *svgDevice
	var devID int
	var text *strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			tok = tok.Copy()
			stack = append(stack, tok)
			class := attr(tok, "class")
			switch {
			case tok.Name.Local == "svg":
				p.root = tok
				f := strings.Fields(attr(tok, "viewBox"))
				if len(f) != 4 {
					t.Fatalf("viewBox %q", attr(tok, "viewBox"))
				}
				for i := range f {
					p.viewBox[i] = atoi(t, f[i])
				}
			case tok.Name.Local == "g" && class == "band":
				p.bands = append(p.bands, svgBand{level: atoi(t, attr(tok, "data-level"))})
				band = &p.bands[len(p.bands)-1]
			case tok.Name.Local == "rect" && band != nil:
				band.r = rectOf(t, tok)
			case tok.Name.Local == "rect" && class == "grp":
				p.groups = append(p.groups, rectOf(t, tok))
			case tok.Name.Local == "g" && strings.HasPrefix(class, "d "):
				devID = atoi(t, attr(tok, "data-device-id"))
				if attr(tok, "id") != "d"+strconv.Itoa(devID) {
					t.Errorf("device %d has id %q", devID, attr(tok, "id"))
				}
				if _, dup := p.devices[devID]; dup {
					t.Errorf("device %d drawn twice", devID)
				}
				device = &svgDevice{class: class}
			case tok.Name.Local == "rect" && device != nil:
				device.r = rectOf(t, tok)
			case tok.Name.Local == "text" && (device != nil || band != nil):
				text = &strings.Builder{}
			case tok.Name.Local == "path":
				m, x1, y1, x2, y2 := "", 0, 0, 0, 0
				if _, err := fmt.Sscanf(strings.ReplaceAll(attr(tok, "d"), "L", " L "), "M%d %d %s %d %d", &x1, &y1, &m, &x2, &y2); err != nil || m != "L" {
					t.Fatalf("edge path %q: %v", attr(tok, "d"), err)
				}
				p.edges = append(p.edges, svgEdge{class: class, from: atoi(t, attr(tok, "data-from")), to: atoi(t, attr(tok, "data-to")),
					x1: x1, y1: y1, x2: x2, y2: y2, protocols: attr(tok, "data-protocols")})
			}
		case xml.CharData:
			if text != nil {
				text.Write(tok)
			}
		case xml.EndElement:
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			switch {
			case top.Name.Local == "text" && text != nil:
				if device != nil {
					device.texts = append(device.texts, text.String())
				} else if band != nil {
					band.label = text.String()
				}
				text = nil
			case top.Name.Local == "g" && attr(top, "class") == "band":
				band = nil
			case top.Name.Local == "g" && device != nil && strings.HasPrefix(attr(top, "class"), "d "):
				p.devices[devID] = *device
				device = nil
			}
		}
	}
	return p
}

func svgOf(t testing.TB, m *Map, o SVGOptions) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := m.WriteSVG(&b, o); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// bandOrder is the top-to-bottom position of a Purdue level: 5 first,
// 0 then unknown last.
func bandOrder(level int) int {
	if level < 0 || level > 5 {
		return 6
	}
	return 5 - level
}

// checkGeometry checks the drawing of snap against the snapshot itself:
// every device shown once, inside the band of its Purdue level and inside
// one group box of that band, whose devices share its subnet; no two
// devices, groups or bands overlap; bands run from level 5 down; every edge
// joins the centres of the devices it names.
func checkGeometry(t *testing.T, snap *inventory.Snapshot, zone func(*inventory.Device) string, p *parsed, want []inventory.DeviceID) {
	t.Helper()
	if len(p.devices) != len(want) {
		t.Errorf("%d devices drawn, want %d", len(p.devices), len(want))
	}
	vb := Rect{p.viewBox[0], p.viewBox[1], p.viewBox[2], p.viewBox[3]}
	for i, b := range p.bands {
		if !vb.Contains(b.r) {
			t.Errorf("band %d %v outside the viewBox %v", b.level, b.r, vb)
		}
		if i > 0 {
			prev := p.bands[i-1]
			if bandOrder(prev.level) >= bandOrder(b.level) || prev.r.Y+prev.r.H > b.r.Y {
				t.Errorf("band %d %v does not come below band %d %v", b.level, b.r, prev.level, prev.r)
			}
		}
		if b.level >= 0 && !strings.HasPrefix(b.label, "Level "+strconv.Itoa(b.level)+" ") {
			t.Errorf("band %d labelled %q", b.level, b.label)
		}
	}
	for i := range p.groups {
		for j := i + 1; j < len(p.groups); j++ {
			if p.groups[i].Overlaps(p.groups[j]) {
				t.Errorf("groups %v and %v overlap", p.groups[i], p.groups[j])
			}
		}
	}
	groupMembers := map[int][]*inventory.Device{}
	for _, id := range want {
		d := snap.Device(id)
		sd, ok := p.devices[int(id)]
		if !ok {
			t.Errorf("device %d (%s) not drawn", id, d.Name)
			continue
		}
		level := d.Purdue
		if level < 0 || level > 5 {
			level = -1
		}
		var inBand []int
		for i, b := range p.bands {
			if b.r.Contains(sd.r) {
				inBand = append(inBand, i)
			}
		}
		if len(inBand) != 1 || p.bands[inBand[0]].level != level {
			t.Errorf("device %d (level %d) at %v lies in bands %v", id, d.Purdue, sd.r, inBand)
			continue
		}
		var inGroup []int
		for i, g := range p.groups {
			if g.Contains(sd.r) {
				inGroup = append(inGroup, i)
			}
		}
		if len(inGroup) != 1 || !p.bands[inBand[0]].r.Contains(p.groups[inGroup[0]]) {
			t.Errorf("device %d at %v lies in groups %v, not one group of its band", id, sd.r, inGroup)
			continue
		}
		groupMembers[inGroup[0]] = append(groupMembers[inGroup[0]], d)
		if d.Name != "" && len([]rune(d.Name)) <= 24 && (len(sd.texts) == 0 || sd.texts[0] != d.Name) {
			t.Errorf("device %d labelled %q, want %q", id, sd.texts, d.Name)
		}
	}
	// A group's devices share their /24 (or lack of IP) and zone.
	for g, ds := range groupMembers {
		key := func(d *inventory.Device) string {
			k := ""
			if zone != nil {
				k = zone(d)
			}
			if len(d.IPs) > 0 {
				return k + "|" + netip.PrefixFrom(netip.MustParseAddr(d.IPs[0]), 24).Masked().String()
			}
			if i := strings.LastIndexByte(d.Address, ':'); i > 0 {
				return k + "|" + d.Address[:i]
			}
			return k + "|none"
		}
		for _, d := range ds[1:] {
			if key(d) != key(ds[0]) {
				t.Errorf("group %d holds %s (%s) and %s (%s)", g, d.Name, key(d), ds[0].Name, key(ds[0]))
			}
		}
	}
	// No two device boxes overlap: sort by X and compare neighbours in a
	// sweep so that large maps stay quick.
	type box struct {
		id int
		r  Rect
	}
	var boxes []box
	for id, d := range p.devices {
		boxes = append(boxes, box{id, d.r})
	}
	slices.SortFunc(boxes, func(a, b box) int { return a.r.X - b.r.X })
	for i := range boxes {
		for j := i + 1; j < len(boxes) && boxes[j].r.X < boxes[i].r.X+boxes[i].r.W; j++ {
			if boxes[i].r.Overlaps(boxes[j].r) {
				t.Errorf("devices %d %v and %d %v overlap", boxes[i].id, boxes[i].r, boxes[j].id, boxes[j].r)
			}
		}
	}
	for _, e := range p.edges {
		a, okA := p.devices[e.from]
		b, okB := p.devices[e.to]
		if !okA || !okB {
			t.Errorf("edge %d-%d names a device not drawn", e.from, e.to)
			continue
		}
		if e.x1 != a.r.X+a.r.W/2 || e.y1 != a.r.Y+a.r.H/2 || e.x2 != b.r.X+b.r.W/2 || e.y2 != b.r.Y+b.r.H/2 {
			t.Errorf("edge %d-%d runs (%d,%d)-(%d,%d), not between the device centres", e.from, e.to, e.x1, e.y1, e.x2, e.y2)
		}
	}
}

func allIDs(s *inventory.Snapshot) []inventory.DeviceID {
	var ids []inventory.DeviceID
	for _, d := range s.Devices {
		ids = append(ids, d.ID)
	}
	return ids
}

// TestGolden pins the SVG of the hand-built plant byte for byte, so that a
// change of the drawing shows up as a reviewed diff. The golden file is the
// code's own output; what makes it right is checked independently of it:
// checkGeometry reads the same bytes back with encoding/xml and compares
// them with the snapshot (each device once, in its Purdue band and subnet
// group, nothing overlapping, edges between device centres).
func TestGolden(t *testing.T) {
	m := Layout(plant(), Options{Zone: plantZone})
	got := svgOf(t, m, SVGOptions{DeviceHref: "/devices/"})
	path := filepath.Join("testdata", "plant.golden.svg")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("SVG differs from %s (go test -update rewrites it after review)", path)
	}
	checkGeometry(t, plant(), plantZone, parseSVG(t, got), allIDs(plant()))
}

func TestGeometry(t *testing.T) {
	tests := []struct {
		name string
		snap *inventory.Snapshot
		zone func(*inventory.Device) string
		opts Options
	}{
		{"plant", plant(), plantZone, Options{}},
		{"plant all levels", plant(), nil, Options{AllLevels: true}},
		{"plant /16", plant(), nil, Options{SubnetBits4: 16}},
		{"large", large(2000, 10000), largeZone, Options{}},
		{"one device", &inventory.Snapshot{Devices: []inventory.Device{{ID: 1, Purdue: 3, IPs: []string{"10.0.0.1"}}}}, nil, Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Zone = tt.zone
			m := Layout(tt.snap, tt.opts)
			p := parseSVG(t, svgOf(t, m, SVGOptions{}))
			if tt.opts.SubnetBits4 == 16 {
				// Groups are /16 here: the /24 check does not apply; the
				// rest does.
				if len(m.Groups) >= len(Layout(tt.snap, Options{}).Groups) {
					t.Errorf("/16 grouping gives %d groups, no fewer than /24", len(m.Groups))
				}
				return
			}
			checkGeometry(t, tt.snap, tt.zone, p, allIDs(tt.snap))
			if tt.opts.AllLevels {
				var levels []int
				for _, b := range p.bands {
					levels = append(levels, b.level)
				}
				if want := []int{5, 4, 3, 2, 1, 0, -1}; !slices.Equal(levels, want) {
					t.Errorf("bands %v, want %v", levels, want)
				}
			}
		})
	}
}

// TestEdges checks edge aggregation against the plant's connection list.
func TestEdges(t *testing.T) {
	m := Layout(plant(), Options{})
	type want struct {
		from, to  inventory.DeviceID
		kind      string
		protocols []string
		both      bool
		n         int
	}
	wants := []want{
		{3, 1, KindIndustrial, []string{"modbus"}, false, 1},
		{3, 2, KindIndustrial, []string{"modbus"}, false, 1},
		{4, 2, KindIndustrial, []string{"modbus"}, false, 1},
		{1, 5, KindIndustrial, []string{"dns", "http", "s7comm"}, true, 3},
		{6, 1, KindIndustrial, []string{"opcua"}, false, 1},
		{7, 8, KindIndustrial, []string{"dnp3"}, false, 1},
		{5, 9, KindIT, []string{"smtp"}, false, 1},
		{10, 7, KindIT, []string{"ssh"}, false, 1},
		{12, 11, KindRelation, []string{"bacnet"}, false, 1},
		{7, 11, KindIndustrial, []string{"bacnet"}, false, 1},
		{7, 13, KindIndustrial, []string{"mqtt"}, false, 1},
	}
	if len(m.Edges) != len(wants) {
		t.Errorf("%d edges, want %d", len(m.Edges), len(wants))
	}
	for _, w := range wants {
		i := slices.IndexFunc(m.Edges, func(e Edge) bool { return e.From == w.from && e.To == w.to })
		if i < 0 {
			t.Errorf("no edge %d→%d", w.from, w.to)
			continue
		}
		e := m.Edges[i]
		if e.Kind != w.kind || !slices.Equal(e.Protocols, w.protocols) || e.Both != w.both || e.Connections != w.n {
			t.Errorf("edge %d→%d: kind %s protocols %v both %v connections %d; want %s %v %v %d",
				w.from, w.to, e.Kind, e.Protocols, e.Both, e.Connections, w.kind, w.protocols, w.both, w.n)
		}
		if e.Packets != uint64(18*w.n) && w.kind != KindRelation {
			t.Errorf("edge %d→%d: %d packets, want %d", w.from, w.to, e.Packets, 18*w.n)
		}
	}
	p := parseSVG(t, svgOf(t, m, SVGOptions{}))
	for _, e := range p.edges {
		if e.from == 1 && e.to == 5 && (e.class != "e industrial" || e.protocols != "dns http s7comm") {
			t.Errorf("edge 1-5 drawn with class %q protocols %q", e.class, e.protocols)
		}
	}
}

func TestDeterministic(t *testing.T) {
	for _, snap := range []*inventory.Snapshot{plant(), large(300, 1500)} {
		a := svgOf(t, Layout(snap, Options{Zone: plantZone}), SVGOptions{})
		b := svgOf(t, Layout(snap, Options{Zone: plantZone}), SVGOptions{})
		if !bytes.Equal(a, b) {
			t.Fatal("two layouts of one snapshot differ")
		}
		// The order of devices and connections in the snapshot does not
		// matter either.
		shuffled := &inventory.Snapshot{Devices: slices.Clone(snap.Devices), Connections: slices.Clone(snap.Connections)}
		r := rand.New(rand.NewPCG(1, 2))
		r.Shuffle(len(shuffled.Devices), func(i, j int) {
			shuffled.Devices[i], shuffled.Devices[j] = shuffled.Devices[j], shuffled.Devices[i]
		})
		r.Shuffle(len(shuffled.Connections), func(i, j int) {
			shuffled.Connections[i], shuffled.Connections[j] = shuffled.Connections[j], shuffled.Connections[i]
		})
		c := svgOf(t, Layout(shuffled, Options{Zone: plantZone}), SVGOptions{})
		if !bytes.Equal(a, c) {
			t.Error("shuffling the snapshot changes the layout")
		}
	}
}

func TestFilters(t *testing.T) {
	snap := plant()
	// protocolDevices lists the devices of the plant's connections of the
	// given protocols, read off the connection list.
	protocolDevices := func(protos ...string) []inventory.DeviceID {
		var ids []inventory.DeviceID
		for _, c := range snap.Connections {
			if slices.Contains(protos, c.Protocol) && c.Client != c.Server && snap.Device(c.Server) != nil {
				ids = append(ids, c.Client, c.Server)
			}
		}
		slices.Sort(ids)
		return slices.Compact(ids)
	}
	tests := []struct {
		name      string
		f         Filter
		hl        Highlight
		devices   []inventory.DeviceID
		protocols []string // every edge must carry only these ("" no check)
	}{
		{"none", Filter{}, Highlight{}, allIDs(snap), nil},
		{"modbus", Filter{Protocols: []string{"modbus"}}, Highlight{}, protocolDevices("modbus"), []string{"modbus"}},
		{"modbus or dnp3", Filter{Protocols: []string{"modbus", "dnp3"}}, Highlight{}, protocolDevices("modbus", "dnp3"), []string{"modbus", "dnp3"}},
		{"level 1", Filter{Levels: []int{1}}, Highlight{}, []inventory.DeviceID{1, 2, 8}, nil},
		{"level unknown", Filter{Levels: []int{-1}}, Highlight{}, []inventory.DeviceID{10}, nil},
		{"zone Cell A", Filter{Zones: []string{"Cell A"}}, Highlight{}, []inventory.DeviceID{1, 2, 3, 4}, nil},
		{"no zone", Filter{Zones: []string{""}}, Highlight{}, []inventory.DeviceID{8, 9, 10, 11, 12, 13}, nil},
		{"PLCs", Filter{Types: []inventory.Type{inventory.TypePLC}}, Highlight{}, []inventory.DeviceID{1, 2}, nil},
		{"PLC and HMI over modbus", Filter{Types: []inventory.Type{inventory.TypePLC, inventory.TypeHMI}, Protocols: []string{"modbus"}},
			Highlight{}, []inventory.DeviceID{1, 2, 3, 4}, []string{"modbus"}},
		{"level 1 in Cell A", Filter{Levels: []int{1}, Zones: []string{"Cell A"}}, Highlight{}, []inventory.DeviceID{1, 2}, nil},
		{"nothing matches", Filter{Protocols: []string{"goose"}}, Highlight{}, nil, nil},
		{"highlight survives", Filter{Levels: []int{5}}, Highlight{Connections: []Link{{5, 1}}}, []inventory.DeviceID{1, 5, 9}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Layout(snap, Options{Zone: plantZone, Filter: tt.f, Highlight: tt.hl})
			var got []inventory.DeviceID
			for _, n := range m.Devices {
				got = append(got, n.ID)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.devices) {
				t.Errorf("devices %v, want %v", got, tt.devices)
			}
			if m.Hidden.Devices != len(snap.Devices)-len(tt.devices) {
				t.Errorf("%d devices hidden, want %d", m.Hidden.Devices, len(snap.Devices)-len(tt.devices))
			}
			conns := 0
			for _, e := range m.Edges {
				conns += e.Connections
				if tt.protocols != nil && !e.Highlight {
					for _, p := range e.Protocols {
						if !slices.Contains(tt.protocols, p) {
							t.Errorf("edge %d→%d carries %s", e.From, e.To, p)
						}
					}
				}
			}
			if valid := len(snap.Connections) - 2; m.Hidden.Connections != valid-conns {
				t.Errorf("%d connections hidden, want %d of %d", m.Hidden.Connections, valid-conns, valid)
			}
			p := parseSVG(t, svgOf(t, m, SVGOptions{}))
			checkGeometry(t, snap, plantZone, p, tt.devices)
		})
	}
}

func TestHighlight(t *testing.T) {
	snap := plant()
	m := Layout(snap, Options{Zone: plantZone, Highlight: Highlight{Devices: []inventory.DeviceID{7}, Connections: []Link{{Client: 5, Server: 1}}}})
	if !m.Highlighted {
		t.Fatal("map not marked highlighted")
	}
	for _, o := range []SVGOptions{{}, {Focus: true}} {
		p := parseSVG(t, svgOf(t, m, o))
		if c := attr(p.root, "class"); c != "devmap hl" {
			t.Errorf("svg class %q, want \"devmap hl\"", c)
		}
		for id, d := range p.devices {
			want := id == 1 || id == 5 || id == 7
			if got := strings.HasSuffix(d.class, " hl"); got != want {
				t.Errorf("device %d class %q, highlighted %v want %v", id, d.class, got, want)
			}
		}
		var hl []string
		for _, e := range p.edges {
			if strings.HasSuffix(e.class, " hl") {
				hl = append(hl, fmt.Sprintf("%d-%d", e.from, e.to))
			}
		}
		if !slices.Equal(hl, []string{"1-5"}) {
			t.Errorf("highlighted edges %v, want [1-5]", hl)
		}
		if last := p.edges[len(p.edges)-1]; !strings.HasSuffix(last.class, " hl") {
			t.Error("highlighted edge not drawn last")
		}
		vb := Rect{p.viewBox[0], p.viewBox[1], p.viewBox[2], p.viewBox[3]}
		if o.Focus {
			if vb != m.Focus {
				t.Errorf("focused viewBox %v, want %v", vb, m.Focus)
			}
			for _, id := range []int{1, 5, 7} {
				if !vb.Contains(p.devices[id].r) {
					t.Errorf("device %d %v outside the focus %v", id, p.devices[id].r, vb)
				}
			}
		} else if vb != (Rect{0, 0, m.Width, m.Height}) {
			t.Errorf("viewBox %v, want the whole map", vb)
		}
	}
	if m := Layout(snap, Options{}); m.Highlighted || !m.Focus.IsZero() {
		t.Error("a map without highlight has a focus")
	}
	// Unknown ids are ignored.
	if m := Layout(snap, Options{Highlight: Highlight{Devices: []inventory.DeviceID{77}}}); m.Highlighted {
		t.Error("an unknown device highlighted")
	}
}

func TestBadInput(t *testing.T) {
	bad := &inventory.Snapshot{Devices: []inventory.Device{
		{ID: 1, Name: "dup", IPs: []string{"10.0.0.1"}, Purdue: 9},
		{ID: 1, Name: "dup again", IPs: []string{"10.0.0.2"}},
		{ID: 2, Name: "ctl\x00\x07chars\xff\xfe <b>&amp;", IPs: []string{"not an ip", "fe80::1%eth0"}, Type: "weird type"},
		{ID: 3, Name: strings.Repeat("ü", 500), Purdue: -7},
		{ID: 4, Address: "nocolon"},
	}, Connections: []inventory.Connection{{Client: 1, Server: 2}, {Client: 5, Server: 6}, {Client: 2, Server: 1, Protocol: "a&b\"<"}}}
	tests := []struct {
		name string
		snap *inventory.Snapshot
		n    int
	}{
		{"nil", nil, 0},
		{"empty", &inventory.Snapshot{}, 0},
		{"bad", bad, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Layout(tt.snap, Options{MaxLabel: -3, SubnetBits4: 99})
			if len(m.Devices) != tt.n {
				t.Errorf("%d devices, want %d", len(m.Devices), tt.n)
			}
			b := svgOf(t, m, SVGOptions{ID: `x"y`, DeviceHref: "/d?a=1&b="})
			p := parseSVG(t, b)
			if len(p.devices) != tt.n {
				t.Errorf("%d devices drawn, want %d", len(p.devices), tt.n)
			}
			for _, d := range p.devices {
				for _, s := range d.texts {
					if n := len([]rune(s)); n > 24 {
						t.Errorf("label of %d characters: %q", n, s)
					}
				}
			}
			if _, err := m.JSON(); err != nil {
				t.Error(err)
			}
		})
	}
	var nilMap *Map
	if err := nilMap.WriteSVG(io.Discard, SVGOptions{}); err == nil {
		t.Error("nil map written without error")
	}
	if err := Layout(plant(), Options{}).WriteSVG(failWriter{}, SVGOptions{}); err == nil || !strings.Contains(err.Error(), "devmap: writing SVG") {
		t.Errorf("failing writer: error %v", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, fmt.Errorf("disk full") }

func TestJSON(t *testing.T) {
	m := Layout(plant(), Options{Zone: plantZone, Highlight: Highlight{Devices: []inventory.DeviceID{1}}})
	b, err := m.JSON()
	if err != nil {
		t.Fatal(err)
	}
	type jsonDevice struct {
		ID     int    `json:"id"`
		Label  string `json:"label"`
		Subnet string `json:"subnet"`
		X, Y   int
	}
	var back struct {
		Width   int          `json:"width"`
		Devices []jsonDevice `json:"devices"`
		Groups  []struct {
			Label string `json:"label"`
		} `json:"groups"`
		Edges []struct {
			From, To  int
			Protocols []string `json:"protocols"`
		} `json:"edges"`
		Focus struct{ X, Y, W, H int } `json:"focus"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Width != m.Width || len(back.Devices) != 13 || len(back.Edges) != len(m.Edges) || back.Focus.W == 0 {
		t.Errorf("JSON round trip: width %d, %d devices, %d edges, focus %+v", back.Width, len(back.Devices), len(back.Edges), back.Focus)
	}
	i := slices.IndexFunc(back.Devices, func(d jsonDevice) bool { return d.ID == 12 })
	if i < 0 || back.Devices[i].Subnet != "bacnet:3" {
		t.Errorf("routed device's subnet: %+v", back.Devices)
	}
}

func TestCapText(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven char", 10, "eleven ch…"},
		{"Zürich-Straße-12", 8, "Zürich-…"},
		{"", 3, ""},
	}
	for _, tt := range tests {
		if got := capText(tt.in, tt.n); got != tt.want {
			t.Errorf("capText(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

// large is a generated plant of n devices and about c connections: 20
// devices to a /24, levels by subnet, parallel connections between some
// pairs.
func large(n, c int) *inventory.Snapshot {
	r := rand.New(rand.NewPCG(7, 11))
	types := []inventory.Type{inventory.TypePLC, inventory.TypeHMI, inventory.TypeRTU, inventory.TypeIED,
		inventory.TypeITWorkstation, inventory.TypeNetwork, inventory.TypeHistorian}
	protos := []struct {
		name string
		port uint16
	}{{"modbus", 502}, {"s7comm", 102}, {"enip", 44818}, {"dnp3", 20000}, {"http", 80}, {"dns", 53}, {"smb", 445}, {"opcua", 4840}}
	s := &inventory.Snapshot{}
	for i := 1; i <= n; i++ {
		sub := (i - 1) / 20
		d := inventory.Device{ID: inventory.DeviceID(i), Type: types[r.IntN(len(types))], Purdue: sub%7 - 1,
			IPs: []string{fmt.Sprintf("10.%d.%d.%d", sub/250, sub%250, (i-1)%20+10)}}
		if i%3 != 0 {
			d.Name = fmt.Sprintf("%s-%04d-line-%d", strings.ToUpper(string(d.Type)), i, sub)
		}
		if i%97 == 0 {
			d.IPs = nil
			d.MAC = fmt.Sprintf("02:00:00:00:%02x:%02x", i>>8, i&0xff)
		}
		s.Devices = append(s.Devices, d)
	}
	for len(s.Connections) < c {
		a, b := r.IntN(n)+1, r.IntN(n)+1
		if a == b {
			continue
		}
		for k := r.IntN(3); k >= 0 && len(s.Connections) < c; k-- {
			p := protos[r.IntN(len(protos))]
			s.Connections = append(s.Connections, inventory.Connection{Client: inventory.DeviceID(a), Server: inventory.DeviceID(b),
				Protocol: p.name, Transport: "tcp", Port: p.port, PacketsTo: 100, PacketsFr: 90})
		}
	}
	return s
}

// largeZone gives every 10.x.0.0/16 a zone.
func largeZone(d *inventory.Device) string {
	if len(d.IPs) == 0 {
		return ""
	}
	a := netip.MustParseAddr(d.IPs[0]).As4()
	return fmt.Sprintf("Zone %d", a[2]/25)
}

func TestLargeSize(t *testing.T) {
	m := Layout(large(2000, 10000), Options{Zone: largeZone})
	b := svgOf(t, m, SVGOptions{DeviceHref: "/devices/"})
	// About 250 bytes a device and 100 an edge: parallel connections are
	// one edge, labels are capped, styling is by class.
	if limit := 2000*260 + len(m.Edges)*110 + 20000; len(b) > limit {
		t.Errorf("SVG of %d bytes for 2,000 devices and %d edges, more than %d", len(b), len(m.Edges), limit)
	}
	if len(m.Edges) >= 10000 {
		t.Errorf("%d edges for 10,000 connections with parallels: not aggregated", len(m.Edges))
	}
	if bytes.Contains(b, []byte("style=")) {
		t.Error("inline style attribute in the SVG")
	}
	t.Logf("2,000 devices, 10,000 connections: %d edges, %dx%d map, %d bytes of SVG", len(m.Edges), m.Width, m.Height, len(b))
}

func BenchmarkLayout(b *testing.B) {
	snap := large(2000, 10000)
	b.ReportAllocs()
	for b.Loop() {
		Layout(snap, Options{Zone: largeZone})
	}
}

func BenchmarkWriteSVG(b *testing.B) {
	m := Layout(large(2000, 10000), Options{Zone: largeZone})
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := m.WriteSVG(&buf, SVGOptions{DeviceHref: "/devices/"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "svg-bytes")
}

func TestDeviceByAddr(t *testing.T) {
	snap := plant()
	snap.Devices[4].IPs = append(snap.Devices[4].IPs, "2001:db8::20")
	tests := []struct {
		addr string
		want inventory.DeviceID
		ok   bool
	}{
		{"10.1.2.10", 1, true},
		{"::ffff:10.1.2.10", 1, true},
		{"2001:db8:0::20", 5, true},
		{"00:1B:1B:00:00:0A", 10, true},
		{"001b.1b00.0003", 3, true},
		{"BACnet:3:10", 12, true},
		{"10.9.9.9", 0, false},
		{"", 0, false},
		{"garbage", 0, false},
	}
	for _, tt := range tests {
		got, ok := DeviceByAddr(snap, tt.addr)
		if got != tt.want || ok != tt.ok {
			t.Errorf("DeviceByAddr(%q) = %d, %v; want %d, %v", tt.addr, got, ok, tt.want, tt.ok)
		}
	}
	if _, ok := DeviceByAddr(nil, "10.1.2.10"); ok {
		t.Error("found a device in a nil snapshot")
	}
}
