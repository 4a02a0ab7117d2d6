package pipeline

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/otwatch/otwatch/internal/capture"
	"github.com/otwatch/otwatch/internal/dissect"
	_ "github.com/otwatch/otwatch/internal/dissect/arp"
)

// recorder is a test dissector on TCP 7777 and UDP 7777 (and by probe for
// payloads starting with "REC!") that records what its sessions are fed.
type recorder struct{}

type recSession struct{ log *bytes.Buffer }

var recLog bytes.Buffer

func (recorder) Name() string                             { return "recorder" }
func (recorder) Probe(b []byte) bool                      { return bytes.HasPrefix(b, []byte("REC!")) }
func (recorder) NewSession(*dissect.Flow) dissect.Session { return &recSession{&recLog} }

// Feed consumes whole 4-byte records and emits one operation per record.
func (s *recSession) Feed(dir dissect.Direction, data []byte, ctx *dissect.Context) (int, error) {
	n := 0
	for len(data)-n >= 4 {
		rec := data[n : n+4]
		if string(rec) == "BOOM" {
			panic("recorder: boom")
		}
		s.log.WriteString(dir.String()[3:4] + string(rec) + " ")
		op := ctx.Op("recorder")
		op.FunctionName = string(rec)
		ctx.Emit(op)
		n += 4
	}
	return n, nil
}

func (s *recSession) Gap(dir dissect.Direction, lost int, ctx *dissect.Context) {
	s.log.WriteString("GAP ")
}

func (s *recSession) Close(ctx *dissect.Context) { s.log.WriteString("CLOSE") }

func init() { dissect.Register(recorder{}, dissect.TCP(7777), dissect.UDP(7777)) }

var (
	cliMAC = net.HardwareAddr{0x00, 0x1b, 0x1b, 0, 0, 1}
	srvMAC = net.HardwareAddr{0x00, 0x80, 0xf4, 0, 0, 2}
	cliIP  = net.IP{10, 10, 1, 20}
	srvIP  = net.IP{10, 10, 2, 10}
	t0     = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
)

type seg struct {
	toServer bool
	flags    string
	seq      uint32
	payload  string
}

func frame(t testing.TB, s seg, sport, dport uint16) []byte {
	t.Helper()
	e := &layers.Ethernet{SrcMAC: cliMAC, DstMAC: srvMAC, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: cliIP, DstIP: srvIP}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), Seq: s.seq, Window: 8192}
	if !s.toServer {
		e.SrcMAC, e.DstMAC = srvMAC, cliMAC
		ip.SrcIP, ip.DstIP = srvIP, cliIP
		tcp.SrcPort, tcp.DstPort = tcp.DstPort, tcp.SrcPort
	}
	for _, c := range s.flags {
		switch c {
		case 'S':
			tcp.SYN = true
		case 'A':
			tcp.ACK = true
		case 'F':
			tcp.FIN = true
		case 'R':
			tcp.RST = true
		}
	}
	tcp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, e, ip, tcp, gopacket.Payload(s.payload)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// keptFrames is an Evidence that keeps every frame.
type keptFrames map[uint64][][]byte

func (k keptFrames) Add(flow, index uint64, ts time.Time, lt layers.LinkType, data []byte, wireLen int) {
	k[flow] = append(k[flow], append([]byte(nil), data...))
}

type opLog []dissect.Operation

func (l *opLog) Emit(op *dissect.Operation) { *l = append(*l, *op.Clone()) }

func run(t *testing.T, segs []seg, dport uint16) (string, opLog, Stats) {
	t.Helper()
	recLog.Reset()
	var ops opLog
	p := New(Options{Emitter: &ops, Evidence: keptFrames{}})
	for i, s := range segs {
		p.Process(capture.Packet{Data: frame(t, s, 50000, dport), Timestamp: t0.Add(time.Duration(i) * time.Millisecond), LinkType: layers.LinkTypeEthernet})
	}
	p.Close()
	return recLog.String(), ops, p.Stats()
}

