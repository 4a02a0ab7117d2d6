package inventory

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// WriteTable writes the devices as an aligned text table, one row each.
func WriteTable(w io.Writer, s *Snapshot) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tMAC\tIP\tNAME\tVENDOR\tMODEL\tFIRMWARE\tTYPE\tPURDUE\tSERVES\tWHY")
	for _, d := range s.Devices {
		purdue := "-"
		if d.Purdue >= 0 {
			purdue = fmt.Sprint(d.Purdue)
		}
		model := d.Model
		if model == "" {
			model = d.Product
		}
		var serves []string
		for _, sv := range d.Serves {
			serves = append(serves, sv.String())
		}
		addrs := strings.Join(d.IPs, ",")
		if d.Address != "" {
			// A routed device: its own address and the router it is behind.
			addrs = d.Address
			if d.RoutedBy != 0 {
				addrs += fmt.Sprintf(" via %d", d.RoutedBy)
			}
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.ID, dash(d.MAC), dash(addrs),
			dash(d.Name), dash(d.Vendor), dash(model), dash(d.Firmware), d.Type, purdue, dash(joinNames(serves)), dash(strings.Join(d.Evidence, "; ")))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// WriteJSON writes the snapshot as indented JSON.
func WriteJSON(w io.Writer, s *Snapshot) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// Graph is the device map: devices as nodes, the protocols between each
// pair as edges.
type Graph struct {
	Nodes []GraphNode `json:"nodes"`
	Edges []GraphEdge `json:"edges"`
}

// GraphNode is one device on the map.
type GraphNode struct {
	ID     DeviceID `json:"id"`
	Label  string   `json:"label"`
	Type   Type     `json:"type"`
	Purdue int      `json:"purdue_level"`
	Subnet string   `json:"subnet,omitempty"`
}

// GraphEdge joins a client to a server.
type GraphEdge struct {
	From          DeviceID `json:"from"`
	To            DeviceID `json:"to"`
	Protocols     []string `json:"protocols"`
	Packets       uint64   `json:"packets"`
	Bytes         uint64   `json:"bytes"`
	CrossesSubnet bool     `json:"crosses_subnet"`
	CrossesPurdue bool     `json:"crosses_purdue"`
	// Relation is the connections' Relation (RelationRoutedBy) for an
	// edge that is not traffic.
	Relation string `json:"relation,omitempty"`
}

// label names a device on the map.
func (d *Device) label() string {
	switch {
	case d.Name != "":
		return d.Name
	case len(d.IPs) > 0:
		return d.IPs[0]
	case d.Address != "":
		return d.Address
	}
	return d.MAC
}

// Graph returns the device map of the snapshot.
func (s *Snapshot) Graph() Graph {
	g := Graph{Nodes: []GraphNode{}, Edges: []GraphEdge{}}
	for i := range s.Devices {
		d := &s.Devices[i]
		n := GraphNode{ID: d.ID, Label: d.label(), Type: d.Type, Purdue: d.Purdue}
		if len(d.subnets) > 0 {
			n.Subnet = d.subnets[0].String()
		}
		g.Nodes = append(g.Nodes, n)
	}
	idx := map[[2]DeviceID]int{}
	for _, c := range s.Connections {
		if c.Relation != "" {
			g.Edges = append(g.Edges, GraphEdge{From: c.Client, To: c.Server, Protocols: []string{c.Relation}, Relation: c.Relation})
			continue
		}
		k := [2]DeviceID{c.Client, c.Server}
		i, ok := idx[k]
		if !ok {
			i = len(g.Edges)
			idx[k] = i
			g.Edges = append(g.Edges, GraphEdge{From: c.Client, To: c.Server, CrossesSubnet: c.CrossesSubnet, CrossesPurdue: c.CrossesPurdue})
		}
		e := &g.Edges[i]
		p := c.Protocol
		if c.Port != 0 {
			p = fmt.Sprintf("%s/%d", c.Protocol, c.Port)
		}
		if !contains(e.Protocols, p) {
			e.Protocols = append(e.Protocols, p)
			sort.Strings(e.Protocols)
		}
		e.Packets += c.PacketsTo + c.PacketsFr
		e.Bytes += c.BytesTo + c.BytesFr
	}
	return g
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// WriteGraphJSON writes the device map as JSON.
func WriteGraphJSON(w io.Writer, s *Snapshot) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s.Graph())
}

// WriteDOT writes the device map in Graphviz DOT: one cluster per Purdue
// level, nodes labelled with name, type and address, edges with protocols.
func WriteDOT(w io.Writer, s *Snapshot) error {
	g := s.Graph()
	var b strings.Builder
	b.WriteString("digraph devices {\n\trankdir=TB;\n\tnode [shape=box, fontname=\"Helvetica\"];\n")
	levels := map[int][]GraphNode{}
	for _, n := range g.Nodes {
		levels[n.Purdue] = append(levels[n.Purdue], n)
	}
	var keys []int
	for l := range levels {
		keys = append(keys, l)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(keys)))
	for _, l := range keys {
		name := fmt.Sprintf("Purdue level %d", l)
		if l < 0 {
			name = "Purdue level unknown"
		}
		fmt.Fprintf(&b, "\tsubgraph cluster_level_%d {\n\t\tlabel=%s;\n", l+1, quote(name))
		for _, n := range levels[l] {
			fmt.Fprintf(&b, "\t\td%d [label=%s];\n", n.ID, quote(n.Label+"\n"+string(n.Type)))
		}
		b.WriteString("\t}\n")
	}
	for _, e := range g.Edges {
		style := ""
		switch {
		case e.Relation != "":
			style = ", style=dashed"
		case e.CrossesPurdue:
			style = ", color=red"
		}
		fmt.Fprintf(&b, "\td%d -> d%d [label=%s%s];\n", e.From, e.To, quote(strings.Join(e.Protocols, ", ")), style)
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// quote returns s as a DOT string.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}
