package dns

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

func attrs(op *dissect.Operation, key string) string {
	var v []string
	for _, a := range op.Attrs {
		if a.Key == key {
			v = append(v, a.Value)
		}
	}
	return strings.Join(v, ",")
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

func targets(op *dissect.Operation) string {
	var v []string
	for _, t := range op.Targets {
		v = append(v, t.Name)
	}
	return strings.Join(v, ",")
}

// Messages written from RFC 1035 4.1: header (id, flags, QD/AN/NS/AR
// counts), question (name, type, class), resource records (name, type,
// class, TTL, RDLENGTH, RDATA). "c00c" is a pointer to offset 12, the
// question name (4.1.4).
const (
	// id 0x1a2b, RD; one question plc01.plant.local A IN.
	queryA = "1a2b 0100 0001 0000 0000 0000 05706c633031 05706c616e74 056c6f63616c 00 0001 0001"
	// The response: QR RD RA, one answer plc01.plant.local A 10.10.1.50.
	respA = "1a2b 8180 0001 0001 0000 0000 05706c633031 05706c616e74 056c6f63616c 00 0001 0001" +
		" c00c 0001 0001 00000e10 0004 0a0a0132"
	// NXDOMAIN (rcode 3) for the same question.
	respNX = "1a2b 8183 0001 0000 0000 0000 05706c633031 05706c616e74 056c6f63616c 00 0001 0001"
	// id 7, PTR query 50.1.10.10.in-addr.arpa and its answer hmi1.plant.local.
	respPTR = "0007 8180 0001 0001 0000 0000 023530 0131 023130 023130 07696e2d61646472 0461727061 00 000c 0001" +
		" c00c 000c 0001 00000e10 0012 04686d6931 05706c616e74 056c6f63616c 00"
	// id 8, www.example.com: CNAME edge.example.com, which has AAAA 2001:db8::1.
	respCNAME = "0008 8180 0001 0002 0000 0000 03777777 076578616d706c65 03636f6d 00 001c 0001" +
		" c00c 0005 0001 0000003c 0007 0465646765 c010" +
		" c02d 001c 0001 0000003c 0010 20010db8000000000000000000000001"
)

func TestMessages(t *testing.T) {
	tests := []struct {
		name      string
		d         Dissector
		msgs      []string // alternately to server, to client
		fn        string
		status    dissect.Status
		code      int
		text      string
		req, resp bool
		targets   string
		qtype     string
		facts     string
		ips       string
		cname     string
		packets   int
	}{
		{"A query and answer", DNS, []string{queryA, respA}, "query", dissect.StatusOK, 0, "", true, true,
			"plc01.plant.local", "A", "hostname=plc01.plant.local", "10.10.1.50", "", 2},
		{"nxdomain", DNS, []string{queryA, respNX}, "query", dissect.StatusError, 3, "nxdomain", true, true,
			"plc01.plant.local", "A", "", "", "", 2},
		{"response without its query", DNS, []string{"", respPTR}, "query", dissect.StatusOK, 0, "", false, true,
			"50.1.10.10.in-addr.arpa", "PTR", "hostname=hmi1.plant.local", "10.10.1.50", "", 1},
		{"cname chain to AAAA", DNS, []string{"", respCNAME}, "query", dissect.StatusOK, 0, "", false, true,
			"www.example.com", "AAAA", "hostname=edge.example.com", "2001:db8::1", "edge.example.com", 1},
		{"unanswered query, reported at close", DNS, []string{queryA}, "query", dissect.StatusUnknown, 0, "", true, false,
			"plc01.plant.local", "A", "", "", "", 1},
		{"mdns response (RFC 6762 18: id 0, AA), cache-flush class", MDNS,
			[]string{"", "0000 8400 0000 0001 0000 0000 05706c633031 056c6f63616c 00 0001 8001 00000078 0004 0a0a020a"},
			"query", dissect.StatusOK, 0, "", false, true, "", "", "hostname=plc01.local(server)", "10.10.2.10", "", 1},
		{"llmnr query (RFC 4795 2.1.1) is reported at once", LLMNR,
			[]string{"4d2e 0000 0001 0000 0000 0000 05706c633031 00 0001 0001"},
			"query", dissect.StatusUnknown, 0, "", true, false, "plc01", "A", "", "", "", 1},
		{"short header", DNS, []string{"1a2b 0100 0001"}, "malformed", dissect.StatusMalformed, 0, "", false, false,
			"", "", "", "", "", 1},
		{"pointer loop (4.1.4 pointers point to prior occurrences)", DNS,
			[]string{"1a2b 0100 0001 0000 0000 0000 c00c 0001 0001"}, "query", dissect.StatusMalformed, 0, "", true, false,
			"", "", "", "", "", 1},
		{"forward pointer", DNS,
			[]string{"1a2b 0100 0001 0000 0000 0000 c012 0001 0001 0161 00"}, "query", dissect.StatusMalformed, 0, "", true, false,
			"", "", "", "", "", 1},
		{"record past the end", DNS, []string{"", respA[:len(respA)-4]}, "query", dissect.StatusMalformed, 0, "", false, true,
			"", "", "", "", "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c dissecttest.Collector
			flow := dissecttest.Flow(dissect.TransportUDP, 53)
			s := tt.d.NewSession(flow)
			ctx := dissecttest.Context(flow, &c)
			for i, m := range tt.msgs {
				if m == "" {
					continue
				}
				dir := dissect.Direction(i % 2)
				ctx.Packet.Index = uint64(i)
				b := dissecttest.Hex(t, m)
				if n, err := s.Feed(dir, b, ctx); n != len(b) || err != nil {
					t.Fatalf("Feed = %d, %v", n, err)
				}
			}
			s.Close(ctx)
			if len(c.Ops) != 1 {
				t.Fatalf("%d operations, want 1:\n%s", len(c.Ops), c.JSONL())
			}
			op := c.Ops[0]
			if op.Protocol != tt.d.Name() || op.FunctionName != tt.fn || op.Result.Status != tt.status ||
				op.Result.Code != tt.code || (tt.text != "" && op.Result.Text != tt.text) {
				t.Errorf("%s %s %v %d %q, want %s %s %v %d %q", op.Protocol, op.FunctionName, op.Result.Status, op.Result.Code, op.Result.Text,
					tt.d.Name(), tt.fn, tt.status, tt.code, tt.text)
			}
			if op.Request != tt.req || op.Response != tt.resp {
				t.Errorf("request %v response %v, want %v %v", op.Request, op.Response, tt.req, tt.resp)
			}
			if tt.status == dissect.StatusMalformed {
				return
			}
			if op.Class != dissect.ClassDiscovery {
				t.Errorf("class %v", op.Class)
			}
			if got := targets(op); got != tt.targets {
				t.Errorf("targets %q, want %q", got, tt.targets)
			}
			if got := attrs(op, "qtype"); got != tt.qtype {
				t.Errorf("qtype %q, want %q", got, tt.qtype)
			}
			if got := facts(op); got != tt.facts {
				t.Errorf("facts %q, want %q", got, tt.facts)
			}
			if got := attrs(op, "ip"); got != tt.ips {
				t.Errorf("ip %q, want %q", got, tt.ips)
			}
			if got := attrs(op, "cname"); got != tt.cname {
				t.Errorf("cname %q, want %q", got, tt.cname)
			}
			if len(op.Packets) != tt.packets {
				t.Errorf("packets %v, want %d", op.Packets, tt.packets)
			}
		})
	}
}

