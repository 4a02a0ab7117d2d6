package smb

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
	"github.com/otwatch/otwatch/internal/testenv"
)

// The builders below write messages field by field from [MS-SMB2] 2.2,
// [MS-NLMP] 2.2.1 and RFC 1002 4.3.1.

func le16(v int) []byte { return binary.LittleEndian.AppendUint16(nil, uint16(v)) }
func le32(v int) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }

func u16s(s string) []byte {
	var b []byte
	for _, c := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, c)
	}
	return b
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// nbss frames an SMB message for direct TCP / NetBIOS session service.
func nbss(msg []byte) string {
	return string(cat([]byte{0, byte(len(msg) >> 16), byte(len(msg) >> 8), byte(len(msg))}, msg))
}

// smb2 builds a header ([MS-SMB2] 2.2.1.2, sync) followed by body.
func smb2(cmd int, mid int, response bool, status uint32, body []byte) []byte {
	flags := 0
	if response {
		flags = 1
	}
	h := cat([]byte("\xfeSMB"), le16(64), le16(1), le32(int(status)), le16(cmd), le16(1), le32(flags), le32(0),
		binary.LittleEndian.AppendUint64(nil, uint64(mid)), le32(0xfeff), le32(1), binary.LittleEndian.AppendUint64(nil, 0x1000), make([]byte, 16))
	return cat(h, body)
}

// ntlmAuthenticate is an AUTHENTICATE message (NTLMSSP_NEGOTIATE_UNICODE)
// for PLANT\engineer from workstation EWS01.
func ntlmAuthenticate() []byte {
	domain, user, ws := u16s("PLANT"), u16s("engineer"), u16s("EWS01")
	off := 64
	fieldAt := func(b []byte) []byte {
		f := cat(le16(len(b)), le16(len(b)), le32(off))
		off += len(b)
		return f
	}
	lm, nt := make([]byte, 24), make([]byte, 24)
	hdr := cat([]byte("NTLMSSP\x00"), le32(3), fieldAt(lm), fieldAt(nt), fieldAt(domain), fieldAt(user), fieldAt(ws), fieldAt(nil), le32(0x00000201))
	return cat(hdr, lm, nt, domain, user, ws)
}

// ntlmChallenge is a CHALLENGE message with target info naming the server
// PLC-SRV in domain PLANT and version 10.0 build 19041.
func ntlmChallenge() []byte {
	name := u16s("PLANT")
	av := func(id int, s string) []byte { v := u16s(s); return cat(le16(id), le16(len(v)), v) }
	info := cat(av(2, "PLANT"), av(1, "PLC-SRV"), av(3, "plc-srv.plant.local"), le16(0), le16(0))
	flags := 0x02000000 | 0x00800000 | 0x00000201
	return cat([]byte("NTLMSSP\x00"), le32(2), le16(len(name)), le16(len(name)), le32(56), le32(flags),
		[]byte("\x01\x23\x45\x67\x89\xab\xcd\xef"), make([]byte, 8),
		le16(len(info)), le16(len(info)), le32(56+len(name)), []byte{10, 0}, le16(19041), []byte{0, 0, 0, 15}, name, info)
}

func sessionSetupReq(blob []byte) []byte {
	return cat(le16(25), []byte{0, 1}, le32(0), le32(0), le16(64+24), le16(len(blob)), make([]byte, 8), blob)
}

func sessionSetupResp(blob []byte) []byte {
	return cat(le16(9), le16(0), le16(64+8), le16(len(blob)), blob)
}

