package vnc

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

func summary(op *dissect.Operation) string {
	s := fmt.Sprintf("%s %d %s req=%v resp=%v %s code=%d", op.FunctionName, op.FunctionCode, op.Class, op.Request, op.Response, op.Result.Status, op.Result.Code)
	return s + dissecttest.AttrText(op)
}

var (
	challenge  = strings.Repeat("\x11", 16)
	response   = strings.Repeat("\x22", 16)
	serverInit = "\x04\x00\x03\x00" + "\x20\x18\x00\x01\x00\xff\x00\xff\x00\xff\x10\x08\x00\x00\x00\x00" + "\x00\x00\x00\x04HMI1"
	// auth38 is a 3.8 handshake with VNC authentication (RFC 6143 sections
	// 7.1.1 to 7.3.2): versions, two security types offered (2 and 16),
	// the client's choice, challenge and response, SecurityResult OK,
	// ClientInit and ServerInit.
	auth38 = []dissecttest.Message{dissecttest.S2C("RFB 003.008\n"), dissecttest.C2S("RFB 003.008\n"), dissecttest.S2C("\x02\x02\x10"), dissecttest.C2S("\x02"),
		dissecttest.S2C(challenge), dissecttest.C2S(response), dissecttest.S2C("\x00\x00\x00\x00"), dissecttest.C2S("\x01"), dissecttest.S2C(serverInit)}
)

