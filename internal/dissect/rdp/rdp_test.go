package rdp

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

func summary(op *dissect.Operation) string {
	s := fmt.Sprintf("%s %s req=%v resp=%v %s code=%d %s", op.FunctionName, op.Class, op.Request, op.Response, op.Result.Status, op.Result.Code, op.Result.Text)
	return s + dissecttest.AttrText(op)
}

func hx(t testing.TB, s string) string { return string(dissecttest.Hex(t, s)) }

// The connection request and confirm of [MS-RDPBCGR] section 4.1.1 and
// 4.1.2 (TPKT, X.224 CR with "Cookie: mstshash=eltons", RDP_NEG_REQ for
// PROTOCOL_RDP; CC with RDP_NEG_RSP), and the same with CredSSP requested
// and selected, or refused (RDP_NEG_FAILURE, section 2.2.1.2.2).
const (
	crEltons  = "0300002c 27 e0 0000 0000 00 436f6f6b69653a206d737473686173683d656c746f6e730d0a 01 00 0800 00000000"
	ccRDP     = "03000013 0e d0 0000 1234 00 02 00 0800 00000000"
	crHybrid  = "03000013 0e e0 0000 0000 00 01 00 0800 03000000"
	ccHybrid  = "03000013 0e d0 0000 1234 00 02 1f 0800 02000000"
	ccFailure = "03000013 0e d0 0000 1234 00 03 00 0800 05000000"
)

func TestSession(t *testing.T) {
	tests := []struct {
		name string
		msgs []string // alternating client, server
		want string
	}{
		{"standard RDP security, cookie", []string{crEltons, ccRDP},
			"connection_request authentication req=true resp=true ok code=0  remote_access=true user=eltons requested_protocols=rdp selected_protocol=rdp"},
		{"CredSSP", []string{crHybrid, ccHybrid},
			"connection_request authentication req=true resp=true ok code=0  remote_access=true requested_protocols=ssl,hybrid selected_protocol=hybrid"},
		{"negotiation failure", []string{crHybrid, ccFailure},
			"connection_request authentication req=true resp=true error code=5 hybrid_required_by_server remote_access=true requested_protocols=ssl,hybrid"},
		{"unanswered", []string{crEltons},
			"connection_request authentication req=true resp=false unknown code=0  remote_access=true user=eltons requested_protocols=rdp"},
		{"not TPKT", []string{"16030100"}, "malformed other req=true resp=false malformed code=0 rdp: bad TPKT header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var msgs []dissecttest.Message
			for i, m := range tt.msgs {
				msgs = append(msgs, dissecttest.Message{ToServer: i%2 == 0, Data: hx(t, m)})
			}
			var got []string
			for _, op := range dissecttest.FeedMessages(t, Dissector{}, 3389, msgs...) {
				got = append(got, summary(op))
			}
			if len(got) != 1 || got[0] != tt.want {
				t.Errorf("operations:\n%s\nwant:\n%s", strings.Join(got, "\n"), tt.want)
			}
		})
	}
}

func TestProbe(t *testing.T) {
	for in, want := range map[string]bool{
		hx(t, crEltons): true, hx(t, crHybrid): true,
		// An S7comm COTP connection request (TSAP parameters, no cookie).
		hx(t, "03000016 11 e0 0000 0001 00 c0010a c1020100 c2020102"): false,
		"GET / HTTP/1.1": false,
	} {
		if got := (Dissector{}).Probe([]byte(in)); got != want {
			t.Errorf("Probe(%x) = %v, want %v", in, got, want)
		}
	}
}

