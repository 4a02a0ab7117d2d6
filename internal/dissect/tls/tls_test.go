package tls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	ctls "crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
	"github.com/otwatch/otwatch/internal/testenv"
)

// recorder keeps what both ends of an in-memory connection write, in
// order.
type recorder struct {
	mu   sync.Mutex
	msgs []dissecttest.Message
}

type recConn struct {
	net.Conn
	r        *recorder
	toServer bool
}

func (c recConn) Write(b []byte) (int, error) {
	c.r.mu.Lock()
	c.r.msgs = append(c.r.msgs, dissecttest.Message{ToServer: c.toServer, Data: string(b)})
	c.r.mu.Unlock()
	return c.Conn.Write(b)
}

// testCert returns a leaf certificate for cn signed by a CA called issuer.
func testCert(t testing.TB, cn, issuer string) ctls.Certificate {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: issuer, Organization: []string{"Plant"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: cn}, DNSNames: []string{cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, leaf, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return ctls.Certificate{Certificate: [][]byte{der}, PrivateKey: leafKey}
}

// handshake runs a crypto/tls client against a crypto/tls server in memory
// and returns the bytes each side wrote: an implementation independent of
// the dissector produces the test input.
func handshake(t testing.TB, maxVersion uint16, sni string, alpn []string) []dissecttest.Message {
	t.Helper()
	a, b := net.Pipe()
	r := &recorder{}
	cert := testCert(t, "plc01.plant.example", "Plant Test CA")
	srv := ctls.Server(recConn{b, r, false}, &ctls.Config{Certificates: []ctls.Certificate{cert}, NextProtos: []string{"http/1.1", "h2"}, MaxVersion: maxVersion})
	cli := ctls.Client(recConn{a, r, true}, &ctls.Config{ServerName: sni, InsecureSkipVerify: true, NextProtos: alpn, MaxVersion: maxVersion})
	errc := make(chan error, 1)
	go func() {
		if err := srv.Handshake(); err != nil {
			errc <- err
			return
		}
		buf := make([]byte, 64)
		n, err := srv.Read(buf)
		if err == nil {
			_, err = srv.Write(buf[:n])
		}
		errc <- err
	}()
	if err := cli.Handshake(); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Write([]byte("GET / HTTP/1.1\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(cli, make([]byte, 18)); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	a.Close()
	b.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.msgs
}

func attrs(op *dissect.Operation) map[string]string {
	m := map[string]string{}
	for _, a := range op.Attrs {
		m[a.Key] = a.Value
	}
	return m
}

// TestHandshakes checks the fields RFC 8446 and RFC 5246 put in clear:
// SNI and ALPN of the ClientHello, version and cipher of the ServerHello,
// and the certificate only below TLS 1.3 (encrypted in 1.3, section 4.4).
func TestHandshakes(t *testing.T) {
	for _, tt := range []struct {
		name    string
		max     uint16
		version string
		cert    bool
	}{
		// Both ends are limited to the version under test, so the
		// client's highest offer is that version too.
		{"TLS 1.2", ctls.VersionTLS12, "TLS 1.2", true},
		{"TLS 1.3", ctls.VersionTLS13, "TLS 1.3", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ops := dissecttest.FeedMessages(t, Dissector{}, 443, handshake(t, tt.max, "plc01.plant.example", []string{"h2", "http/1.1"})...)
			if len(ops) != 1 {
				t.Fatalf("%d operations, want 1", len(ops))
			}
			op := ops[0]
			a := attrs(op)
			if op.FunctionName != "handshake" || op.Class != dissect.ClassAuthentication || !op.Request || !op.Response || op.Result.Status != dissect.StatusOK {
				t.Errorf("operation %+v", op)
			}
			// The selected ALPN protocol travels in EncryptedExtensions in
			// TLS 1.3 (RFC 8446 section 4.3.1), in the ServerHello before.
			wantSelected := "http/1.1"
			if tt.max == ctls.VersionTLS13 {
				wantSelected = ""
			}
			if a["server_name"] != "plc01.plant.example" || a["alpn"] != "h2,http/1.1" || a["alpn_selected"] != wantSelected ||
				a["version"] != tt.version || a["client_version"] != tt.version {
				t.Errorf("attrs %v", a)
			}
			hasCert := a["certificate_subject"] == "plc01.plant.example" && a["certificate_issuer"] == "Plant Test CA" &&
				len(op.Identity) == 1 && op.Identity[0] == dissect.Fact{Key: dissect.FactHostname, Value: "plc01.plant.example", Server: true}
			if hasCert != tt.cert {
				t.Errorf("certificate seen %v, want %v: %v %v", hasCert, tt.cert, a, op.Identity)
			}
		})
	}
}

func TestAlertAndMalformed(t *testing.T) {
	hello := handshake(t, ctls.VersionTLS12, "x", nil)[0]
	// Fatal handshake_failure alert (RFC 8446 section 6: level 2, code 40).
	ops := dissecttest.FeedMessages(t, Dissector{}, 443, hello, dissecttest.S2C("\x15\x03\x03\x00\x02\x02\x28"))
	if len(ops) != 1 || ops[0].Result.Status != dissect.StatusError || ops[0].Result.Code != 40 || ops[0].Result.Text != "handshake_failure" {
		t.Errorf("alert: %+v", ops)
	}
	// A connection that does not start with a record header (a capture
	// starting mid-record) says nothing and is not malformed.
	if ops = dissecttest.FeedMessages(t, Dissector{}, 443, dissecttest.C2S("GET / HTTP/1.1\r\n\r\n")); len(ops) != 0 {
		t.Errorf("not TLS: %+v", ops)
	}
	// After a valid record, a record type outside RFC 8446 section 5.1's
	// 20..23 is malformed; the ClientHello seen before is reported first.
	ops = dissecttest.FeedMessages(t, Dissector{}, 443, hello, dissecttest.C2S("\x63\x03\x03\x00\x01\x00"))
	if len(ops) != 2 || ops[0].FunctionName != "handshake" || ops[1].Result.Status != dissect.StatusMalformed {
		t.Errorf("bad record type: %+v", ops)
	}
	ops = dissecttest.FeedMessages(t, Dissector{}, 443, hello)
	if len(ops) != 1 || !ops[0].Request || ops[0].Response || ops[0].Result.Status != dissect.StatusUnknown {
		t.Errorf("unanswered ClientHello: %+v", ops)
	}
}

func TestProbe(t *testing.T) {
	hello := handshake(t, ctls.VersionTLS12, "x", nil)
	for in, want := range map[string]bool{
		hello[0].Data:              true,
		hello[1].Data:              true,
		"\x16\x03\x01\x00":         false,
		"\x17\x03\x03\x00\x10\x01": true, // application data, mid-connection
		"\x17\x03\x03\x50\x00\x01": false,
		"GET / HTTP/1.1\r\n":       false,
	} {
		if got := (Dissector{}).Probe([]byte(in)); got != want {
			t.Errorf("Probe(%q) = %v, want %v", in[:min(len(in), 8)], got, want)
		}
	}
}

// TestAgainstTshark writes handshakes made by crypto/tls into a capture
// and compares what otwatch reports with tshark's handshake fields.
func TestAgainstTshark(t *testing.T) {
	convs := []dissecttest.Conversation{
		{Client: netip.MustParseAddrPort("10.10.1.20:50000"), Server: netip.MustParseAddrPort("10.10.2.10:443"),
			Msgs: handshake(t, ctls.VersionTLS12, "plc01.plant.example", []string{"http/1.1"})},
		{Client: netip.MustParseAddrPort("10.10.1.21:50001"), Server: netip.MustParseAddrPort("10.10.2.11:4843"), MSS: 100,
			Msgs: handshake(t, ctls.VersionTLS13, "opcua.plant.example", nil)},
		// A port nobody registers: found by the content probe.
		{Client: netip.MustParseAddrPort("10.10.1.22:50002"), Server: netip.MustParseAddrPort("10.10.2.12:9443"),
			Msgs: handshake(t, ctls.VersionTLS12, "historian", []string{"h2"})},
	}
	path := dissecttest.WriteTCP(t, convs...)
	compareWithTshark(t, path, []string{"-d", "tcp.port==9443,tls", "-d", "tcp.port==4843,tls"}, true)
}

// compareWithTshark compares server names, negotiated versions, cipher
// suites and certificate names.
func compareWithTshark(t *testing.T, path string, tsharkArgs []string, certs bool) {
	t.Helper()
	ops := dissecttest.Operations(t, path, "tls").Ops
	var snis, ciphers, versions, cns []string
	hellos := 0
	for _, op := range ops {
		a := attrs(op)
		if op.Request && op.FunctionName == "handshake" {
			hellos++
		}
		if a["server_name"] != "" {
			snis = append(snis, a["server_name"])
		}
		if c, ok := a["cipher"]; ok {
			ciphers = append(ciphers, c)
			versions = append(versions, a["version"])
		}
		if a["certificate_subject"] != "" {
			cns = append(cns, a["certificate_subject"], a["certificate_issuer"])
		}
	}
	var wantCiphers, wantVersions []string
	for _, row := range dissecttest.TsharkFields(t, path, append(slices.Clone(tsharkArgs), "-Y", "tls.handshake.type==2"),
		"tls.handshake.ciphersuite", "tls.handshake.version", "tls.handshake.extensions.supported_version") {
		for _, c := range row["tls.handshake.ciphersuite"] {
			id, err := strconv.ParseUint(strings.TrimPrefix(c, "0x"), 16, 16)
			if err != nil {
				t.Fatalf("cipher %q: %v", c, err)
			}
			// crypto/tls names suites as IANA does; tshark prints the code.
			wantCiphers = append(wantCiphers, ctls.CipherSuiteName(uint16(id)))
		}
		v := row["tls.handshake.version"]
		if sv := row["tls.handshake.extensions.supported_version"]; len(sv) > 0 {
			v = sv
		}
		for _, x := range v {
			id, _ := strconv.ParseUint(strings.TrimPrefix(x, "0x"), 16, 16)
			wantVersions = append(wantVersions, ctls.VersionName(uint16(id)))
		}
	}
	if want := len(dissecttest.TsharkFields(t, path, append(slices.Clone(tsharkArgs), "-Y", "tls.handshake.type==1"), "frame.number")); hellos != want {
		t.Errorf("%d handshakes with a ClientHello, tshark has %d ClientHello frames", hellos, want)
	}
	var wantCNs []string
	if certs {
		for _, row := range dissecttest.TsharkFields(t, path, append(slices.Clone(tsharkArgs), "-Y", "tls.handshake.type==11"), "x509sat.printableString", "x509sat.uTF8String") {
			wantCNs = append(wantCNs, row["x509sat.printableString"]...)
			wantCNs = append(wantCNs, row["x509sat.uTF8String"]...)
		}
	}
	for _, c := range []struct {
		field     string
		got, want []string
		subset    bool
	}{
		{"tls.handshake.extensions_server_name", snis, dissecttest.TsharkValues(t, path, tsharkArgs, "tls.handshake.extensions_server_name"), false},
		{"tls.handshake.ciphersuite (ServerHello)", ciphers, wantCiphers, false},
		{"tls.handshake.version (ServerHello)", versions, wantVersions, false},
		// The certificate's directory strings: subject CN and issuer CN are
		// among them (the issuer's organisation is too).
		{"x509sat strings", cns, wantCNs, true},
	} {
		slices.Sort(c.got)
		slices.Sort(c.want)
		if c.subset {
			for _, g := range c.got {
				if !slices.Contains(c.want, g) {
					t.Errorf("%s: otwatch %q not among tshark's %q", c.field, g, c.want)
				}
			}
			continue
		}
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s: otwatch %q, tshark %q", c.field, c.got, c.want)
		}
	}
}

// TestCorpus compares the TLS flows inside corpus captures with tshark.
func TestCorpus(t *testing.T) {
	dir := testenv.Corpus(t)
	cases := dissecttest.CasesWithTCPLayer(t, dir, "tls")
	if len(cases) == 0 {
		t.Fatal("no corpus case carries TLS")
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			compareWithTshark(t, c.Capture, c.TsharkArgs, true)
		})
	}
}

