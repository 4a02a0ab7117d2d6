package netbios

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// encode is the first-level encoding of RFC 1001 14.1: the name padded to
// 15 octets with spaces plus the suffix, each half-octet added to 'A',
// as one 32-octet label (hex of the label with its length octet).
func encode(name string, suffix byte) string {
	raw := []byte(name + strings.Repeat(" ", 15-len(name)))
	raw = append(raw, suffix)
	out := []byte{32}
	for _, c := range raw {
		out = append(out, 'A'+c>>4, 'A'+c&15)
	}
	return hex.EncodeToString(out) + "00"
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

func attrs(op *dissect.Operation, key string) string {
	var v []string
	for _, a := range op.Attrs {
		if a.Key == key {
			v = append(v, a.Value)
		}
	}
	return strings.Join(v, ",")
}

// Messages from RFC 1002 4.2: header NAME_TRN_ID, flags (R, OPCODE,
// NM_FLAGS, RCODE), QD/AN/NS/AR counts; question name, type NB (0020)
// or NBSTAT (0021), class IN; resource records name, type, class, TTL,
// RDLENGTH, RDATA (NB: NB_FLAGS, NB_ADDRESS).
var (
	// 4.2.2 registration request, broadcast (B bit): PLC01<20> at 10.10.1.20.
	registration = "8001 2910 0001 0000 0000 0001 " + encode("PLC01", 0x20) + " 0020 0001" +
		" c00c 0020 0001 000493e0 0006 0000 0a0a0114"
	// 4.2.13 positive name query response: PLC01<00> at 10.10.1.20.
	positive = "8002 8500 0000 0001 0000 0000 " + encode("PLC01", 0x00) + " 0020 0001 000493e0 0006 6000 0a0a0114"
	// 4.2.14 negative response, NAM_ERR (3).
	negative = "8003 8583 0000 0001 0000 0000 " + encode("NOSUCH", 0x20) + " 0020 0001 00000000 0000"
	// 4.2.17/4.2.18 node status request for "*" and 15 NULs, and the
	// response (statistics: unit id then 40 octets): names PLC01<00>
	// unique, PLANT<00> group, then the unit id 00:1b:1b:8a:22:11.
	statusQuery = "8004 0000 0001 0000 0000 0000 " + encode("*", 0x00)[:2] + "434b" + strings.Repeat("4141", 15) + "00 0021 0001"
	statusResp  = "8004 8400 0000 0001 0000 0000 " + encode("*", 0x00)[:2] + "434b" + strings.Repeat("4141", 15) + "00 0021 0001 00000000 0053" +
		" 02 " + hex.EncodeToString([]byte("PLC01          \x00")) + " 0400 " + hex.EncodeToString([]byte("PLANT          \x00")) + " 8400" +
		" 001b1b8a2211 " + strings.Repeat("00", 40)
	// 4.2.4 release request: PLC01<20> gives up its name.
	release = "8005 3010 0001 0000 0000 0001 " + encode("PLC01", 0x20) + " 0020 0001 c00c 0020 0001 00000000 0006 0000 0a0a0114"
	// 4.4.2 direct group datagram (MSG_TYPE 0x11) from PLC01<00> at
	// 10.10.1.20:138 to PLANT<1d>, DGM_LENGTH and PACKET_OFFSET, user data.
	dgmDirect = "11 02 1234 0a0a0114 008a 0048 0000 " + encode("PLC01", 0x00) + encode("PLANT", 0x1d) + " ff534d42"
)

func TestNameService(t *testing.T) {
	tests := []struct {
		name, in string
		dir      dissect.Direction
		fn       string
		status   dissect.Status
		code     int
		targets  string
		nbNames  string
		facts    string
		ips      string
	}{
		{"registration (RFC 1002 4.2.2)", registration, dissect.ToServer, "registration", dissect.StatusUnknown, 0,
			"PLC01<20>", "PLC01<20>", "hostname=PLC01", "10.10.1.20"},
		{"positive query response (4.2.13)", positive, dissect.ToClient, "query", dissect.StatusOK, 0,
			"", "PLC01<00>", "hostname=PLC01", "10.10.1.20"},
		{"negative query response (4.2.14)", negative, dissect.ToClient, "query", dissect.StatusError, 3,
			"", "NOSUCH<20>", "", ""},
		{"node status request (4.2.17)", statusQuery, dissect.ToServer, "query", dissect.StatusUnknown, 0,
			"*" + strings.Repeat("<00>", 15), "", "", ""},
		{"release gives no fact (4.2.9)", release, dissect.ToServer, "release", dissect.StatusUnknown, 0,
			"PLC01<20>", "PLC01<20>", "", ""},
		{"short", "8001 2910 0001", dissect.ToServer, "malformed", dissect.StatusMalformed, 0, "", "", "", ""},
		{"not first-level encoded", "8001 0110 0001 0000 0000 0000 0441424344 00 0020 0001", dissect.ToServer, "query",
			dissect.StatusMalformed, 0, "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c dissecttest.Collector
			flow := dissecttest.Flow(dissect.TransportUDP, NamePort)
			s := Dissector{}.NewSession(flow)
			s.Feed(tt.dir, dissecttest.Hex(t, tt.in), dissecttest.Context(flow, &c))
			if len(c.Ops) != 1 {
				t.Fatalf("%d operations", len(c.Ops))
			}
			op := c.Ops[0]
			if op.FunctionName != tt.fn || op.Result.Status != tt.status || op.Result.Code != tt.code {
				t.Errorf("%s %v %d (%s), want %s %v %d", op.FunctionName, op.Result.Status, op.Result.Code, op.Result.Text, tt.fn, tt.status, tt.code)
			}
			if tt.status == dissect.StatusMalformed {
				return
			}
			var tg []string
			for _, x := range op.Targets {
				tg = append(tg, x.Name)
			}
			if got := strings.Join(tg, ","); got != tt.targets {
				t.Errorf("targets %q, want %q", got, tt.targets)
			}
			if got := attrs(op, "nb_name"); got != tt.nbNames {
				t.Errorf("record names %q, want %q", got, tt.nbNames)
			}
			if got := facts(op); got != tt.facts {
				t.Errorf("facts %q, want %q", got, tt.facts)
			}
			if got := attrs(op, "ip"); got != tt.ips {
				t.Errorf("ip %q, want %q", got, tt.ips)
			}
		})
	}
}

