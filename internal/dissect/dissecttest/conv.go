package dissecttest

import (
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/otwatch/otwatch/internal/capture"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/testenv"
)

// Conversation is one TCP connection written into a test capture: the
// three-way handshake, the messages in order (each cut into segments of
// at most mss bytes) and the closing FIN exchange.
type Conversation struct {
	Client, Server netip.AddrPort
	Msgs           []Message
	MSS            int // 0: 1400
}

// Message is the payload one side sends.
type Message struct {
	ToServer bool
	Data     string
}

// C2S is a message from the client.
func C2S(s string) Message { return Message{true, s} }

// S2C is a message from the server.
func S2C(s string) Message { return Message{false, s} }

// FeedMessages feeds the messages in order to a new session of d on a TCP
// flow to port, one chunk each (bytes left over are presented again with
// the next chunk of their direction, as reassembly does), closes the
// session and returns the operations it emitted. It fails the test when
// the session returns an error.
func FeedMessages(t testing.TB, d dissect.Dissector, port uint16, msgs ...Message) []*dissect.Operation {
	t.Helper()
	var c Collector
	flow := Flow(dissect.TransportTCP, port)
	f := &Feeder{Session: d.NewSession(flow), Ctx: Context(flow, &c)}
	for _, m := range msgs {
		dir := dissect.ToClient
		if m.ToServer {
			dir = dissect.ToServer
		}
		f.Feed(dir, []byte(m.Data))
	}
	if f.Err != nil {
		t.Fatalf("Feed: %v", f.Err)
	}
	f.Session.Close(f.Ctx)
	return c.Ops
}

// WriteTCP writes the conversations, one after the other, into a pcap
// file in a temporary directory and returns its path.
func WriteTCP(t testing.TB, convs ...Conversation) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "conversation.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := capture.NewWriter(f, layers.LinkTypeEthernet, 0)
	ts := Start
	for _, c := range convs {
		seq := [2]uint32{1000, 50000}
		send := func(toServer bool, flags string, payload []byte) {
			t.Helper()
			src, dst := c.Client, c.Server
			smac, dmac := net.HardwareAddr{0, 0x1b, 0x1b, 0, 0, 1}, net.HardwareAddr{0, 0x80, 0xf4, 0, 0, 2}
			i := 0
			if !toServer {
				src, dst, smac, dmac, i = dst, src, dmac, smac, 1
			}
			e := &layers.Ethernet{SrcMAC: smac, DstMAC: dmac, EthernetType: layers.EthernetTypeIPv4}
			ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP,
				SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
			tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()),
				Seq: seq[i], Ack: seq[1-i], Window: 65535}
			tcp.SYN = strings.Contains(flags, "S")
			tcp.ACK = strings.Contains(flags, "A")
			tcp.FIN = strings.Contains(flags, "F")
			tcp.PSH = len(payload) > 0
			if tcp.SYN && !tcp.ACK {
				tcp.Ack = 0
			}
			if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
				t.Fatal(err)
			}
			buf := gopacket.NewSerializeBuffer()
			if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
				e, ip, tcp, gopacket.Payload(payload)); err != nil {
				t.Fatal(err)
			}
			if err := w.WritePacket(ts, buf.Bytes(), 0); err != nil {
				t.Fatal(err)
			}
			ts = ts.Add(time.Millisecond)
			seq[i] += uint32(len(payload))
			if tcp.SYN || tcp.FIN {
				seq[i]++
			}
		}
		send(true, "S", nil)
		send(false, "SA", nil)
		send(true, "A", nil)
		mss := c.MSS
		if mss <= 0 {
			mss = 1400
		}
		for _, m := range c.Msgs {
			for d := []byte(m.Data); len(d) > 0; {
				n := min(len(d), mss)
				send(m.ToServer, "A", d[:n])
				d = d[n:]
			}
		}
		send(true, "FA", nil)
		send(false, "FA", nil)
		send(true, "A", nil)
		ts = ts.Add(time.Second)
	}
	return path
}

// TsharkFields runs tshark over a capture and returns, per frame that has
// any of the fields, every occurrence of each field.
func TsharkFields(t testing.TB, path string, extra []string, fields ...string) []map[string][]string {
	t.Helper()
	tshark := testenv.Program(t, "tshark", "tshark")
	args := append([]string{"-n", "-r", path}, extra...)
	args = append(args, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=\x1f", "-E", "separator=\x1e")
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	out, err := exec.Command(tshark, args...).Output()
	if err != nil {
		t.Fatalf("tshark %v: %v", args, err)
	}
	var rows []map[string][]string
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		cols := strings.Split(line, "\x1e")
		row := map[string][]string{}
		for i, c := range cols {
			if i < len(fields) && c != "" {
				row[fields[i]] = strings.Split(c, "\x1f")
			}
		}
		if len(row) > 0 {
			rows = append(rows, row)
		}
	}
	return rows
}

// TsharkValues returns every occurrence of one field over the capture.
func TsharkValues(t testing.TB, path string, extra []string, field string) []string {
	t.Helper()
	var out []string
	for _, row := range TsharkFields(t, path, extra, field) {
		out = append(out, row[field]...)
	}
	return out
}