func FuzzSession(f *testing.F) {
	for _, m := range handshake(f, ctls.VersionTLS12, "plc01", []string{"h2"}) {
		f.Add([]byte(m.Data))
	}
	for _, m := range handshake(f, ctls.VersionTLS13, "plc01", nil)[:2] {
		f.Add([]byte(m.Data))
	}
	if dir := dissecttest.CorpusDir(); dir != "" {
		for _, c := range dissecttest.CasesWithTCPLayer(f, dir, "tls") {
			dissecttest.SeedFromPcaps(f, c.Capture, 100)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for cut := range 3 {
			dissecttest.FeedWholeAndSplit(t, Dissector{}, dissect.ToServer, data, len(data)*cut/2)
			dissecttest.FeedWholeAndSplit(t, Dissector{}, dissect.ToClient, data, len(data)*cut/2+1)
		}
	})
}

// TestEncryptedAllocatesNothing pins the steady state: application data
// records after the handshake are skipped without allocation.
func TestEncryptedAllocatesNothing(t *testing.T) {
	msgs := handshake(t, ctls.VersionTLS12, "plc01", nil)
	flow := dissecttest.Flow(dissect.TransportTCP, 443)
	s := Dissector{}.NewSession(flow)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	for _, m := range msgs[:4] {
		dir := dissect.ToClient
		if m.ToServer {
			dir = dissect.ToServer
		}
		s.Feed(dir, []byte(m.Data), ctx)
	}
	record := []byte("\x17\x03\x03\x00\x20" + strings.Repeat("\xaa", 32))
	if a := testing.AllocsPerRun(100, func() { s.Feed(dissect.ToServer, record, ctx) }); a != 0 {
		t.Errorf("%v allocations per encrypted record, want 0", a)
	}
}

// BenchmarkHandshake measures one TLS 1.2 handshake (certificate parsing
// included) per iteration.
func BenchmarkHandshake(b *testing.B) {
	msgs := handshake(b, ctls.VersionTLS12, "plc01.plant.example", []string{"http/1.1"})
	flow := dissecttest.Flow(dissect.TransportTCP, 443)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	var n int64
	for _, m := range msgs {
		n += int64(len(m.Data))
	}
	b.ReportAllocs()
	b.SetBytes(n)
	for b.Loop() {
		s := Dissector{}.NewSession(flow)
		for _, m := range msgs {
			dir := dissect.ToClient
			if m.ToServer {
				dir = dissect.ToServer
			}
			s.Feed(dir, []byte(m.Data), ctx)
		}
		s.Close(ctx)
	}
}