var (
	ntlmNegotiate = cat([]byte("NTLMSSP\x00"), le32(1), le32(0x00000201), make([]byte, 16))
	path          = `\\PLC-SRV\recipes`
	file          = `batch\recipe7.csv`

	// smb2Session is a client negotiating SMB 2.1, authenticating with
	// NTLM, connecting to a share, being refused a file and echoing.
	smb2Session = []dissecttest.Message{
		dissecttest.C2S(nbss(smb2(0, 0, false, 0, cat(le16(36), le16(3), le16(1), le16(0), le32(0), make([]byte, 16), make([]byte, 8), le16(0x0202), le16(0x0210), le16(0x0300))))),
		dissecttest.S2C(nbss(smb2(0, 0, true, 0, cat(le16(65), le16(1), le16(0x0210), le16(0), make([]byte, 16), le32(0), le32(65536), le32(65536), le32(65536), make([]byte, 16), le16(128), le16(0), le32(0), []byte{0})))),
		dissecttest.C2S(nbss(smb2(1, 1, false, 0, sessionSetupReq(ntlmNegotiate)))),
		dissecttest.S2C(nbss(smb2(1, 1, true, 0xc0000016, sessionSetupResp(ntlmChallenge())))),
		dissecttest.C2S(nbss(smb2(1, 2, false, 0, sessionSetupReq(ntlmAuthenticate())))),
		dissecttest.S2C(nbss(smb2(1, 2, true, 0, sessionSetupResp(nil)))),
		dissecttest.C2S(nbss(smb2(3, 3, false, 0, cat(le16(9), le16(0), le16(72), le16(len(u16s(path))), u16s(path))))),
		dissecttest.S2C(nbss(smb2(3, 3, true, 0, cat(le16(16), []byte{1, 0}, le32(0), le32(0), le32(0x1f01ff))))),
		dissecttest.C2S(nbss(smb2(5, 4, false, 0, cat(le16(57), []byte{0, 0}, le32(2), make([]byte, 16), le32(0x120089), le32(0), le32(7), le32(1), le32(0x40),
			le16(120), le16(len(u16s(file))), le32(0), le32(0), u16s(file))))),
		dissecttest.S2C(nbss(smb2(5, 4, true, 0xc0000022, cat(le16(9), []byte{0, 0}, le32(0), []byte{0})))),
		dissecttest.C2S(nbss(smb2(13, 5, false, 0, cat(le16(4), le16(0))))),
		dissecttest.S2C(nbss(smb2(13, 5, true, 0, cat(le16(4), le16(0))))),
	}
)

func summary(op *dissect.Operation) string {
	s := fmt.Sprintf("%s %d %s req=%v resp=%v %s %#x", op.FunctionName, op.FunctionCode, op.Class, op.Request, op.Response, op.Result.Status, op.Result.Code)
	for _, tg := range op.Targets {
		s += " " + tg.Kind + ":" + tg.Name
	}
	return s + dissecttest.AttrText(op) + dissecttest.FactText(op)
}

