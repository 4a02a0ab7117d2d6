package dissecttest

import (
	"bytes"
	"encoding/json"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/otwatch/otwatch/internal/capture"
	"github.com/otwatch/otwatch/internal/decode"
	"github.com/otwatch/otwatch/internal/testenv"
)

// CorpusDir returns $OTWATCH_CORPUS resolved like testenv.Corpus does, or
// "" (fuzz seeding must not fail without the corpus).
func CorpusDir() string {
	dir := os.Getenv("OTWATCH_CORPUS")
	if dir != "" && !filepath.IsAbs(dir) {
		dir = filepath.Join(testenv.ModuleRoot(), dir)
	}
	return dir
}

// UDPPayloads returns up to max UDP payloads to or from one of ports in
// the captures matching glob.
func UDPPayloads(t testing.TB, glob string, max int, ports ...uint16) [][]byte {
	return MatchingPayloads(t, glob, max, func(p *decode.Packet) bool {
		return p.Transport == decode.ProtoUDP && (slices.Contains(ports, p.SrcPort) || slices.Contains(ports, p.DstPort))
	})
}

// CorpusPayloads returns up to max payloads of the packets keep accepts in
// every capture of the shared corpus ($OTWATCH_CORPUS/*/*/capture.pcap*),
// or none without the corpus: fuzz seeding must not fail where it is
// missing.
func CorpusPayloads(t testing.TB, max int, keep func(*decode.Packet) bool) [][]byte {
	dir := CorpusDir()
	if dir == "" {
		return nil
	}
	return MatchingPayloads(t, filepath.Join(dir, "*", "*", "capture.pcap*"), max, keep)
}

// MatchingPayloads returns up to max payloads (the transport payload, or
// for a layer-2 protocol the bytes after the EtherType or LLC header) of
// the packets keep accepts in the captures matching glob, file by file.
func MatchingPayloads(t testing.TB, glob string, max int, keep func(*decode.Packet) bool) [][]byte {
	files, _ := filepath.Glob(glob)
	dec := decode.NewDecoder(decode.DefaultOptions)
	var p decode.Packet
	var out [][]byte
	for _, name := range files {
		src, err := capture.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		for len(out) < max {
			pkt, err := src.ReadPacket()
			if err != nil {
				break
			}
			if dec.Decode(pkt.LinkType, pkt.Data, pkt.Timestamp, &p) == nil && keep(&p) {
				out = append(out, bytes.Clone(p.Payload))
			}
		}
		src.Close()
	}
	return out
}

// Datagram is one UDP datagram of a test capture.
type Datagram struct {
	Src, Dst       netip.AddrPort
	SrcMAC, DstMAC net.HardwareAddr
	Payload        gopacket.SerializableLayer
}

// WriteUDP writes the datagrams as Ethernet/IPv4/UDP frames, one
// millisecond apart, into a pcap file in a temporary directory.
func WriteUDP(t testing.TB, grams ...Datagram) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "udp.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := capture.NewWriter(f, layers.LinkTypeEthernet, 0)
	ts := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	for _, g := range grams {
		e := &layers.Ethernet{SrcMAC: g.SrcMAC, DstMAC: g.DstMAC, EthernetType: layers.EthernetTypeIPv4}
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP,
			SrcIP: g.Src.Addr().AsSlice(), DstIP: g.Dst.Addr().AsSlice()}
		udp := &layers.UDP{SrcPort: layers.UDPPort(g.Src.Port()), DstPort: layers.UDPPort(g.Dst.Port())}
		if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
			e, ip, udp, g.Payload); err != nil {
			t.Fatal(err)
		}
		if err := w.WritePacket(ts, buf.Bytes(), 0); err != nil {
			t.Fatal(err)
		}
		ts = ts.Add(time.Millisecond)
	}
	return path
}

// TsharkFrames runs tshark over a capture and returns, per frame number
// matching filter, the values of fields (several occurrences joined by
// ",").
func TsharkFrames(t testing.TB, path, filter string, fields ...string) map[uint64][]string {
	t.Helper()
	bin := testenv.Program(t, "tshark", "tshark")
	args := []string{"-n", "-r", path, "-Y", filter, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,", "-e", "frame.number"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		t.Fatalf("tshark %v: %v", args, err)
	}
	rows := map[uint64][]string{}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if line == "" {
			continue
		}
		cols := strings.Split(line, "\t")
		n, err := strconv.ParseUint(cols[0], 10, 64)
		if err != nil {
			t.Fatalf("tshark line %q", line)
		}
		rows[n] = append(cols[1:], make([]string, len(fields)+1-len(cols))...)
	}
	return rows
}

// CorpusCaptures returns the corpus captures whose tshark protocol
// hierarchy contains layer (":dhcp").
func CorpusCaptures(t testing.TB, layer string) []string {
	t.Helper()
	dir := testenv.Corpus(t)
	oracles, _ := filepath.Glob(filepath.Join(dir, "*", "*", "oracle.json"))
	var out []string
	for _, o := range oracles {
		var doc struct {
			Hierarchy map[string][2]int `json:"protocol_hierarchy"`
		}
		b, err := os.ReadFile(o)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", o, err)
		}
		for k := range doc.Hierarchy {
			if strings.Contains(k+":", layer+":") {
				caps, _ := filepath.Glob(filepath.Join(filepath.Dir(o), "capture.pcap*"))
				out = append(out, caps...)
				break
			}
		}
	}
	return out
}

// CorpusCase is one corpus capture that tshark says carries a protocol.
type CorpusCase struct {
	Name, Capture string
	TsharkArgs    []string // decode-as arguments tshark needed
}

// CasesWithTCPLayer returns the corpus cases under dir whose oracle
// protocol hierarchy has a TCP path through one of layers (tshark's
// protocol names; NetBIOS session service allowed in between).
func CasesWithTCPLayer(t testing.TB, dir string, layers ...string) []CorpusCase {
	t.Helper()
	oracles, _ := filepath.Glob(filepath.Join(dir, "*", "*", "oracle.json"))
	var out []CorpusCase
	for _, o := range oracles {
		b, err := os.ReadFile(o)
		if err != nil {
			t.Fatal(err)
		}
		var oracle struct {
			Hierarchy  map[string][2]int `json:"protocol_hierarchy"`
			TsharkArgs []string          `json:"tshark_args"`
		}
		if err := json.Unmarshal(b, &oracle); err != nil {
			t.Fatalf("%s: %v", o, err)
		}
		found := false
		for path := range oracle.Hierarchy {
			for _, l := range layers {
				if strings.Contains(path, ":tcp:"+l) || strings.Contains(path, ":tcp:nbss:"+l) {
					found = true
				}
			}
		}
		if !found {
			continue
		}
		caps, _ := filepath.Glob(filepath.Join(filepath.Dir(o), "capture.pcap*"))
		if len(caps) == 0 {
			continue
		}
		rel, _ := filepath.Rel(dir, filepath.Dir(o))
		out = append(out, CorpusCase{Name: rel, Capture: caps[0], TsharkArgs: oracle.TsharkArgs})
	}
	return out
}