func TestStreamDispatch(t *testing.T) {
	hs := []seg{{true, "S", 99, ""}, {false, "SA", 499, ""}, {true, "A", 100, ""}}
	tests := []struct {
		name string
		segs []seg
		port uint16
		want string
		gaps uint64
		svc  string
	}{
		{"in order, records split across segments", append(hs[:3:3],
			seg{true, "A", 100, "ab"}, seg{true, "A", 102, "cdef"}, seg{false, "A", 500, "wxyz"}, seg{true, "A", 106, "gh"}),
			7777, "sabcd cwxyz sefgh CLOSE", 0, "recorder"},
		{"out of order and retransmitted", append(hs[:3:3],
			seg{true, "A", 104, "efgh"}, seg{true, "A", 100, "abcd"}, seg{true, "A", 100, "abcd"}),
			7777, "sabcd sefgh CLOSE", 0, "recorder"},
		{"hole is a gap, never glued", append(hs[:3:3],
			seg{true, "A", 100, "abcd"}, seg{true, "A", 108, "ijkl"}, seg{true, "FA", 112, ""}),
			7777, "sabcd GAP sijkl CLOSE", 1, "recorder"},
		{"probe on an unclaimed port", append(hs[:3:3],
			seg{true, "A", 100, "REC!"}, seg{true, "A", 104, "more"}),
			40000, "sREC! smore CLOSE", 0, "recorder"},
		{"panicking dissector is stopped", append(hs[:3:3],
			seg{true, "A", 100, "BOOM"}, seg{true, "A", 104, "next"}),
			7777, "", 0, "recorder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ops, st := run(t, tt.segs, tt.port)
			if got != tt.want {
				t.Errorf("session saw %q, want %q", got, tt.want)
			}
			if st.Gaps != tt.gaps {
				t.Errorf("gaps %d, want %d", st.Gaps, tt.gaps)
			}
			var svc []dissect.Operation
			for _, op := range ops {
				if op.Protocol == "service" {
					svc = append(svc, op)
				}
			}
			if len(svc) != 1 || svc[0].FunctionName != tt.svc || svc[0].Result.Status != dissect.StatusOK || svc[0].Server.Port != tt.port {
				t.Errorf("service operations %+v, want one %q ok on port %d", svc, tt.svc, tt.port)
			}
			if tt.name == "panicking dissector is stopped" && st.Panics != 1 {
				t.Errorf("panics %d, want 1", st.Panics)
			}
		})
	}
}

func TestServiceOperations(t *testing.T) {
	tests := []struct {
		name   string
		segs   []seg
		port   uint16
		status dissect.Status
		fn     string
		// ref is the packet the operation points at: the answer (the
		// second frame, index 1 of the only flow, id 1), or the SYN when
		// none came.
		ref dissect.PacketRef
	}{
		{"refused", []seg{{true, "S", 1, ""}, {false, "RA", 0, ""}}, 23, dissect.StatusError, "telnet", dissect.PacketRef{Flow: 1, Index: 1, Frame: 2}},
		{"no answer", []seg{{true, "S", 1, ""}}, 80, dissect.StatusUnknown, "http", dissect.PacketRef{Flow: 1, Index: 0, Frame: 1}},
		{"answered, unknown port", []seg{{true, "S", 1, ""}, {false, "SA", 5, ""}}, 31337, dissect.StatusOK, "unknown", dissect.PacketRef{Flow: 1, Index: 1, Frame: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ops, _ := run(t, tt.segs, tt.port)
			if len(ops) != 1 || ops[0].Protocol != "service" || ops[0].Result.Status != tt.status || ops[0].FunctionName != tt.fn {
				t.Fatalf("operations %+v, want one service %s %v", ops, tt.fn, tt.status)
			}
			op := ops[0]
			if op.Client.IP.String() != "10.10.1.20" || op.Server.IP.String() != "10.10.2.10" || op.Server.Port != tt.port || op.Client.Port != 50000 {
				t.Errorf("endpoints %+v → %+v", op.Client, op.Server)
			}
			if len(op.Packets) != 1 || op.Packets[0] != tt.ref {
				t.Errorf("packet references %+v, want [%+v]", op.Packets, tt.ref)
			}
		})
	}
}

func TestARPAndEvidence(t *testing.T) {
	e := &layers.Ethernet{SrcMAC: cliMAC, DstMAC: layers.EthernetBroadcast, EthernetType: layers.EthernetTypeARP}
	a := &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
		Operation: layers.ARPRequest, SourceHwAddress: cliMAC, SourceProtAddress: cliIP, DstHwAddress: make([]byte, 6), DstProtAddress: srvIP}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, e, a); err != nil {
		t.Fatal(err)
	}
	var ops opLog
	ring := keptFrames{}
	p := New(Options{Emitter: &ops, Evidence: ring})
	p.Process(capture.Packet{Data: buf.Bytes(), Timestamp: t0, LinkType: layers.LinkTypeEthernet, Length: len(buf.Bytes())})
	if len(ops) != 1 || ops[0].Protocol != "arp" || ops[0].FunctionName != "request" || ops[0].Client.IP.String() != "10.10.1.20" || ops[0].Server.IP.String() != "10.10.2.10" {
		t.Fatalf("ARP operations %+v", ops)
	}
	kept := ring[ops[0].Packets[0].Flow]
	if len(kept) != 1 || !bytes.Equal(kept[0], buf.Bytes()) {
		t.Errorf("evidence for the ARP frame: %d packets", len(kept))
	}
}