func TestSMB2Session(t *testing.T) {
	want := []string{
		"negotiate 0 authentication req=true resp=true ok 0x0 dialects=2.0.2,2.1,3.0 dialect=2.1",
		"session_setup 1 authentication req=true resp=true ok 0xc0000016 server_domain=PLANT fact:hostname=PLC-SRV(server=true) fact:hostname=plc-srv.plant.local(server=true) fact:os=Windows 10.0 build 19041(server=true)",
		"session_setup 1 authentication req=true resp=true ok 0x0 user=engineer domain=PLANT fact:hostname=EWS01(server=false)",
		`tree_connect 3 file req=true resp=true ok 0x0 share:\\PLC-SRV\recipes`,
		`create 5 file req=true resp=true error 0xc0000022 file:batch\recipe7.csv`,
		"echo 13 other req=true resp=true ok 0x0",
	}
	var got []string
	for _, op := range dissecttest.FeedMessages(t, Dissector{}, 445, smb2Session...) {
		got = append(got, summary(op))
	}
	if !slices.Equal(got, want) {
		t.Errorf("operations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestNetBIOS checks the session request of RFC 1002 section 4.3.2: the
// called and calling names in first-level encoding (RFC 1001 section
// 14.1), and a negative response (section 4.3.4, error 0x82: called name
// not present).
func TestNetBIOS(t *testing.T) {
	enc := func(name string, suffix byte) string {
		n := []byte(fmt.Sprintf("%-15s", name))
		n = append(n, suffix)
		out := []byte{0x20}
		for _, c := range n {
			out = append(out, 'A'+c>>4, 'A'+c&15)
		}
		return string(append(out, 0))
	}
	req := "\x81\x00\x00\x44" + enc("PLC-SRV", 0x20) + enc("EWS01", 0)
	ops := dissecttest.FeedMessages(t, Dissector{}, 445, dissecttest.C2S(req), dissecttest.S2C("\x83\x00\x00\x01\x82"))
	want := "session_request 129 other req=true resp=true error 0x82 netbios_name:PLC-SRV fact:hostname=PLC-SRV(server=true) fact:hostname=EWS01(server=false)"
	if len(ops) != 1 || summary(ops[0]) != want {
		t.Errorf("operations %v, want %s", ops, want)
	}
	if !(Dissector{}).Probe([]byte(req)) {
		t.Error("Probe rejects a session request")
	}
}

func TestProbe(t *testing.T) {
	for in, want := range map[string]bool{
		smb2Session[0].Data:            true,
		"\x00\x00\x00\x2f\xffSMBr":     true,
		"\x00\x00\x00\x10\xfdSMB":      true,
		"\x00\x00\x00\x06\x00\x01\x00": false,
		"GET / HTTP/1.1\r\n":           false,
		"\x81\x00\x00\x44\x20ABCD":     false,
	} {
		if got := (Dissector{}).Probe([]byte(in)); got != want {
			t.Errorf("Probe(%q) = %v, want %v", in, got, want)
		}
	}
}

// opCounts counts requests and responses per command code the way tshark
// lists them: "<code> request" / "<code> response".
func opCounts(ops []*dissect.Operation) map[string]int {
	m := map[string]int{}
	for _, op := range ops {
		if op.FunctionName == "session_request" || op.Result.Status == dissect.StatusMalformed {
			continue
		}
		code := strconv.Itoa(op.FunctionCode)
		if op.Request {
			m[code+" request"]++
		}
		if op.Response {
			m[code+" response"]++
		}
	}
	return m
}

// tsharkCounts counts tshark's SMB commands (the first command of an AndX
// chain) per direction.
func tsharkCounts(t *testing.T, path string, cmdField, respField string) map[string]int {
	m := map[string]int{}
	// SMB over TCP only: the captures also carry SMB browser
	// announcements in NetBIOS datagrams (UDP 138).
	for _, row := range dissecttest.TsharkFields(t, path, []string{"-Y", "tcp"}, cmdField, respField) {
		cmds, resp := row[cmdField], row[respField]
		if len(cmds) == 0 || len(resp) == 0 {
			continue
		}
		for i, c := range cmds {
			if cmdField == "smb.cmd" && i > 0 {
				break // AndX followers are not separate operations
			}
			// smb.cmd prints in hex ("0x72"), smb2.cmd in decimal.
			n, err := strconv.ParseUint(c, 0, 16)
			if err != nil {
				t.Fatalf("%s %q: %v", cmdField, c, err)
			}
			dir := "request"
			if r := resp[min(i, len(resp)-1)]; r == "1" || r == "True" {
				dir = "response"
			}
			m[strconv.Itoa(int(n))+" "+dir]++
		}
	}
	return m
}

func TestSMB2AgainstTshark(t *testing.T) {
	path := dissecttest.WriteTCP(t, dissecttest.Conversation{Client: netip.MustParseAddrPort("10.10.1.20:50000"),
		Server: netip.MustParseAddrPort("10.10.2.10:445"), Msgs: smb2Session})
	ops := dissecttest.Operations(t, path, "smb").Ops
	if got, want := opCounts(ops), tsharkCounts(t, path, "smb2.cmd", "smb2.flags.response"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("commands: otwatch %v, tshark %v", got, want)
	}
	var users, hosts, domains, trees, files, dialects []string
	for _, op := range ops {
		for _, a := range op.Attrs {
			switch a.Key {
			case "user":
				users = append(users, a.Value)
			case "domain":
				domains = append(domains, a.Value)
			case "dialect":
				dialects = append(dialects, a.Value)
			}
		}
		for _, f := range op.Identity {
			if f.Key == dissect.FactHostname && !f.Server {
				hosts = append(hosts, f.Value)
			}
		}
		for _, tg := range op.Targets {
			if tg.Kind == "share" {
				trees = append(trees, tg.Name)
			} else {
				files = append(files, tg.Name)
			}
		}
	}
	var wantDialect []string
	for _, row := range dissecttest.TsharkFields(t, path, nil, "smb2.dialect", "smb2.flags.response") {
		if r := row["smb2.flags.response"]; len(r) > 0 && (r[0] == "1" || r[0] == "True") {
			for _, d := range row["smb2.dialect"] {
				n, _ := strconv.ParseUint(strings.TrimPrefix(d, "0x"), 16, 16)
				wantDialect = append(wantDialect, dialectName(uint16(n)))
			}
		}
	}
	// tshark repeats the tree name on every message of the tree; the tree
	// connect request is the one that carries it.
	var wantTrees []string
	for _, row := range dissecttest.TsharkFields(t, path, nil, "smb2.tree", "smb2.cmd", "smb2.flags.response") {
		if c := row["smb2.cmd"]; len(c) > 0 && c[0] == "3" && row["smb2.flags.response"][0] != "1" && row["smb2.flags.response"][0] != "True" {
			wantTrees = append(wantTrees, row["smb2.tree"]...)
		}
	}
	var wantFiles []string
	for _, row := range dissecttest.TsharkFields(t, path, nil, "smb2.filename", "smb2.cmd", "smb2.flags.response") {
		if c := row["smb2.cmd"]; len(c) > 0 && c[0] == "5" && row["smb2.flags.response"][0] != "1" && row["smb2.flags.response"][0] != "True" {
			wantFiles = append(wantFiles, row["smb2.filename"]...)
		}
	}
	for _, c := range []struct {
		field     string
		got, want []string
	}{
		{"ntlmssp.auth.username", users, dissecttest.TsharkValues(t, path, nil, "ntlmssp.auth.username")},
		{"ntlmssp.auth.domain", domains, dissecttest.TsharkValues(t, path, nil, "ntlmssp.auth.domain")},
		{"ntlmssp.auth.hostname", hosts, dissecttest.TsharkValues(t, path, nil, "ntlmssp.auth.hostname")},
		{"smb2.dialect (response)", dialects, wantDialect},
		{"smb2.tree (tree connect request)", trees, wantTrees},
		{"smb2.filename (create request)", files, wantFiles},
	} {
		slices.Sort(c.got)
		slices.Sort(c.want)
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s: otwatch %q, tshark %q", c.field, c.got, c.want)
		}
	}
}

// TestCorpus compares the SMB1 flows of the corpus (over NetBIOS on 139
// and direct on 445) with tshark: commands per direction, session
// requests, native OS strings, tree connect paths and NTLM workstation
// names.
func TestCorpus(t *testing.T) {
	dir := testenv.Corpus(t)
	cases := dissecttest.CasesWithTCPLayer(t, dir, "smb", "smb2")
	if len(cases) == 0 {
		t.Fatal("no corpus case carries SMB over TCP")
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			ops := dissecttest.Operations(t, c.Capture, "smb").Ops
			got := opCounts(ops)
			want := tsharkCounts(t, c.Capture, "smb.cmd", "smb.flags.response")
			for _, row := range dissecttest.TsharkFields(t, c.Capture, []string{"-Y", "tcp"}, "nbss.type") {
				for _, ty := range row["nbss.type"] {
					switch ty {
					case "0x81", "129":
						want["request 0x81"]++
					case "0x82", "0x83", "130", "131":
						want["response 0x81"]++
					}
				}
			}
			for _, op := range ops {
				if op.FunctionName == "session_request" {
					if op.Request {
						got["request 0x81"]++
					}
					if op.Response {
						got["response 0x81"]++
					}
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("commands: otwatch %v, tshark %v", got, want)
			}
			var oses, wantOS, paths, wantPaths, hosts []string
			for _, op := range ops {
				for _, f := range op.Identity {
					// NativeOS strings; NTLM version facts read "... build N".
					if f.Key == dissect.FactOS && !strings.Contains(f.Value, " build ") {
						oses = append(oses, f.Value)
					}
					if f.Key == dissect.FactHostname && !f.Server && op.FunctionName != "session_request" {
						hosts = append(hosts, f.Value)
					}
				}
				for _, tg := range op.Targets {
					if tg.Kind == "share" {
						paths = append(paths, tg.Name)
					}
				}
			}
			for _, row := range dissecttest.TsharkFields(t, c.Capture, []string{"-Y", "tcp"}, "smb.native_os") {
				wantOS = append(wantOS, row["smb.native_os"]...)
			}
			for _, row := range dissecttest.TsharkFields(t, c.Capture, []string{"-Y", "tcp && smb.cmd==0x75 && smb.flags.response==0"}, "smb.path") {
				wantPaths = append(wantPaths, row["smb.path"]...)
			}
			var wantHosts []string
			for _, h := range dissecttest.TsharkValues(t, c.Capture, []string{"-Y", "tcp"}, "ntlmssp.auth.hostname") {
				if h != "NULL" { // tshark's name for an empty field
					wantHosts = append(wantHosts, h)
				}
			}
			for _, x := range []struct {
				field     string
				got, want []string
			}{
				{"smb.native_os", oses, wantOS},
				{"smb.path (tree connect request)", paths, wantPaths},
				{"ntlmssp.auth.hostname", hosts, wantHosts},
			} {
				slices.Sort(x.got)
				slices.Sort(x.want)
				if !slices.Equal(x.got, x.want) {
					t.Errorf("%s: otwatch %q, tshark %q", x.field, x.got, x.want)
				}
			}
		})
	}
}

func FuzzSession(f *testing.F) {
	var all [2]string
	for _, m := range smb2Session {
		f.Add([]byte(m.Data))
		if m.ToServer {
			all[0] += m.Data
		} else {
			all[1] += m.Data
		}
	}
	f.Add([]byte(all[0]))
	f.Add([]byte(all[1]))
	if dir := dissecttest.CorpusDir(); dir != "" {
		for _, c := range dissecttest.CasesWithTCPLayer(f, dir, "smb", "smb2") {
			dissecttest.SeedFromPcaps(f, c.Capture, 300)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for cut := range 3 {
			dissecttest.FeedWholeAndSplit(t, Dissector{}, dissect.ToServer, data, len(data)*cut/2)
			dissecttest.FeedWholeAndSplit(t, Dissector{}, dissect.ToClient, data, len(data)*cut/2+1)
		}
	})
}

// readExchange is an SMB2 READ request and its response with 4 KiB of
// data: the steady state of a client reading a file.
var readExchange = [2][]byte{
	[]byte(nbss(smb2(8, 100, false, 0, cat(le16(49), []byte{0x50, 0}, le32(4096), make([]byte, 8), make([]byte, 16), le32(1), le32(0), le32(0), le16(0), le16(0), []byte{0})))),
	[]byte(nbss(smb2(8, 100, true, 0, cat(le16(17), []byte{0x50, 0}, le32(4096), le32(0), le32(0), make([]byte, 4096))))),
}

func TestReadAllocatesNothing(t *testing.T) {
	flow := dissecttest.Flow(dissect.TransportTCP, 445)
	s := Dissector{}.NewSession(flow)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	run := func() {
		if n, _ := s.Feed(dissect.ToServer, readExchange[0], ctx); n != len(readExchange[0]) {
			t.Fatalf("request: consumed %d of %d", n, len(readExchange[0]))
		}
		if n, _ := s.Feed(dissect.ToClient, readExchange[1], ctx); n != len(readExchange[1]) {
			t.Fatalf("response: consumed %d of %d", n, len(readExchange[1]))
		}
	}
	run()
	if a := testing.AllocsPerRun(100, run); a != 0 {
		t.Errorf("%v allocations per read, want 0", a)
	}
}

func BenchmarkRead(b *testing.B) {
	flow := dissecttest.Flow(dissect.TransportTCP, 445)
	s := Dissector{}.NewSession(flow)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	b.ReportAllocs()
	b.SetBytes(int64(len(readExchange[0]) + len(readExchange[1])))
	for b.Loop() {
		s.Feed(dissect.ToServer, readExchange[0], ctx)
		s.Feed(dissect.ToClient, readExchange[1], ctx)
	}
}
