package dhcp

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// bootp builds a message field by field from RFC 2131 section 2 (figure
// 1): op, htype 1, hlen 6, hops 0, xid, secs, flags, ciaddr, yiaddr,
// siaddr, giaddr, chaddr (16 octets), sname (64), file (128), then the
// magic cookie 99.130.83.99 (section 3) and the options given in hex
// (RFC 2132 section 2: code, length, value).
func bootp(t testing.TB, op byte, ciaddr, yiaddr, giaddr, chaddr string, options string) []byte {
	t.Helper()
	b := make([]byte, headerLen, 512)
	b[0], b[1], b[2] = op, 1, 6
	binary.BigEndian.PutUint32(b[4:], 0x3903f326)
	for i, a := range []string{ciaddr, yiaddr, "0.0.0.0", giaddr} {
		ip := netip.MustParseAddr(a).As4()
		copy(b[12+4*i:], ip[:])
	}
	copy(b[28:], dissecttest.Hex(t, chaddr))
	b = append(b, 0x63, 0x82, 0x53, 0x63)
	return append(b, dissecttest.Hex(t, options)...)
}

func facts(op *dissect.Operation) string {
	var parts []string
	for _, f := range op.Identity {
		s := f.Key + "=" + f.Value
		if f.Server {
			s += "(server)"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

const mac = "001b1b8a2211"

func TestMessages(t *testing.T) {
	// Option values in hex: 35 = 53 message type, 0c = 12 host name,
	// 3c = 60 vendor class, 3d = 61 client id, 37 = 55 parameter list,
	// 32 = 50 requested address, 36 = 54 server id, ff = end.
	tests := []struct {
		name      string
		in        []byte
		fn        string
		code      int
		status    dissect.Status
		req, resp bool
		client    string // op.Client.IP ("invalid IP" when none)
		facts     string
		attrs     map[string]string
	}{
		{"discover (RFC 2131 4.4.1)", bootp(t, 1, "0.0.0.0", "0.0.0.0", "0.0.0.0", mac,
			"350101 0c06504c432d3031 3c084d5346542035 2e30 3d0701001b1b8a2211 3704 01030f06 ff"),
			"discover", 1, dissect.StatusOK, true, false, "10.10.1.20",
			"hostname=PLC-01 vendor_class=MSFT 5.0",
			map[string]string{"chaddr": "00:1b:1b:8a:22:11", "hostname": "PLC-01", "vendor_class": "MSFT 5.0",
				"client_id": "01:00:1b:1b:8a:22:11", "param_list": "1,3,15,6"}},
		{"offer", bootp(t, 2, "0.0.0.0", "10.10.1.50", "0.0.0.0", mac, "350102 36040a0a0101 ff"),
			"offer", 2, dissect.StatusOK, false, true, "10.10.1.20", "",
			map[string]string{"yiaddr": "10.10.1.50", "server_id": "10.10.1.1"}},
		{"request selecting (RFC 2131 4.3.2)", bootp(t, 1, "0.0.0.0", "0.0.0.0", "0.0.0.0", mac,
			"350103 32040a0a0132 36040a0a0101 0c06504c432d3031 ff"),
			"request", 3, dissect.StatusOK, true, false, "10.10.1.20", "hostname=PLC-01",
			map[string]string{"requested_ip": "10.10.1.50", "server_id": "10.10.1.1"}},
		{"ack binds yiaddr", bootp(t, 2, "0.0.0.0", "10.10.1.50", "0.0.0.0", mac, "350105 36040a0a0101 ff"),
			"ack", 5, dissect.StatusOK, false, true, "10.10.1.50", "ip=10.10.1.50",
			map[string]string{"yiaddr": "10.10.1.50"}},
		{"nak", bootp(t, 2, "0.0.0.0", "0.0.0.0", "0.0.0.0", mac, "350106 36040a0a0101 ff"),
			"nak", 6, dissect.StatusError, false, true, "10.10.1.20", "", nil},
		{"inform from a configured client (RFC 2131 4.4.3)", bootp(t, 1, "10.10.1.77", "0.0.0.0", "0.0.0.0", mac, "350108 ff"),
			"inform", 8, dissect.StatusOK, true, false, "10.10.1.77", "", nil},
		{"release", bootp(t, 1, "10.10.1.50", "0.0.0.0", "0.0.0.0", mac, "350107 ff"),
			"release", 7, dissect.StatusOK, true, false, "10.10.1.50", "", nil},
		{"decline", bootp(t, 1, "0.0.0.0", "0.0.0.0", "0.0.0.0", mac, "350104 32040a0a0132 ff"),
			"decline", 4, dissect.StatusOK, true, false, "10.10.1.20", "", nil},
		{"relayed discover", bootp(t, 1, "0.0.0.0", "0.0.0.0", "10.20.0.1", mac, "350101 ff"),
			"discover", 1, dissect.StatusOK, true, false, "invalid IP", "",
			map[string]string{"relay": "10.20.0.1"}},
		{"BOOTP without option 53 (RFC 951)", bootp(t, 1, "0.0.0.0", "0.0.0.0", "0.0.0.0", mac, "ff"),
			"bootp_request", 0, dissect.StatusOK, true, false, "10.10.1.20", "", nil},
		{"option overload puts the host name in file (RFC 2132 9.3)", func() []byte {
			b := bootp(t, 1, "0.0.0.0", "0.0.0.0", "0.0.0.0", mac, "350101 340101 ff")
			copy(b[108:], dissecttest.Hex(t, "0c04484d4931 ff"))
			return b
		}(), "discover", 1, dissect.StatusOK, true, false, "10.10.1.20", "hostname=HMI1", nil},
		{"short", dissecttest.Hex(t, "0101060039 03f326"),
			"malformed", 0, dissect.StatusMalformed, false, false, "10.10.1.20", "", nil},
		{"bad magic cookie", func() []byte {
			b := bootp(t, 1, "0.0.0.0", "0.0.0.0", "0.0.0.0", mac, "350101 ff")
			b[headerLen] = 0
			return b
		}(), "malformed", 0, dissect.StatusMalformed, false, false, "10.10.1.20", "", nil},
		{"option past the end", bootp(t, 1, "0.0.0.0", "0.0.0.0", "0.0.0.0", mac, "350101 0c20414243"),
			"malformed", 0, dissect.StatusMalformed, false, false, "10.10.1.20", "", nil},
		{"op 3", func() []byte {
			b := bootp(t, 1, "0.0.0.0", "0.0.0.0", "0.0.0.0", mac, "350101 ff")
			b[0] = 3
			return b
		}(), "malformed", 0, dissect.StatusMalformed, false, false, "10.10.1.20", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c dissecttest.Collector
			flow := dissecttest.Flow(dissect.TransportUDP, ServerPort)
			s := Dissector{}.NewSession(flow)
			ctx := dissecttest.Context(flow, &c)
			dir := dissect.ToServer
			if tt.resp {
				dir = dissect.ToClient
			}
			if n, err := s.Feed(dir, tt.in, ctx); n != len(tt.in) || err != nil {
				t.Fatalf("Feed = %d, %v", n, err)
			}
			if len(c.Ops) != 1 {
				t.Fatalf("%d operations, want 1", len(c.Ops))
			}
			op := c.Ops[0]
			if op.FunctionName != tt.fn || op.FunctionCode != tt.code || op.Result.Status != tt.status {
				t.Errorf("function %s (%d) %v, want %s (%d) %v", op.FunctionName, op.FunctionCode, op.Result.Status, tt.fn, tt.code, tt.status)
			}
			if op.Request != tt.req || op.Response != tt.resp {
				t.Errorf("request %v response %v, want %v %v", op.Request, op.Response, tt.req, tt.resp)
			}
			if tt.status != dissect.StatusMalformed {
				if op.Class != dissect.ClassDiscovery {
					t.Errorf("class %v", op.Class)
				}
				if op.Client.MAC.String() != "00:1b:1b:8a:22:11" {
					t.Errorf("client MAC %v", op.Client.MAC)
				}
				if op.Server.IP.String() != "10.10.2.10" {
					t.Errorf("server %v, want the flow's server 10.10.2.10", op.Server.IP)
				}
			}
			if got := op.Client.IP.String(); got != tt.client {
				t.Errorf("client IP %s, want %s", got, tt.client)
			}
			if got := facts(op); got != tt.facts {
				t.Errorf("facts %q, want %q", got, tt.facts)
			}
			for k, v := range tt.attrs {
				if got := op.Attr(k); got != v {
					t.Errorf("attr %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

// An OFFER broadcast by the server opens its own flow in which the server
// sent first (the flow's client); the operation still names the DHCP
// server as its server.
func TestReplyOrientation(t *testing.T) {
	flow := &dissect.Flow{ID: 2, Transport: dissect.TransportUDP,
		Client: dissect.Endpoint{IP: netip.MustParseAddr("10.10.1.1"), Port: ServerPort},
		Server: dissect.Endpoint{IP: netip.MustParseAddr("255.255.255.255"), Port: ClientPort}}
	var c dissecttest.Collector
	s := Dissector{}.NewSession(flow)
	s.Feed(dissect.ToServer, bootp(t, 2, "0.0.0.0", "10.10.1.50", "0.0.0.0", mac, "350102 ff"), dissecttest.Context(flow, &c))
	op := c.Ops[0]
	if op.Server.IP.String() != "10.10.1.1" || op.Server.Port != ServerPort || op.Client.Port != ClientPort {
		t.Errorf("client %v server %v, want the DHCP server 10.10.1.1:67 as server", op.Client, op.Server)
	}

	// A DISCOVER from a client without an address (RFC 2131 4.1: source
	// 0.0.0.0, destination 255.255.255.255) names no client address.
	flow = &dissect.Flow{ID: 3, Transport: dissect.TransportUDP,
		Client: dissect.Endpoint{IP: netip.MustParseAddr("0.0.0.0"), Port: ClientPort},
		Server: dissect.Endpoint{IP: netip.MustParseAddr("255.255.255.255"), Port: ServerPort}}
	s = Dissector{}.NewSession(flow)
	s.Feed(dissect.ToServer, bootp(t, 1, "0.0.0.0", "0.0.0.0", "0.0.0.0", mac, "350101 ff"), dissecttest.Context(flow, &c))
	op = c.Ops[1]
	if op.Client.IP.IsValid() || op.Client.MAC.String() != "00:1b:1b:8a:22:11" || op.Client.Port != ClientPort {
		t.Errorf("client %v, want only the MAC 00:1b:1b:8a:22:11 and port 68", op.Client)
	}
}

// DHCP over TCP is framed by a two-octet message size (RFC 6926 6.1).
func TestTCPFraming(t *testing.T) {
	m := bootp(t, 1, "10.10.1.50", "0.0.0.0", "0.0.0.0", mac, "35010a ff")
	var stream []byte
	for range 2 {
		stream = binary.BigEndian.AppendUint16(stream, uint16(len(m)))
		stream = append(stream, m...)
	}
	flow := dissecttest.Flow(dissect.TransportTCP, ServerPort)
	var c dissecttest.Collector
	f := &dissecttest.Feeder{Session: Dissector{}.NewSession(flow), Ctx: dissecttest.Context(flow, &c)}
	f.Feed(dissect.ToServer, stream[:100])
	f.Feed(dissect.ToServer, stream[100:])
	if len(c.Ops) != 2 || c.Ops[0].FunctionName != "leasequery" || c.Ops[1].FunctionCode != 10 {
		t.Fatalf("operations %s", c.JSONL())
	}
	if !(Dissector{}).Probe(stream[:2+len(m)]) || !(Dissector{}).Probe(m) || (Dissector{}).Probe(m[:200]) {
		t.Error("Probe does not recognise DHCP by its magic cookie")
	}
}

func discoverMessage(t testing.TB) []byte {
	return bootp(t, 1, "0.0.0.0", "0.0.0.0", "0.0.0.0", mac,
		"350101 0c06504c432d3031 3c084d5346542035 2e30 3d0701001b1b8a2211 370c 010f03062c2e2f1f2179f92b ff")
}

func TestNoAllocation(t *testing.T) {
	m := discoverMessage(t)
	flow := dissecttest.Flow(dissect.TransportUDP, ServerPort)
	s := Dissector{}.NewSession(flow)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	s.Feed(dissect.ToServer, m, ctx)
	if n := testing.AllocsPerRun(100, func() { s.Feed(dissect.ToServer, m, ctx) }); n != 0 {
		t.Errorf("%v allocations per message, want 0", n)
	}
}

func BenchmarkFeed(b *testing.B) {
	m := discoverMessage(b)
	flow := dissecttest.Flow(dissect.TransportUDP, ServerPort)
	s := Dissector{}.NewSession(flow)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	b.ReportAllocs()
	b.SetBytes(int64(len(m)))
	for b.Loop() {
		s.Feed(dissect.ToServer, m, ctx)
	}
}
