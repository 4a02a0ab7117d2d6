package netbios

import (
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

var tsharkNB = []string{"nbns.flags.opcode", "nbns.flags.response", "nbns.flags.rcode", "nbns.name", "nbns.addr",
	"nbns.unit_id", "nbdgm.type", "nbdgm.source_name", "nbdgm.destination_name", "nbdgm.src.ip"}

// description is the " (Server service)" tshark appends to record names.
var description = regexp.MustCompile(` \([^()]*\)$`)

func list(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// compareWithTshark checks each operation against tshark's decoding of
// its frame and returns the operations.
func compareWithTshark(t *testing.T, path string) []*dissect.Operation {
	t.Helper()
	want := dissecttest.TsharkFrames(t, path, "nbns || nbdgm", tsharkNB...)
	ops := dissecttest.Operations(t, path, "netbios").Ops
	for _, op := range ops {
		frame := op.Packets[0].Frame
		w, ok := want[frame]
		if !ok {
			t.Errorf("frame %d: not NetBIOS to tshark", frame)
			continue
		}
		delete(want, frame)
		if op.Result.Status == dissect.StatusMalformed {
			t.Errorf("frame %d: malformed %s", frame, op.Result.Text)
			continue
		}
		if w[6] != "" { // datagram service
			var dst string
			if len(op.Targets) > 0 {
				dst = op.Targets[0].Name
			}
			if strconv.Itoa(op.FunctionCode) != w[6] || attrs(op, "source_name") != w[7] || dst != w[8] {
				t.Errorf("frame %d: datagram %d %q → %q, tshark says %v", frame, op.FunctionCode, attrs(op, "source_name"), dst, w[6:9])
			}
			if ip := attrs(op, "ip"); ip != "" && ip != w[9] {
				t.Errorf("frame %d: source ip %s, tshark says %s", frame, ip, w[9])
			}
			continue
		}
		resp := strconv.FormatBool(op.Response)
		rcode := "" // tshark prints the rcode of responses only
		if op.Response {
			rcode = strconv.Itoa(op.Result.Code)
		}
		if strconv.Itoa(op.FunctionCode) != w[0] || (w[1] == "1") != op.Response || rcode != w[2] {
			t.Errorf("frame %d: opcode %d response %s rcode %d, tshark says %v", frame, op.FunctionCode, resp, op.Result.Code, w[:3])
		}
		var names []string
		for _, tg := range op.Targets {
			names = append(names, tg.Name)
		}
		names = append(names, list(attrs(op, "nb_name"))...)
		var tn []string
		for _, n := range list(w[3]) {
			tn = append(tn, description.ReplaceAllString(n, ""))
		}
		if !slices.Equal(names, tn) {
			t.Errorf("frame %d: names %q, tshark says %q", frame, names, tn)
		}
		for _, ip := range list(attrs(op, "ip")) {
			if !slices.Contains(list(w[4]), ip) {
				t.Errorf("frame %d: ip %s not among tshark's addresses %s", frame, ip, w[4])
			}
		}
		if attrs(op, "mac") != w[5] {
			t.Errorf("frame %d: unit id %q, tshark says %q", frame, attrs(op, "mac"), w[5])
		}
	}
	for frame := range want {
		t.Errorf("frame %d: tshark sees NetBIOS, no operation", frame)
	}
	return ops
}

func TestTshark(t *testing.T) {
	a := netip.MustParseAddrPort("10.10.1.20:137")
	b := netip.MustParseAddrPort("10.10.1.30:137")
	bc := netip.MustParseAddrPort("10.10.1.255:137")
	m1 := net.HardwareAddr{0, 0x1b, 0x1b, 0x8a, 0x22, 0x11}
	m2 := net.HardwareAddr{0, 0x80, 0xf4, 0, 0, 2}
	ff := net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	g := func(src, dst netip.AddrPort, sm, dm net.HardwareAddr, h string) dissecttest.Datagram {
		return dissecttest.Datagram{Src: src, Dst: dst, SrcMAC: sm, DstMAC: dm, Payload: gopacket.Payload(dissecttest.Hex(t, h))}
	}
	path := dissecttest.WriteUDP(t,
		g(a, bc, m1, ff, registration),
		g(b, bc, m2, ff, "8002 0110 0001 0000 0000 0000 "+encode("PLC01", 0)+" 0020 0001"),
		g(a, b, m1, m2, positive),
		g(a, b, m1, m2, negative),
		g(b, a, m2, m1, statusQuery),
		g(a, b, m1, m2, statusResp),
		g(a, bc, m1, ff, release),
		g(netip.MustParseAddrPort("10.10.1.20:138"), netip.MustParseAddrPort("10.10.1.255:138"), m1, ff, dgmDirect),
	)
	if ops := compareWithTshark(t, path); len(ops) != 8 {
		t.Errorf("%d operations, want 8", len(ops))
	}
}

// TestCorpusTshark compares the NetBIOS frames of the corpus with tshark.
func TestCorpusTshark(t *testing.T) {
	caps := dissecttest.CorpusCaptures(t, ":nbns")
	for _, c := range dissecttest.CorpusCaptures(t, ":nbdgm") {
		if !slices.Contains(caps, c) {
			caps = append(caps, c)
		}
	}
	if len(caps) == 0 {
		t.Skip("no NetBIOS in the corpus")
	}
	for _, c := range caps {
		t.Run(c, func(t *testing.T) { t.Logf("%d operations", len(compareWithTshark(t, c))) })
	}
}
