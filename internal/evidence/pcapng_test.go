package evidence

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/otwatch/otwatch/internal/testenv"
)

// stored is one frame built for the pcapng tests, with what an independent
// reader must find in it.
type stored struct {
	flow     uint64
	ts       time.Time
	lt       layers.LinkType
	data     []byte
	src, dst string
	comment  string
}

// buildFrames makes real frames with gopacket, checksums computed: a Modbus/TCP
// exchange over Ethernet (flow 1) and UDP datagrams as raw IPv4 (flow 2),
// interleaved in time, with nanosecond timestamps.
func buildFrames(t *testing.T) []stored {
	t.Helper()
	ser := func(ls ...gopacket.SerializableLayer) []byte {
		buf := gopacket.NewSerializeBuffer()
		err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...)
		if err != nil {
			t.Fatal(err)
		}
		return bytes.Clone(buf.Bytes())
	}
	hmi, plc := net.IPv4(10, 0, 0, 1).To4(), net.IPv4(10, 0, 0, 2).To4()
	eng, rtu := net.IPv4(192, 168, 1, 10).To4(), net.IPv4(192, 168, 1, 20).To4()
	macA, macB := net.HardwareAddr{2, 0, 0, 0, 0, 1}, net.HardwareAddr{2, 0, 0, 0, 0, 2}
	var out []stored
	base := time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC)
	for i := range 6 {
		// Read holding registers 0x6b..0x6d (request) and its answer, on
		// one coherent TCP connection.
		k := uint32(i / 2)
		src, dst, sport, dport := hmi, plc, layers.TCPPort(50000), layers.TCPPort(502)
		seq, ack := 1000+12*k, 5000+15*k
		pdu := []byte{0, byte(k), 0, 0, 0, 6, 1, 3, 0, 0x6b, 0, 3}
		if i%2 == 1 {
			src, dst, sport, dport = plc, hmi, 502, 50000
			seq, ack = 5000+15*k, 1000+12*(k+1)
			pdu = []byte{0, byte(k), 0, 0, 0, 9, 1, 3, 6, 0, 1, 0, 2, 0, byte(k)}
		}
		ip := &layers.IPv4{Version: 4, TTL: 64, Id: uint16(i), Protocol: layers.IPProtocolTCP, SrcIP: src, DstIP: dst}
		tcp := &layers.TCP{SrcPort: sport, DstPort: dport, Seq: seq, Ack: ack, PSH: true, ACK: true, Window: 8192}
		if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		data := ser(&layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4}, ip, tcp, gopacket.Payload(pdu))
		out = append(out, stored{1, base.Add(time.Duration(i)*time.Second + time.Duration(i)), layers.LinkTypeEthernet,
			data, src.String(), dst.String(), ""})
	}
	for i := range 4 {
		ip := &layers.IPv4{Version: 4, TTL: 32, Id: uint16(100 + i), Protocol: layers.IPProtocolUDP, SrcIP: eng, DstIP: rtu}
		udp := &layers.UDP{SrcPort: 40000, DstPort: 20000}
		if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		data := ser(ip, udp, gopacket.Payload(bytes.Repeat([]byte{byte(i)}, 10+i)))
		out = append(out, stored{2, base.Add(time.Duration(2*i+1)*time.Second/2 + 7), layers.LinkTypeRaw,
			data, eng.String(), rtu.String(), ""})
	}
	out[3].comment = "trigger"
	out[8].comment = "zweiter Auslöser, ünïcode"
	return out
}

// writeEvidence stores the frames in a Ring, reads both flows back and
// writes them as one pcapng file; it returns the file and the frames in the
// order the file must hold them.
func writeEvidence(t *testing.T, frames []stored, comment string) (string, []stored) {
	t.Helper()
	r := New(Options{ArenaBytes: 1 << 16})
	for i, f := range frames {
		r.Add(f.flow, uint64(i), f.ts, f.lt, f.data, len(f.data))
	}
	var pkts []Packet
	for _, flow := range []uint64{2, 1} {
		pkts = append(pkts, r.Packets(flow, time.Time{}, time.Time{})...)
	}
	for i := range pkts {
		pkts[i].Comment = frames[pkts[i].Index].comment
	}
	var buf bytes.Buffer
	if err := WritePcapng(&buf, pkts, WriteOptions{Comment: comment}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "evidence.pcapng")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	want := append([]stored(nil), frames...)
	// By time: the hand-computed order of the two interleaved flows.
	// Flow 1 at 0, 1, 2, 3, 4, 5 s; flow 2 at 0.5, 1.5, 2.5, 3.5 s.
	order := []int{0, 6, 1, 7, 2, 8, 3, 9, 4, 5}
	for i, j := range order {
		want[i] = frames[j]
	}
	return path, want
}

