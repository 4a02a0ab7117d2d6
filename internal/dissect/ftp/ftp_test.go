package ftp

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
	s := fmt.Sprintf("%s %s req=%v resp=%v %s %d", op.FunctionName, op.Class, op.Request, op.Response, op.Result.Status, op.Result.Code)
	for _, tg := range op.Targets {
		s += " " + tg.Kind + ":" + tg.Name
	}
	for _, a := range op.Attrs {
		s += " " + a.Key + "=" + a.Value
	}
	for _, f := range op.Identity {
		s += fmt.Sprintf(" fact:%s=%s", f.Key, f.Value)
	}
	return s
}

// session is a control connection as RFC 959 describes it (section 5.3
// commands, section 4.2 replies, a multi-line reply, passive mode by 227
// and RFC 2428's 229, active mode by PORT).
var session = []dissecttest.Message{
	dissecttest.S2C("220-ProFTPD 1.3.5 Server (PLC file service)\r\n220 ready\r\n"),
	dissecttest.C2S("USER engineer\r\n"), dissecttest.S2C("331 Password required for engineer\r\n"),
	dissecttest.C2S("PASS s3cret!\r\n"), dissecttest.S2C("230 User engineer logged in\r\n"),
	dissecttest.C2S("TYPE I\r\n"), dissecttest.S2C("200 Type set to I\r\n"),
	dissecttest.C2S("PASV\r\n"), dissecttest.S2C("227 Entering Passive Mode (10,10,2,10,195,80).\r\n"),
	dissecttest.C2S("RETR /config/plc.cfg\r\n"), dissecttest.S2C("150 Opening BINARY mode data connection\r\n226 Transfer complete\r\n"),
	dissecttest.C2S("EPSV\r\n"), dissecttest.S2C("229 Entering Extended Passive Mode (|||50001|)\r\n"),
	dissecttest.C2S("PORT 10,10,1,20,195,81\r\n"), dissecttest.S2C("200 PORT command successful\r\n"),
	dissecttest.C2S("STOR firmware.bin\r\n"), dissecttest.S2C("553 Could not create file\r\n"),
	dissecttest.C2S("QUIT\r\n"),
}