func TestSession(t *testing.T) {
	tests := []struct {
		name string
		msgs []dissecttest.Message
		want []string
	}{
		{"3.8 VNC authentication", auth38, []string{
			"handshake 2 authentication req=true resp=true ok code=0 remote_access=true server_version=3.8 client_version=3.8 security_types=2,16 security_type=vnc_authentication"}},
		{"3.8 wrong password (SecurityResult 1 and reason)", []dissecttest.Message{dissecttest.S2C("RFB 003.008\n"), dissecttest.C2S("RFB 003.008\n"), dissecttest.S2C("\x01\x02"), dissecttest.C2S("\x02"),
			dissecttest.S2C(challenge), dissecttest.C2S(response), dissecttest.S2C("\x00\x00\x00\x01\x00\x00\x00\x0eWrong password")}, []string{
			"handshake 2 authentication req=true resp=true error code=1 remote_access=true server_version=3.8 client_version=3.8 security_types=2 security_type=vnc_authentication"}},
		{"3.3 server chooses None (appendix A.1)", []dissecttest.Message{dissecttest.S2C("RFB 003.003\n"), dissecttest.C2S("RFB 003.003\n"), dissecttest.S2C("\x00\x00\x00\x01"), dissecttest.C2S("\x01"), dissecttest.S2C(serverInit)}, []string{
			"handshake 1 authentication req=true resp=true ok code=0 remote_access=true server_version=3.3 client_version=3.3 security_types=1 security_type=none no_authentication=true"}},
		{"3.7 None has no SecurityResult (appendix A.2)", []dissecttest.Message{dissecttest.S2C("RFB 003.007\n"), dissecttest.C2S("RFB 003.007\n"), dissecttest.S2C("\x01\x01"), dissecttest.C2S("\x01"), dissecttest.C2S("\x01"), dissecttest.S2C(serverInit)}, []string{
			"handshake 1 authentication req=true resp=true ok code=0 remote_access=true server_version=3.7 client_version=3.7 security_types=1 security_type=none no_authentication=true"}},
		{"3.8 server with 3.3 client", []dissecttest.Message{dissecttest.S2C("RFB 003.008\n"), dissecttest.C2S("RFB 003.003\n"), dissecttest.S2C("\x00\x00\x00\x02"), dissecttest.S2C(challenge), dissecttest.C2S(response), dissecttest.S2C("\x00\x00\x00\x00")}, []string{
			"handshake 2 authentication req=true resp=true ok code=0 remote_access=true server_version=3.8 client_version=3.3 security_types=2 security_type=vnc_authentication"}},
		{"server refuses: no security types and a reason", []dissecttest.Message{dissecttest.S2C("RFB 003.008\n"), dissecttest.C2S("RFB 003.008\n"), dissecttest.S2C("\x00\x00\x00\x00\x07too many")}, []string{
			"handshake 0 authentication req=true resp=true error code=0 remote_access=true server_version=3.8 client_version=3.8"}},
		{"not RFB", []dissecttest.Message{dissecttest.S2C("HTTP/1.1 200 OK\r\n")}, []string{"malformed 0 other req=false resp=true malformed code=0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, op := range dissecttest.FeedMessages(t, Dissector{}, 5900, tt.msgs...) {
				got = append(got, summary(op))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("operations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestProbe(t *testing.T) {
	for in, want := range map[string]bool{"RFB 003.008\n": true, "RFB 003.889\n": true, "RFB 004.001\n": false, "SSH-2.0-x": false} {
		if got := (Dissector{}).Probe([]byte(in)); got != want {
			t.Errorf("Probe(%q) = %v, want %v", in, got, want)
		}
	}
}

// TestAgainstTshark compares versions, security types and results with
// tshark's vnc fields.
func TestAgainstTshark(t *testing.T) {
	path := dissecttest.WriteTCP(t,
		dissecttest.Conversation{Client: netip.MustParseAddrPort("10.10.1.20:50000"), Server: netip.MustParseAddrPort("10.10.2.10:5900"), Msgs: auth38},
		// A port nobody registers: found by the content probe.
		dissecttest.Conversation{Client: netip.MustParseAddrPort("10.10.1.21:50001"), Server: netip.MustParseAddrPort("10.10.2.11:5999"), Msgs: []dissecttest.Message{
			dissecttest.S2C("RFB 003.008\n"), dissecttest.C2S("RFB 003.008\n"), dissecttest.S2C("\x01\x01"), dissecttest.C2S("\x01"), dissecttest.S2C("\x00\x00\x00\x00")}},
	)
	args := []string{"-d", "tcp.port==5999,vnc"}
	var versions, chosen, results []string
	for _, op := range dissecttest.Operations(t, path, "vnc").Ops {
		for _, a := range op.Attrs {
			if strings.HasSuffix(a.Key, "_version") {
				versions = append(versions, "003.00"+strings.TrimPrefix(a.Value, "3."))
			}
		}
		chosen = append(chosen, fmt.Sprint(op.FunctionCode))
		results = append(results, fmt.Sprint(op.Result.Status != dissect.StatusOK))
	}
	var wantVersions []string
	for _, v := range append(dissecttest.TsharkValues(t, path, args, "vnc.server_proto_ver"), dissecttest.TsharkValues(t, path, args, "vnc.client_proto_ver")...) {
		wantVersions = append(wantVersions, strings.TrimSpace(v))
	}
	wantResults := dissecttest.TsharkValues(t, path, args, "vnc.auth_result") // true means failed
	for i, r := range wantResults {
		wantResults[i] = fmt.Sprint(r == "1" || r == "True")
	}
	for _, c := range []struct {
		field     string
		got, want []string
	}{
		{"vnc.*_proto_ver", versions, wantVersions},
		{"vnc.client_security_type", chosen, dissecttest.TsharkValues(t, path, args, "vnc.client_security_type")},
		{"vnc.auth_result", results, wantResults},
	} {
		slices.Sort(c.got)
		slices.Sort(c.want)
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s: otwatch %q, tshark %q", c.field, c.got, c.want)
		}
	}
}

func FuzzSession(f *testing.F) {
	var all string
	for _, m := range auth38 {
		f.Add([]byte(m.Data))
		all += m.Data
	}
	f.Add([]byte(all))
	f.Fuzz(func(t *testing.T, data []byte) {
		for cut := range 3 {
			dissecttest.FeedWholeAndSplit(t, Dissector{}, dissect.ToServer, data, len(data)*cut/2)
			dissecttest.FeedWholeAndSplit(t, Dissector{}, dissect.ToClient, data, len(data)*cut/2+1)
		}
	})
}

// TestFramebufferAllocatesNothing pins the steady state: updates after the
// handshake are skipped without allocation.
func TestFramebufferAllocatesNothing(t *testing.T) {
	flow := dissecttest.Flow(dissect.TransportTCP, 5900)
	s := Dissector{}.NewSession(flow)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	for _, m := range auth38 {
		dir := dissect.ToClient
		if m.ToServer {
			dir = dissect.ToServer
		}
		s.Feed(dir, []byte(m.Data), ctx)
	}
	update := []byte(strings.Repeat("\x00\x00\x00\x01", 64))
	if a := testing.AllocsPerRun(100, func() { s.Feed(dissect.ToClient, update, ctx) }); a != 0 {
		t.Errorf("%v allocations per update, want 0", a)
	}
}

func BenchmarkHandshake(b *testing.B) {
	flow := dissecttest.Flow(dissect.TransportTCP, 5900)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	b.ReportAllocs()
	for b.Loop() {
		s := Dissector{}.NewSession(flow)
		for _, m := range auth38 {
			dir := dissect.ToClient
			if m.ToServer {
				dir = dissect.ToServer
			}
			s.Feed(dir, []byte(m.Data), ctx)
		}
	}
}