// DNS over TCP prefixes each message with its length (RFC 1035 4.2.2).
func TestTCP(t *testing.T) {
	frame := func(h string) []byte {
		b := dissecttest.Hex(t, h)
		return append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...)
	}
	q, r := frame(queryA), frame(respA)
	flow := dissecttest.Flow(dissect.TransportTCP, 53)
	var c dissecttest.Collector
	f := &dissecttest.Feeder{Session: DNS.NewSession(flow), Ctx: dissecttest.Context(flow, &c)}
	f.Feed(dissect.ToServer, q[:5])
	f.Feed(dissect.ToServer, q[5:])
	f.Feed(dissect.ToClient, r[:1])
	f.Feed(dissect.ToClient, r[1:])
	f.Session.Close(f.Ctx)
	if len(c.Ops) != 1 || !c.Ops[0].Request || !c.Ops[0].Response || facts(c.Ops[0]) != "hostname=plc01.plant.local" {
		t.Fatalf("operations:\n%s", c.JSONL())
	}
	if !DNS.Probe(q) || !DNS.Probe(q[2:]) || DNS.Probe(r[2:]) || MDNS.Probe(q[2:]) {
		t.Error("Probe: want only plain DNS queries recognised")
	}
}

// A query left unanswered longer than the pairing window is reported with
// its own packet when the next message of the flow arrives.
func TestPairingWindow(t *testing.T) {
	flow := dissecttest.Flow(dissect.TransportUDP, 53)
	var c dissecttest.Collector
	s := DNS.NewSession(flow)
	ctx := dissecttest.Context(flow, &c)
	ctx.Packet.Index = 0
	s.Feed(dissect.ToServer, dissecttest.Hex(t, queryA), ctx)
	ctx.Time = ctx.Time.Add(pairWindow + time.Second)
	ctx.Packet.Index = 1
	s.Feed(dissect.ToClient, dissecttest.Hex(t, respA), ctx)
	if len(c.Ops) != 2 || c.Ops[0].Response || c.Ops[0].Packets[0].Index != 0 || c.Ops[1].Request {
		t.Fatalf("operations:\n%s", c.JSONL())
	}
}

func TestReverseAddr(t *testing.T) {
	for name, want := range map[string]string{
		"4.3.2.1.in-addr.arpa": "1.2.3.4",
		"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa": "2001:db8::1", // RFC 3596 2.5
		"3.2.1.in-addr.arpa":     "",
		"256.3.2.1.in-addr.arpa": "",
		"_tcp.local":             "",
	} {
		a, ok := reverseAddr([]byte(name))
		got := ""
		if ok {
			got = a.String()
		}
		if got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}

func TestNoAllocation(t *testing.T) {
	q, r := dissecttest.Hex(t, queryA), dissecttest.Hex(t, respA)
	flow := dissecttest.Flow(dissect.TransportUDP, 53)
	s := DNS.NewSession(flow)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	exchange := func() {
		s.Feed(dissect.ToServer, q, ctx)
		s.Feed(dissect.ToClient, r, ctx)
	}
	exchange()
	if n := testing.AllocsPerRun(100, exchange); n != 0 {
		t.Errorf("%v allocations per query and response, want 0", n)
	}
}

func BenchmarkExchange(b *testing.B) {
	q, r := dissecttest.Hex(b, queryA), dissecttest.Hex(b, respA)
	flow := dissecttest.Flow(dissect.TransportUDP, 53)
	flow.Server.IP = netip.MustParseAddr("10.10.0.53")
	s := DNS.NewSession(flow)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	b.ReportAllocs()
	b.SetBytes(int64(len(q) + len(r)))
	for b.Loop() {
		s.Feed(dissect.ToServer, q, ctx)
		s.Feed(dissect.ToClient, r, ctx)
	}
}
