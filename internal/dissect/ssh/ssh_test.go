package ssh

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
	s := fmt.Sprintf("%s %s req=%v resp=%v %s", op.FunctionName, op.Class, op.Request, op.Response, op.Result.Status)
	return s + dissecttest.AttrText(op) + dissecttest.FactText(op)
}

// kexinit is the start of a binary packet (RFC 4253 section 6: length,
// padding length, SSH_MSG_KEXINIT = 20).
const kexinit = "\x00\x00\x01\x14\x0a\x14" + "0123456789abcdef"

// Identification strings as RFC 4253 section 4.2 defines them: "SSH-",
// protoversion, "-", softwareversion, optional SP comments, CR LF; the
// server may send other lines first.
func TestSession(t *testing.T) {
	tests := []struct {
		name string
		msgs []dissecttest.Message
		want []string
	}{
		{"openssh both ways", []dissecttest.Message{
			dissecttest.S2C("SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.1\r\n" + kexinit),
			dissecttest.C2S("SSH-2.0-PuTTY_Release_0.76\r\n"), dissecttest.C2S(kexinit),
		}, []string{"session authentication req=true resp=true ok remote_access=true client_version=SSH-2.0-PuTTY_Release_0.76 server_version=SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.1 fact:product=PuTTY(server=false) fact:firmware=0.76(server=false) fact:product=OpenSSH(server=true) fact:firmware=8.9p1(server=true) fact:os=Ubuntu(server=true)"}},
		{"lines before the server identification", []dissecttest.Message{
			dissecttest.S2C("Authorised access only\r\nSSH-1.99-Cisco-1.25\r\n"), dissecttest.C2S("SSH-2.0-libssh_0.9.6\r\n"),
		}, []string{"session authentication req=true resp=true ok remote_access=true client_version=SSH-2.0-libssh_0.9.6 server_version=SSH-1.99-Cisco-1.25 fact:product=libssh(server=false) fact:firmware=0.9.6(server=false) fact:product=Cisco(server=true) fact:firmware=1.25(server=true)"}},
		{"server only", []dissecttest.Message{dissecttest.S2C("SSH-2.0-dropbear_2020.81\r\n")},
			[]string{"session authentication req=false resp=true unknown remote_access=true server_version=SSH-2.0-dropbear_2020.81 fact:product=dropbear(server=true) fact:firmware=2020.81(server=true)"}},
		{"client sends something else", []dissecttest.Message{dissecttest.S2C("SSH-2.0-OpenSSH_9.6\r\n"), dissecttest.C2S("GET / HTTP/1.1\r\n")}, []string{
			"session authentication req=false resp=true unknown remote_access=true server_version=SSH-2.0-OpenSSH_9.6 fact:product=OpenSSH(server=true) fact:firmware=9.6(server=true)",
			"malformed other req=true resp=false malformed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, op := range dissecttest.FeedMessages(t, Dissector{}, 22, tt.msgs...) {
				got = append(got, summary(op))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("operations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestProbe(t *testing.T) {
	for in, want := range map[string]bool{
		"SSH-2.0-OpenSSH_8.9\r\n": true, "SSH-1.99-Cisco-1.25\r\n": true,
		"SSH-1.5-old\r\n": false, "HTTP/1.1 200 OK\r\n": false, "": false,
	} {
		if got := (Dissector{}).Probe([]byte(in)); got != want {
			t.Errorf("Probe(%q) = %v, want %v", in, got, want)
		}
	}
}

// TestAgainstTshark compares the identification strings with tshark's
// ssh.protocol field.
func TestAgainstTshark(t *testing.T) {
	path := dissecttest.WriteTCP(t,
		dissecttest.Conversation{Client: netip.MustParseAddrPort("10.10.1.20:50000"), Server: netip.MustParseAddrPort("10.10.2.10:22"), Msgs: []dissecttest.Message{
			dissecttest.S2C("SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.1\r\n"), dissecttest.C2S("SSH-2.0-OpenSSH_9.6\r\n"), dissecttest.C2S(kexinit), dissecttest.S2C(kexinit)}},
		// A port nobody registers: found by the content probe.
		dissecttest.Conversation{Client: netip.MustParseAddrPort("10.10.1.21:50001"), Server: netip.MustParseAddrPort("10.10.2.11:2222"), Msgs: []dissecttest.Message{
			dissecttest.S2C("SSH-2.0-dropbear_2020.81\r\n"), dissecttest.C2S("SSH-2.0-PuTTY_Release_0.76\r\n")}},
	)
	var got []string
	for _, op := range dissecttest.Operations(t, path, "ssh").Ops {
		for _, a := range op.Attrs {
			if strings.HasSuffix(a.Key, "_version") {
				got = append(got, a.Value)
			}
		}
	}
	want := dissecttest.TsharkValues(t, path, []string{"-d", "tcp.port==2222,ssh"}, "ssh.protocol")
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("otwatch %q, tshark ssh.protocol %q", got, want)
	}
}

func FuzzSession(f *testing.F) {
	f.Add([]byte("SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.1\r\n" + kexinit))
	f.Add([]byte("banner\r\nSSH-1.99-Cisco-1.25\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for cut := range 3 {
			dissecttest.FeedWholeAndSplit(t, Dissector{}, dissect.ToServer, data, len(data)*cut/2)
			dissecttest.FeedWholeAndSplit(t, Dissector{}, dissect.ToClient, data, len(data)*cut/2+1)
		}
	})
}

// TestEncryptedAllocatesNothing pins the steady state: packets after the
// version exchange are skipped without allocation.
func TestEncryptedAllocatesNothing(t *testing.T) {
	flow := dissecttest.Flow(dissect.TransportTCP, 22)
	s := Dissector{}.NewSession(flow)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	s.Feed(dissect.ToClient, []byte("SSH-2.0-OpenSSH_9.6\r\n"), ctx)
	s.Feed(dissect.ToServer, []byte("SSH-2.0-OpenSSH_9.6\r\n"), ctx)
	pkt := []byte(strings.Repeat(kexinit, 8))
	if a := testing.AllocsPerRun(100, func() { s.Feed(dissect.ToServer, pkt, ctx) }); a != 0 {
		t.Errorf("%v allocations per packet, want 0", a)
	}
}

func BenchmarkVersionExchange(b *testing.B) {
	flow := dissecttest.Flow(dissect.TransportTCP, 22)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	srv, cli := []byte("SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.1\r\n"), []byte("SSH-2.0-OpenSSH_9.6\r\n")
	b.ReportAllocs()
	b.SetBytes(int64(len(srv) + len(cli)))
	for b.Loop() {
		s := Dissector{}.NewSession(flow)
		s.Feed(dissect.ToClient, srv, ctx)
		s.Feed(dissect.ToServer, cli, ctx)
	}
}
