package dns

import (
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// tsharkDNS are the fields compared per frame.
var tsharkDNS = []string{"dns.flags.response", "dns.qry.name", "dns.qry.type", "dns.flags.rcode",
	"dns.a", "dns.aaaa", "dns.ptr.domain_name", "dns.cname"}

// dnsFilter selects the frames of the three protocols; tshark finds DNS on
// other ports too, as our content probe does.
const dnsFilter = "dns || llmnr || mdns"

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// compareWithTshark checks every DNS, mDNS and LLMNR frame tshark sees
// against the operation that carries it, and returns the operations.
func compareWithTshark(t *testing.T, path string) []*dissect.Operation {
	t.Helper()
	want := dissecttest.TsharkFrames(t, path, dnsFilter, tsharkDNS...)
	ops := dissecttest.Operations(t, path, "dns", "mdns", "llmnr").Ops
	seen := map[uint64]bool{}
	for _, op := range ops {
		if op.Result.Status == dissect.StatusMalformed {
			t.Errorf("frame %d: malformed %q", op.Packets[0].Frame, op.Result.Text)
			continue
		}
		for i, ref := range op.Packets {
			w, ok := want[ref.Frame]
			if !ok {
				t.Errorf("frame %d: %s operation for a frame tshark does not decode", ref.Frame, op.Protocol)
				continue
			}
			seen[ref.Frame] = true
			response := i == 0 && op.Response
			if got := strconv.FormatBool(response); (w[0] == "1") != response {
				t.Errorf("frame %d: response %s, tshark says %s", ref.Frame, got, w[0])
			}
			var names, types []string
			for j, tg := range op.Targets {
				names = append(names, tg.Name)
				types = append(types, attrsList(op, "qtype")[j])
			}
			if strings.Join(names, ",") != w[1] {
				t.Errorf("frame %d: questions %v, tshark says %q", ref.Frame, names, w[1])
			}
			var tt []string
			for _, n := range split(w[2]) {
				v, _ := strconv.ParseUint(n, 10, 16)
				tt = append(tt, typeName(uint16(v)))
			}
			if !slices.Equal(types, tt) {
				t.Errorf("frame %d: qtypes %v, tshark says %v", ref.Frame, types, tt)
			}
			if !response {
				continue
			}
			if strconv.Itoa(op.Result.Code) != w[3] {
				t.Errorf("frame %d: rcode %d, tshark says %s", ref.Frame, op.Result.Code, w[3])
			}
			// Every address answer (A, AAAA) and every reverse PTR
			// answer is one hostname fact with its "ip" attribute.
			addrs := append(split(w[4]), split(w[5])...)
			ptrs := split(w[6])
			ips := attrsList(op, "ip")
			if len(op.Identity) != len(addrs)+len(ptrs) || len(ips) != len(op.Identity) {
				t.Errorf("frame %d: facts %v ips %v, tshark has addresses %v and PTR names %v", ref.Frame, op.Identity, ips, addrs, ptrs)
				continue
			}
			for j, f := range op.Identity {
				if !slices.Contains(addrs, ips[j]) && !slices.Contains(ptrs, f.Value) {
					t.Errorf("frame %d: fact %s at %s not among tshark's answers", ref.Frame, f.Value, ips[j])
				}
			}
			if got := strings.Join(attrsList(op, "cname"), ","); got != w[7] {
				t.Errorf("frame %d: cname %q, tshark says %q", ref.Frame, got, w[7])
			}
		}
	}
	for frame := range want {
		if !seen[frame] {
			t.Errorf("frame %d: tshark sees DNS, no operation names it", frame)
		}
	}
	return ops
}

func attrsList(op *dissect.Operation, key string) []string {
	var v []string
	for _, a := range op.Attrs {
		if a.Key == key {
			v = append(v, a.Value)
		}
	}
	return v
}

func TestTshark(t *testing.T) {
	cmac := net.HardwareAddr{0x00, 0x1b, 0x1b, 0x8a, 0x22, 0x11}
	smac := net.HardwareAddr{0x00, 0x80, 0xf4, 0x01, 0x02, 0x03}
	mmac := net.HardwareAddr{0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb}
	cl := netip.MustParseAddrPort("10.10.1.20:50000")
	ns := netip.MustParseAddrPort("10.10.0.53:53")
	q := func(id uint16, name string, typ layers.DNSType) layers.DNSQuestion {
		return layers.DNSQuestion{Name: []byte(name), Type: typ, Class: layers.DNSClassIN}
	}
	query := func(id uint16, qs ...layers.DNSQuestion) *layers.DNS {
		return &layers.DNS{ID: id, RD: true, Questions: qs}
	}
	reply := func(id uint16, rc layers.DNSResponseCode, qs []layers.DNSQuestion, an ...layers.DNSResourceRecord) *layers.DNS {
		return &layers.DNS{ID: id, QR: true, RD: true, RA: true, ResponseCode: rc, Questions: qs, Answers: an}
	}
	rr := func(name string, typ layers.DNSType) layers.DNSResourceRecord {
		return layers.DNSResourceRecord{Name: []byte(name), Type: typ, Class: layers.DNSClassIN, TTL: 300}
	}
	a := rr("plc01.plant.local", layers.DNSTypeA)
	a.IP = net.IP{10, 10, 1, 50}
	a2 := rr("plc01.plant.local", layers.DNSTypeA)
	a2.IP = net.IP{10, 10, 1, 51}
	ptr := rr("50.1.10.10.in-addr.arpa", layers.DNSTypePTR)
	ptr.PTR = []byte("hmi1.plant.local")
	cname := rr("www.example.com", layers.DNSTypeCNAME)
	cname.CNAME = []byte("edge.example.com")
	aaaa := rr("edge.example.com", layers.DNSTypeAAAA)
	aaaa.IP = net.ParseIP("2001:db8::1")
	mdnsA := rr("plc02.local", layers.DNSTypeA)
	mdnsA.IP = net.IP{10, 10, 1, 60}
	qa := []layers.DNSQuestion{q(1, "plc01.plant.local", layers.DNSTypeA)}
	qp := []layers.DNSQuestion{q(2, "50.1.10.10.in-addr.arpa", layers.DNSTypePTR)}
	qc := []layers.DNSQuestion{q(3, "www.example.com", layers.DNSTypeAAAA)}
	qn := []layers.DNSQuestion{q(4, "nosuch.plant.local", layers.DNSTypeA)}
	path := dissecttest.WriteUDP(t,
		dissecttest.Datagram{Src: cl, Dst: ns, SrcMAC: cmac, DstMAC: smac, Payload: query(1, qa...)},
		dissecttest.Datagram{Src: ns, Dst: cl, SrcMAC: smac, DstMAC: cmac, Payload: reply(1, 0, qa, a, a2)},
		dissecttest.Datagram{Src: cl, Dst: ns, SrcMAC: cmac, DstMAC: smac, Payload: query(2, qp...)},
		dissecttest.Datagram{Src: ns, Dst: cl, SrcMAC: smac, DstMAC: cmac, Payload: reply(2, 0, qp, ptr)},
		dissecttest.Datagram{Src: cl, Dst: ns, SrcMAC: cmac, DstMAC: smac, Payload: query(3, qc...)},
		dissecttest.Datagram{Src: ns, Dst: cl, SrcMAC: smac, DstMAC: cmac, Payload: reply(3, 0, qc, cname, aaaa)},
		dissecttest.Datagram{Src: cl, Dst: ns, SrcMAC: cmac, DstMAC: smac, Payload: query(4, qn...)},
		dissecttest.Datagram{Src: ns, Dst: cl, SrcMAC: smac, DstMAC: cmac, Payload: reply(4, layers.DNSResponseCodeNXDomain, qn)},
		dissecttest.Datagram{Src: cl, Dst: ns, SrcMAC: cmac, DstMAC: smac, Payload: query(5, q(5, "historian.plant.local", layers.DNSTypeA))},
		dissecttest.Datagram{Src: netip.MustParseAddrPort("10.10.1.60:5353"), Dst: netip.MustParseAddrPort("224.0.0.251:5353"), SrcMAC: smac, DstMAC: mmac,
			Payload: &layers.DNS{QR: true, AA: true, Answers: []layers.DNSResourceRecord{mdnsA}}},
		dissecttest.Datagram{Src: netip.MustParseAddrPort("10.10.1.20:50001"), Dst: netip.MustParseAddrPort("224.0.0.252:5355"), SrcMAC: cmac, DstMAC: mmac,
			Payload: query(9, q(9, "plc02", layers.DNSTypeA))},
	)
	ops := compareWithTshark(t, path)
	var got []string
	for _, op := range ops {
		got = append(got, op.Protocol+":"+op.FunctionName+":"+op.Result.Status.String()+":"+facts(op))
	}
	want := []string{
		"dns:query:ok:hostname=plc01.plant.local hostname=plc01.plant.local",
		"dns:query:ok:hostname=hmi1.plant.local",
		"dns:query:ok:hostname=edge.example.com",
		"dns:query:error:",
		"mdns:query:ok:hostname=plc02.local",
		"llmnr:query:unknown:",
		"dns:query:unknown:", // unanswered, reported when the flow ends
	}
	if !slices.Equal(got, want) {
		t.Errorf("operations\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestCorpusTshark compares the DNS-family frames of the corpus with tshark.
func TestCorpusTshark(t *testing.T) {
	caps := append(dissecttest.CorpusCaptures(t, ":dns"), dissecttest.CorpusCaptures(t, ":llmnr")...)
	if len(caps) == 0 {
		t.Skip("no DNS in the corpus")
	}
	for _, c := range caps {
		t.Run(c, func(t *testing.T) { t.Logf("%d operations", len(compareWithTshark(t, c))) })
	}
}