func TestSession(t *testing.T) {
	want := []string{
		"greeting other req=false resp=true ok 220 banner=ProFTPD 1.3.5 Server (PLC file service) fact:product=ProFTPD fact:firmware=1.3.5",
		"user authentication req=true resp=true ok 331 user=engineer",
		"pass authentication req=true resp=true ok 230 user=engineer cleartext_credentials=true",
		"type other req=true resp=true ok 200",
		"pasv other req=true resp=true ok 227 data_port=10.10.2.10:50000",
		"retr file req=true resp=true ok 226 file:/config/plc.cfg",
		"epsv other req=true resp=true ok 229 data_port=:50001",
		"port other req=true resp=true ok 200 data_port=10.10.1.20:50001",
		"stor file req=true resp=true error 553 file:firmware.bin",
		"quit other req=true resp=false unknown 0",
	}
	var got []string
	for _, op := range dissecttest.FeedMessages(t, Dissector{}, 21, session...) {
		got = append(got, summary(op))
		if strings.Contains(summary(op), "s3cret") {
			t.Errorf("password leaked: %s", summary(op))
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("operations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestBannerProduct(t *testing.T) {
	for in, want := range map[string]string{
		"ProFTPD 1.3.5 Server (Debian) [::ffff:10.0.0.1]": "ProFTPD 1.3.5",
		"(vsFTPd 3.0.3)":                   "vsFTPd 3.0.3",
		"VxWorks (5.4.2) FTP server ready": "VxWorks 5.4.2",
		"FileZilla Server 0.9.60 beta":     "Server 0.9.60",
		"Microsoft FTP Service":            " ",
		"Welcome to Pure-FTPd [privsep]":   " ",
	} {
		p, v := bannerProduct(in)
		if p+" "+v != want {
			t.Errorf("bannerProduct(%q) = %q %q, want %q", in, p, v, want)
		}
	}
}

func TestMalformedAndAuthTLS(t *testing.T) {
	ops := dissecttest.FeedMessages(t, Dissector{}, 21, dissecttest.S2C("220 x\r\n"), dissecttest.C2S("\x16\x03\x01\r\n"), dissecttest.C2S("AUTH TLS\r\n"), dissecttest.S2C("234 AUTH TLS successful\r\n"), dissecttest.C2S("\x16\x03\x01\x02\x00garbage\r\n"))
	var got []string
	for _, op := range ops {
		got = append(got, summary(op))
	}
	want := []string{
		"greeting other req=false resp=true ok 220 banner=x",
		"malformed other req=true resp=false malformed 0",
		"auth authentication req=true resp=true ok 234",
	}
	if !slices.Equal(got, want) {
		t.Errorf("operations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestAgainstTshark compares commands, arguments and reply codes with
// tshark's ftp fields.
func TestAgainstTshark(t *testing.T) {
	// tshark's FTP dissector decodes the first line of each segment and
	// does not reassemble lines across segments: one line per segment.
	var msgs []dissecttest.Message
	for _, m := range session {
		for _, line := range strings.SplitAfter(m.Data, "\r\n") {
			if line != "" {
				msgs = append(msgs, dissecttest.Message{ToServer: m.ToServer, Data: line})
			}
		}
	}
	path := dissecttest.WriteTCP(t, dissecttest.Conversation{Client: netip.MustParseAddrPort("10.10.1.20:50000"),
		Server: netip.MustParseAddrPort("10.10.2.10:21"), Msgs: msgs})
	var cmds, files, codes []string
	for _, op := range dissecttest.Operations(t, path, "ftp").Ops {
		if op.Request {
			cmds = append(cmds, strings.ToUpper(op.FunctionName))
		}
		for _, tg := range op.Targets {
			files = append(files, tg.Name)
		}
		if op.Response {
			codes = append(codes, strconv.Itoa(op.Result.Code))
		}
	}
	var wantFiles []string
	for _, row := range dissecttest.TsharkFields(t, path, nil, "ftp.request.command", "ftp.request.arg") {
		if c := row["ftp.request.command"]; len(c) > 0 && (c[0] == "RETR" || c[0] == "STOR") {
			wantFiles = append(wantFiles, row["ftp.request.arg"]...)
		}
	}
	// tshark counts each reply line of a multi-line reply and the
	// preliminary 150; otwatch pairs a command with its final reply.
	var wantCodes []string
	for _, c := range dissecttest.TsharkValues(t, path, nil, "ftp.response.code") {
		if c != "150" {
			wantCodes = append(wantCodes, c)
		}
	}
	wantCodes = slices.Compact(wantCodes) // the two lines of the 220 greeting
	for _, c := range []struct {
		field     string
		got, want []string
	}{
		{"ftp.request.command", cmds, dissecttest.TsharkValues(t, path, nil, "ftp.request.command")},
		{"ftp.request.arg (RETR/STOR)", files, wantFiles},
		{"ftp.response.code", codes, wantCodes},
	} {
		slices.Sort(c.got)
		slices.Sort(c.want)
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s: otwatch %q, tshark %q", c.field, c.got, c.want)
		}
	}
}

func FuzzSession(f *testing.F) {
	var all [2]string
	for _, m := range session {
		f.Add([]byte(m.Data))
		if m.ToServer {
			all[0] += m.Data
		} else {
			all[1] += m.Data
		}
	}
	f.Add([]byte(all[0]))
	f.Add([]byte(all[1]))
	f.Fuzz(func(t *testing.T, data []byte) {
		for cut := range 3 {
			dissecttest.FeedWholeAndSplit(t, Dissector{}, dissect.ToServer, data, len(data)*cut/2)
			dissecttest.FeedWholeAndSplit(t, Dissector{}, dissect.ToClient, data, len(data)*cut/2+1)
		}
	})
}

var (
	pollCmd   = []byte("SIZE /log/alarms.csv\r\n")
	pollReply = []byte("213 40960\r\n")
)

// TestPollAllocatesNothing pins the steady state of a client polling a
// file's size.
func TestPollAllocatesNothing(t *testing.T) {
	flow := dissecttest.Flow(dissect.TransportTCP, 21)
	s := Dissector{}.NewSession(flow)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	run := func() {
		s.Feed(dissect.ToServer, pollCmd, ctx)
		s.Feed(dissect.ToClient, pollReply, ctx)
	}
	run()
	if a := testing.AllocsPerRun(100, run); a != 0 {
		t.Errorf("%v allocations per command, want 0", a)
	}
}

func BenchmarkSession(b *testing.B) {
	flow := dissecttest.Flow(dissect.TransportTCP, 21)
	s := Dissector{}.NewSession(flow)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	b.ReportAllocs()
	b.SetBytes(int64(len(pollCmd) + len(pollReply)))
	for b.Loop() {
		s.Feed(dissect.ToServer, pollCmd, ctx)
		s.Feed(dissect.ToClient, pollReply, ctx)
	}
}
