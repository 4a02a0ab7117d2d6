package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestHelp(t *testing.T) {
	code, out, _ := runCmd(t, "help")
	if code != 0 || !strings.Contains(out, "Commands:") {
		t.Fatalf("help: code %d, output %q", code, out)
	}
	// Every summary starts in the same column, whatever the command's name.
	col := -1
	for _, c := range commands {
		i := strings.Index(out, "\t"+c.name+" ")
		if i < 0 {
			t.Fatalf("help does not list %s:\n%s", c.name, out)
		}
		line := out[i:]
		line = line[:strings.IndexByte(line, '\n')]
		at := strings.Index(line, c.summary)
		if at < 0 {
			t.Fatalf("help line of %s lacks its summary: %q", c.name, line)
		}
		if col >= 0 && at != col {
			t.Errorf("help: summary of %s starts at column %d, others at %d:\n%s", c.name, at, col, out)
		}
		col = at
	}
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := runCmd(t, c.name, "--help")
			if code != 0 || !strings.Contains(out, "Usage: otwatch "+c.name) || errOut != "" {
				t.Errorf("%s --help: code %d, stdout %q, stderr %q", c.name, code, out, errOut)
			}
		})
	}
	if code, _, errOut := runCmd(t, "nosuch"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("unknown command: code %d, stderr %q", code, errOut)
	}
	if code, _, errOut := runCmd(t, "analyze", "--nosuchflag"); code != 2 || !strings.Contains(errOut, "--help") {
		t.Errorf("bad flag: code %d, stderr %q", code, errOut)
	}
	if code, _, errOut := runCmd(t, "analyze"); code != 2 || !strings.Contains(errOut, "no capture file") {
		t.Errorf("no file: code %d, stderr %q", code, errOut)
	}
}