func TestWritePcapngTshark(t *testing.T) {
	tshark := testenv.Program(t, "tshark", "tshark")
	frames := buildFrames(t)
	const title = "Modbus write to PLC 10.0.0.2 (T0836)"
	path, want := writeEvidence(t, frames, title)

	out, err := exec.Command(tshark, "-n", "-r", path,
		"-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
		"-T", "fields", "-E", "separator=|",
		"-e", "frame.number", "-e", "frame.time_epoch", "-e", "frame.comment", "-e", "ip.src", "-e", "ip.dst",
		"-e", "frame.interface_id", "-e", "frame.len", "-e", "frame.cap_len",
		"-e", "ip.checksum.status", "-e", "tcp.checksum.status", "-e", "udp.checksum.status",
		"-e", "_ws.malformed", "-e", "_ws.expert.severity").Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(want) {
		t.Fatalf("tshark sees %d packets, want %d:\n%s", len(lines), len(want), out)
	}
	for i, line := range lines {
		w := want[i]
		iface := 0 // interfaces in order of first appearance: Ethernet first
		if w.lt == layers.LinkTypeRaw {
			iface = 1
		}
		wantLine := fmt.Sprintf("%d|%d.%09d|%s|%s|%s|%d|%d|%d|", i+1, w.ts.Unix(), w.ts.Nanosecond(), w.comment,
			w.src, w.dst, iface, len(w.data), len(w.data))
		if !strings.HasPrefix(line, wantLine) {
			t.Errorf("tshark line %d:\n got %s\nwant %s…", i+1, line, wantLine)
			continue
		}
		// Checksums: the IPv4 header and the transport checksum must be good
		// (status 1); nothing malformed; the only expert item is the packet
		// comment's, at severity PI_COMMENT (0x00100000).
		status := strings.Split(strings.TrimPrefix(line, wantLine), "|")
		expert := ""
		if w.comment != "" {
			expert = "1048576"
		}
		wantStatus := []string{"1", "1", "", "", expert}
		if w.flow == 2 {
			wantStatus = []string{"1", "", "1", "", expert}
		}
		if fmt.Sprint(status) != fmt.Sprint(wantStatus) {
			t.Errorf("tshark line %d: checksum status, malformed, expert = %q, want %q", i+1, status, wantStatus)
		}
	}

	capinfos := testenv.Program(t, "capinfos", "tshark")
	out, err = exec.Command(capinfos, "-M", "-c", "-k", "-t", path).CombinedOutput()
	if err != nil {
		t.Fatalf("capinfos: %v\n%s", err, out)
	}
	for _, want := range []string{
		"File type:           pcapng",
		"Number of packets:   10",
		"Capture comment:     " + title,
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("capinfos output lacks %q:\n%s", want, out)
		}
	}
}

func TestWritePcapngNgReader(t *testing.T) {
	frames := buildFrames(t)
	path, want := writeEvidence(t, frames, "section")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := pcapgo.NewNgReader(f, pcapgo.NgReaderOptions{WantMixedLinkType: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range want {
		data, ci, po, err := rd.ReadPacketDataWithOptions()
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if got, want := strings.Join(po.Comments, ","), w.comment; got != want {
			t.Errorf("packet %d: comment %q, want %q", i, got, want)
		}
		if !bytes.Equal(data, w.data) || !ci.Timestamp.Equal(w.ts) || ci.Length != len(w.data) {
			t.Errorf("packet %d: %d bytes at %v (wire %d), want %d bytes at %v", i, len(data), ci.Timestamp, ci.Length, len(w.data), w.ts)
		}
		intf, err := rd.Interface(ci.InterfaceIndex)
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if intf.LinkType != w.lt {
			t.Errorf("packet %d: interface link type %v, want %v", i, intf.LinkType, w.lt)
		}
		if p := gopacket.NewPacket(data, w.lt, gopacket.Default); p.ErrorLayer() != nil {
			t.Errorf("packet %d does not decode: %v", i, p.ErrorLayer().Error())
		}
	}
	if _, _, err := rd.ReadPacketData(); err != io.EOF {
		t.Errorf("after %d packets: err = %v, want io.EOF", len(want), err)
	}
	if n := rd.NInterfaces(); n != 2 {
		t.Errorf("%d interfaces, want 2 (Ethernet, raw IP)", n)
	}
	if got := rd.SectionInfo().Comment; got != "section" {
		t.Errorf("section comment %q, want %q", got, "section")
	}
}

func TestWritePcapngEdges(t *testing.T) {
	long := strings.Repeat("é", 40000) // 80000 bytes, more than an option holds
	tests := []struct {
		name        string
		pkts        []Packet
		opts        WriteOptions
		wantPackets int
		wantComment int // bytes of the section comment read back
	}{
		{"no packets", nil, WriteOptions{}, 0, 0},
		{"long comments are cut at a rune", []Packet{{Timestamp: t0, LinkType: layers.LinkTypeEthernet, Data: frame(1, 0, 60), Length: 60, Comment: long}},
			WriteOptions{Comment: long}, 1, 0xFFFC},
		{"length below captured bytes", []Packet{{Timestamp: t0, LinkType: layers.LinkTypeEthernet, Data: frame(1, 0, 60), Length: 10}},
			WriteOptions{}, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WritePcapng(&buf, tt.pkts, tt.opts); err != nil {
				t.Fatal(err)
			}
			rd, err := pcapgo.NewNgReader(&buf, pcapgo.NgReaderOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if c := rd.SectionInfo().Comment; len(c) != tt.wantComment || !strings.HasPrefix(long, c) {
				t.Errorf("section comment of %d bytes, want %d bytes of the original", len(c), tt.wantComment)
			}
			n := 0
			for {
				data, ci, err := rd.ReadPacketData()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if ci.Length < len(data) {
					t.Errorf("wire length %d below %d captured bytes", ci.Length, len(data))
				}
				n++
			}
			if n != tt.wantPackets {
				t.Errorf("%d packets read back, want %d", n, tt.wantPackets)
			}
		})
	}
}
