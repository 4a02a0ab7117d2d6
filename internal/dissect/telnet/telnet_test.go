package telnet

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
	return s + dissecttest.AttrText(op)
}

// typed sends s one byte per segment, as an interactive client does, the
// server echoing each byte when echo is true.
func typed(s string, echo bool) []dissecttest.Message {
	var out []dissecttest.Message
	for i := range len(s) {
		out = append(out, dissecttest.C2S(s[i:i+1]))
		if echo {
			out = append(out, dissecttest.S2C(s[i:i+1]))
		}
	}
	return out
}

// negotiation is RFC 854/855 option negotiation: IAC DO TERMINAL-TYPE,
// IAC WILL ECHO, IAC SB TERMINAL-TYPE SEND IAC SE, and an escaped 255.
const (
	srvNegotiation = "\xff\xfd\x18\xff\xfb\x01\xff\xfa\x18\x01\xff\xf0"
	cliNegotiation = "\xff\xfb\x18\xff\xfa\x18\x00VT100\xff\xf0"
)

func login(user, pass, outcome string) []dissecttest.Message {
	msgs := []dissecttest.Message{dissecttest.S2C(srvNegotiation), dissecttest.C2S(cliNegotiation), dissecttest.S2C("\r\nRTU-7 console\r\nlogin: ")}
	msgs = append(msgs, typed(user+"\r\n", true)...)
	msgs = append(msgs, dissecttest.S2C("Password: "))
	msgs = append(msgs, typed(pass+"\r\n", false)...)
	return append(msgs, dissecttest.S2C("\r\n"+outcome))
}

func TestSession(t *testing.T) {
	tests := []struct {
		name string
		msgs []dissecttest.Message
		want []string
	}{
		{"successful login with shell prompt", login("operator", "hunter2", "Last login: Mon Jan  5 08:00:00\r\nrtu7$ "),
			[]string{"session authentication req=true resp=true ok remote_access=true user=operator cleartext_credentials=true"}},
		{"failed then successful", append(login("admin", "admin", "Login incorrect\r\n\r\nlogin: "),
			append(typed("admin\r\n", true), append([]dissecttest.Message{dissecttest.S2C("Password: ")}, append(typed("Adm1n!\r\n", false), dissecttest.S2C("\r\n# "))...)...)...),
			[]string{
				"session authentication req=true resp=true error remote_access=true user=admin cleartext_credentials=true",
				"session authentication req=true resp=true ok remote_access=true user=admin cleartext_credentials=true",
			}},
		{"backspace corrects the user name", login("enginx\x7feer", "pw", "Welcome\r\n"),
			[]string{"session authentication req=true resp=true ok remote_access=true user=engineer cleartext_credentials=true"}},
		{"password only (no login prompt)", append([]dissecttest.Message{dissecttest.S2C("\r\nPassword: ")}, append(typed("cisco\r\n", false), dissecttest.S2C("\r\nswitch>"))...),
			[]string{"session authentication req=true resp=true ok remote_access=true cleartext_credentials=true"}},
		{"no login seen", []dissecttest.Message{dissecttest.S2C(srvNegotiation), dissecttest.C2S("show run\r\n"), dissecttest.S2C("hostname sw1\r\n")},
			[]string{"session authentication req=false resp=false unknown remote_access=true"}},
		{"password sent, outcome not seen", append([]dissecttest.Message{dissecttest.S2C("login: ")}, append(typed("root\r\n", true), append([]dissecttest.Message{dissecttest.S2C("Password:")}, typed("toor\r\n", false)...)...)...),
			[]string{"session authentication req=true resp=false unknown remote_access=true user=root cleartext_credentials=true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, op := range dissecttest.FeedMessages(t, Dissector{}, 23, tt.msgs...) {
				got = append(got, summary(op))
				for _, pw := range []string{"hunter2", "Adm1n", "cisco", "toor"} {
					if strings.Contains(summary(op), pw) {
						t.Errorf("password leaked: %s", summary(op))
					}
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("operations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestAgainstTshark checks the IAC stripping against tshark: the user name
// reported is the first line of the client's data as tshark decodes it
// (telnet.data, negotiation removed), and tshark sees the same
// negotiation commands.
func TestAgainstTshark(t *testing.T) {
	path := dissecttest.WriteTCP(t, dissecttest.Conversation{Client: netip.MustParseAddrPort("10.10.1.20:50000"),
		Server: netip.MustParseAddrPort("10.10.2.10:23"), Msgs: login("operator", "hunter2", "rtu7$ ")})
	ops := dissecttest.Operations(t, path, "telnet").Ops
	if len(ops) != 1 {
		t.Fatalf("%d operations, want 1", len(ops))
	}
	user := ""
	for _, a := range ops[0].Attrs {
		if a.Key == "user" {
			user = a.Value
		}
	}
	var client strings.Builder
	for _, row := range dissecttest.TsharkFields(t, path, []string{"-Y", "tcp.dstport==23"}, "telnet.data") {
		for _, d := range row["telnet.data"] {
			client.WriteString(d)
		}
	}
	first, _, _ := strings.Cut(strings.ReplaceAll(client.String(), "\\r", "\r"), "\r")
	if user == "" || !strings.HasSuffix(first, user) {
		t.Errorf("user %q, tshark's client data %q", user, client.String())
	}
	// RFC 854: DO, WILL, SB, SE from the server; WILL, SB, SE from the
	// client: all stripped, none reaching the data above.
	if cmds := dissecttest.TsharkValues(t, path, nil, "telnet.cmd"); len(cmds) != 7 {
		t.Errorf("tshark sees %d negotiation commands %q, want 7", len(cmds), cmds)
	}
}

func FuzzSession(f *testing.F) {
	for _, m := range login("operator", "hunter2", "Login incorrect\r\n") {
		f.Add([]byte(m.Data))
	}
	f.Add([]byte(srvNegotiation + "login: "))
	f.Fuzz(func(t *testing.T, data []byte) {
		for cut := range 3 {
			dissecttest.FeedWholeAndSplit(t, Dissector{}, dissect.ToServer, data, len(data)*cut/2)
			dissecttest.FeedWholeAndSplit(t, Dissector{}, dissect.ToClient, data, len(data)*cut/2+1)
		}
	})
}

// shellOutput is what a logged-in session carries most of the time.
var shellOutput = []byte("PID TTY          TIME CMD\r\n  1 ?        00:00:03 init\r\n 42 pts/0    00:00:00 sh\r\nrtu7$ ")

func TestShellAllocatesNothing(t *testing.T) {
	flow := dissecttest.Flow(dissect.TransportTCP, 23)
	s := Dissector{}.NewSession(flow)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	if a := testing.AllocsPerRun(100, func() {
		s.Feed(dissect.ToServer, []byte("ps\r\n"), ctx)
		s.Feed(dissect.ToClient, shellOutput, ctx)
	}); a != 0 {
		t.Errorf("%v allocations per command, want 0", a)
	}
}

func BenchmarkShell(b *testing.B) {
	flow := dissecttest.Flow(dissect.TransportTCP, 23)
	s := Dissector{}.NewSession(flow)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	b.ReportAllocs()
	b.SetBytes(int64(len(shellOutput)))
	for b.Loop() {
		s.Feed(dissect.ToClient, shellOutput, ctx)
	}
}