func TestSimulateAnalyze(t *testing.T) {
	dir := t.TempDir()
	pcap := filepath.Join(dir, "plant.pcap")
	code, _, errOut := runCmd(t, "simulate", "--duration", "1m", "--scenario", "portscan,new-device", "-o", pcap)
	if code != 0 {
		t.Fatalf("simulate: code %d: %s", code, errOut)
	}
	code, out, errOut := runCmd(t, "analyze", "--json", pcap)
	if code != 0 {
		t.Fatalf("analyze: code %d: %s", code, errOut)
	}
	var sum struct {
		Packets   uint64 `json:"packets"`
		Bytes     uint64 `json:"bytes"`
		Flows     uint64 `json:"flows"`
		MACs      int    `json:"mac_addresses"`
		IPs       int    `json:"ip_addresses"`
		Endpoints []struct {
			IPs    []string `json:"ips"`
			Serves []string `json:"serves"`
		} `json:"endpoints"`
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("analyze --json output: %v\n%s", err, out)
	}
	if want := countFrames(t, pcap); sum.Packets != want {
		t.Errorf("summary counts %d packets, gopacket's pcap reader %d", sum.Packets, want)
	}
	want := flowsByGopacket(t, pcap)
	if sum.Flows != want.flows {
		t.Errorf("summary counts %d flows, gopacket's distinct 5-tuples %d", sum.Flows, want.flows)
	}
	if sum.Bytes != want.bytes || sum.MACs != want.macs || sum.IPs != want.ips {
		t.Errorf("summary counts %d bytes, %d MACs, %d IPs; gopacket %d, %d, %d",
			sum.Bytes, sum.MACs, sum.IPs, want.bytes, want.macs, want.ips)
	}
	if len(sum.Endpoints) == 0 {
		t.Errorf("summary lists no endpoints")
	}
	plc := false
	for _, e := range sum.Endpoints {
		for _, s := range e.Serves {
			if strings.HasPrefix(s, "modbus/tcp 502") {
				plc = true
			}
		}
	}
	if !plc {
		t.Errorf("no endpoint serves modbus/tcp 502")
	}

	// --ops: one JSON operation per line, each naming frames of the file.
	code, out, errOut = runCmd(t, "analyze", "--ops", pcap)
	if code != 0 {
		t.Fatalf("analyze --ops: code %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	arp := 0
	for _, l := range lines {
		var op struct {
			Protocol string `json:"protocol"`
			Packets  []struct {
				Frame uint64 `json:"frame"`
			} `json:"packets"`
		}
		if err := json.Unmarshal([]byte(l), &op); err != nil {
			t.Fatalf("--ops line %q: %v", l, err)
		}
		if len(op.Packets) == 0 || op.Packets[0].Frame == 0 || op.Packets[0].Frame > sum.Packets {
			t.Errorf("operation without a frame of the file: %q", l)
		}
		if op.Protocol == "arp" {
			arp++
		}
	}
	if arp == 0 {
		t.Errorf("no ARP operations in %d lines", len(lines))
	}

	// --inventory --json and --map: the Siemens PLC is a PLC, the map a graph.
	code, out, errOut = runCmd(t, "analyze", "--inventory", "--json", pcap)
	if code != 0 || !strings.Contains(out, `"plc"`) {
		t.Errorf("--inventory --json: code %d, stderr %q", code, errOut)
	}
	code, out, errOut = runCmd(t, "analyze", "--map", "dot", pcap)
	if code != 0 || !strings.HasPrefix(strings.TrimSpace(out), "digraph") && !strings.HasPrefix(strings.TrimSpace(out), "graph") {
		t.Errorf("--map dot: code %d, output %.80q, stderr %q", code, out, errOut)
	}
	if code, _, errOut := runCmd(t, "analyze", "--map", "png", pcap); code != 2 {
		t.Errorf("--map png: code %d, stderr %q", code, errOut)
	}

	// A truncated copy: the error names the file and an offset, and the
	// summary of the packets before it is still printed.
	b, err := os.ReadFile(pcap)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.pcap")
	if err := os.WriteFile(cut, b[:len(b)*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCmd(t, "analyze", cut)
	if code != 1 || !strings.Contains(errOut, cut) || !strings.Contains(errOut, "offset") || !strings.Contains(out, "Packets:") {
		t.Errorf("truncated file: code %d\nstdout %q\nstderr %q", code, out, errOut)
	}
}

// openPcap opens a pcap file with gopacket's reader, closed when the test
// ends.
func openPcap(t *testing.T, path string) *pcapgo.Reader {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// countFrames counts the frames of a pcap file with gopacket's reader.
func countFrames(t *testing.T, path string) uint64 {
	t.Helper()
	r := openPcap(t, path)
	var n uint64
	for {
		_, _, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			t.Fatalf("%s frame %d: %v", path, n+1, err)
		}
		n++
	}
}

// oracleCounts is what an independent decoder finds in a capture.
type oracleCounts struct {
	flows     uint64
	bytes     uint64
	macs, ips int
}

// flowsByGopacket counts a capture's flows, bytes and addresses with
// gopacket's decoder. A flow here is a distinct bidirectional (VLAN, IP
// protocol, address pair, port pair), which is otwatch's flow key; otwatch
// also starts a new flow when a SYN reuses the 5-tuple of a closed TCP
// connection, or when a flow has been idle longer than its timeout (10 s
// after a TCP close, 2 minutes for UDP). The oracle fails the test when the
// capture holds either case, where the two definitions part. tshark's
// "-z conv,udp" is no oracle for this: Wireshark 4.0 lists the two
// directions of a UDP exchange between equal ports as two conversations.
func flowsByGopacket(t *testing.T, path string) oracleCounts {
	t.Helper()
	r := openPcap(t, path)
	type key struct {
		vlan   uint16
		proto  layers.IPProtocol
		a, b   string
		pa, pb uint16
	}
	type state struct {
		last   time.Time
		closed bool
	}
	flows := map[key]*state{}
	macs, ips := map[string]bool{}, map[string]bool{}
	var c oracleCounts
	for frame := 1; ; frame++ {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s frame %d: %v", path, frame, err)
		}
		c.bytes += uint64(ci.Length)
		p := gopacket.NewPacket(data, r.LinkType(), gopacket.Default)
		if el, ok := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet); ok {
			macs[el.SrcMAC.String()] = true
			macs[el.DstMAC.String()] = true
		}
		var k key
		if vl, ok := p.Layer(layers.LayerTypeDot1Q).(*layers.Dot1Q); ok {
			k.vlan = vl.VLANIdentifier
		}
		nl := p.NetworkLayer()
		if nl == nil || nl.LayerType() == layers.LayerTypeARP {
			continue
		}
		src, dst := nl.NetworkFlow().Endpoints()
		ips[src.String()] = true
		ips[dst.String()] = true
		var sport, dport uint16
		var tcp *layers.TCP
		switch l := p.TransportLayer().(type) {
		case *layers.TCP:
			k.proto, sport, dport, tcp = layers.IPProtocolTCP, uint16(l.SrcPort), uint16(l.DstPort), l
		case *layers.UDP:
			k.proto, sport, dport = layers.IPProtocolUDP, uint16(l.SrcPort), uint16(l.DstPort)
		default:
			t.Fatalf("%s frame %d: oracle handles only TCP and UDP, got %v", path, frame, p.Layers())
		}
		// Canonical order: the lower (address, port) is side a.
		as, ad := netip.MustParseAddr(src.String()).As16(), netip.MustParseAddr(dst.String()).As16()
		if cmp := bytes.Compare(as[:], ad[:]); cmp < 0 || cmp == 0 && sport <= dport {
			k.a, k.b, k.pa, k.pb = src.String(), dst.String(), sport, dport
		} else {
			k.a, k.b, k.pa, k.pb = dst.String(), src.String(), dport, sport
		}
		s := flows[k]
		if s == nil {
			s = &state{}
			flows[k] = s
		}
		if s.closed && (tcp.SYN || ci.Timestamp.Sub(s.last) > 10*time.Second) {
			t.Fatalf("%s frame %d: a closed TCP connection's 5-tuple is reused; "+
				"distinct 5-tuples no longer count otwatch's flows", path, frame)
		}
		if tcp != nil && (tcp.RST || tcp.FIN) {
			// A FIN closes the flow only once both sides sent one; taking
			// the first FIN is stricter.
			s.closed = true
		}
		s.last = ci.Timestamp
	}
	c.flows, c.macs, c.ips = uint64(len(flows)), len(macs), len(ips)
	return c
}