func TestNodeStatus(t *testing.T) {
	var c dissecttest.Collector
	flow := dissecttest.Flow(dissect.TransportUDP, NamePort)
	s := Dissector{}.NewSession(flow)
	s.Feed(dissect.ToClient, dissecttest.Hex(t, statusResp), dissecttest.Context(flow, &c))
	op := c.Ops[0]
	if facts(op) != "hostname=PLC01(server)" || attrs(op, "workgroup") != "PLANT" || attrs(op, "mac") != "00:1b:1b:8a:22:11" {
		t.Errorf("operation %s", c.JSONL())
	}
}

func TestDatagram(t *testing.T) {
	var c dissecttest.Collector
	flow := dissecttest.Flow(dissect.TransportUDP, DatagramPort)
	s := Dissector{}.NewSession(flow)
	s.Feed(dissect.ToServer, dissecttest.Hex(t, dgmDirect), dissecttest.Context(flow, &c))
	op := c.Ops[0]
	if op.FunctionName != "direct_group" || op.FunctionCode != 0x11 || facts(op) != "hostname=PLC01" ||
		attrs(op, "ip") != "10.10.1.20" || attrs(op, "source_name") != "PLC01<00>" || op.Targets[0].Name != "PLANT<1d>" {
		t.Errorf("operation %s", c.JSONL())
	}
}

func TestNoAllocation(t *testing.T) {
	b := dissecttest.Hex(t, positive)
	flow := dissecttest.Flow(dissect.TransportUDP, NamePort)
	s := Dissector{}.NewSession(flow)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	s.Feed(dissect.ToClient, b, ctx)
	if n := testing.AllocsPerRun(100, func() { s.Feed(dissect.ToClient, b, ctx) }); n != 0 {
		t.Errorf("%v allocations per message, want 0", n)
	}
}

func BenchmarkFeed(b *testing.B) {
	m := dissecttest.Hex(b, registration)
	flow := dissecttest.Flow(dissect.TransportUDP, NamePort)
	s := Dissector{}.NewSession(flow)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	b.ReportAllocs()
	b.SetBytes(int64(len(m)))
	for b.Loop() {
		s.Feed(dissect.ToServer, m, ctx)
	}
}