// TestAgainstTshark compares the cookie and negotiated protocols with
// tshark's rdp fields.
func TestAgainstTshark(t *testing.T) {
	path := dissecttest.WriteTCP(t,
		dissecttest.Conversation{Client: netip.MustParseAddrPort("10.10.1.20:50000"), Server: netip.MustParseAddrPort("10.10.2.10:3389"),
			Msgs: []dissecttest.Message{dissecttest.C2S(hx(t, crEltons)), dissecttest.S2C(hx(t, ccRDP))}},
		dissecttest.Conversation{Client: netip.MustParseAddrPort("10.10.1.21:50001"), Server: netip.MustParseAddrPort("10.10.2.11:3389"),
			Msgs: []dissecttest.Message{dissecttest.C2S(hx(t, crHybrid)), dissecttest.S2C(hx(t, ccHybrid)), dissecttest.C2S("\x16\x03\x01\x00\x05hello")}},
	)
	var cookies, requested, selected []string
	for _, op := range dissecttest.Operations(t, path, "rdp").Ops {
		for _, a := range op.Attrs {
			switch a.Key {
			case "user":
				cookies = append(cookies, "Cookie: mstshash="+a.Value)
			case "requested_protocols":
				requested = append(requested, a.Value)
			case "selected_protocol":
				selected = append(selected, a.Value)
			}
		}
	}
	names := func(vals []string) []string {
		var out []string
		for _, v := range vals {
			n, err := strconv.ParseUint(strings.TrimPrefix(v, "0x"), 16, 32)
			if err != nil {
				t.Fatalf("%q: %v", v, err)
			}
			out = append(out, protocols(uint32(n)))
		}
		return out
	}
	var wantCookies []string
	for _, c := range dissecttest.TsharkValues(t, path, nil, "rdp.rt_cookie") {
		wantCookies = append(wantCookies, strings.TrimRight(c, "\r\n"))
	}
	for _, c := range []struct {
		field     string
		got, want []string
	}{
		{"rdp.rt_cookie", cookies, wantCookies},
		{"rdp.negReq.requestedProtocols", requested, names(dissecttest.TsharkValues(t, path, nil, "rdp.negReq.requestedProtocols"))},
		// tshark files the response's selectedProtocol under negReq.
		{"rdp.negReq.selectedProtocol", selected, names(dissecttest.TsharkValues(t, path, nil, "rdp.negReq.selectedProtocol"))},
	} {
		slices.Sort(c.got)
		slices.Sort(c.want)
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s: otwatch %q, tshark %q", c.field, c.got, c.want)
		}
	}
}

func FuzzSession(f *testing.F) {
	for _, s := range []string{crEltons, ccRDP, crHybrid, ccHybrid, ccFailure} {
		f.Add(dissecttest.Hex(f, s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for cut := range 3 {
			dissecttest.FeedWholeAndSplit(t, Dissector{}, dissect.ToServer, data, len(data)*cut/2)
			dissecttest.FeedWholeAndSplit(t, Dissector{}, dissect.ToClient, data, len(data)*cut/2+1)
		}
	})
}

// TestEncryptedAllocatesNothing pins the steady state: TLS/CredSSP bytes
// after the negotiation are skipped without allocation.
func TestEncryptedAllocatesNothing(t *testing.T) {
	flow := dissecttest.Flow(dissect.TransportTCP, 3389)
	s := Dissector{}.NewSession(flow)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	s.Feed(dissect.ToServer, dissecttest.Hex(t, crHybrid), ctx)
	s.Feed(dissect.ToClient, dissecttest.Hex(t, ccHybrid), ctx)
	rec := []byte("\x17\x03\x03\x00\x10" + strings.Repeat("\x55", 16))
	if a := testing.AllocsPerRun(100, func() { s.Feed(dissect.ToServer, rec, ctx) }); a != 0 {
		t.Errorf("%v allocations per record, want 0", a)
	}
}

func BenchmarkNegotiation(b *testing.B) {
	flow := dissecttest.Flow(dissect.TransportTCP, 3389)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	cr, cc := dissecttest.Hex(b, crEltons), dissecttest.Hex(b, ccRDP)
	b.ReportAllocs()
	b.SetBytes(int64(len(cr) + len(cc)))
	for b.Loop() {
		s := Dissector{}.NewSession(flow)
		s.Feed(dissect.ToServer, cr, ctx)
		s.Feed(dissect.ToClient, cc, ctx)
	}
}
