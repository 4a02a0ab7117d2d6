package violation

import (
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/capture"
	"github.com/otwatch/otwatch/internal/detect"
	_ "github.com/otwatch/otwatch/internal/dissect/all" // the dissectors the wire tests run
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
	"github.com/otwatch/otwatch/internal/pipeline"
)

// The wire tests build messages from the protocol specifications, run
// them through the sensor's pipeline and dissectors, and check which alert
// the engine raises: the expected type follows from the specification's
// rule the message breaks.

var (
	master = netip.MustParseAddrPort("10.10.1.21:50100")
	plc    = netip.MustParseAddr("10.10.2.12")
)

// detectCapture runs a capture through the pipeline into an operational
// Detector and returns the Protocol violation alerts.
func detectCapture(t *testing.T, path string) []*alert.Alert {
	t.Helper()
	d := detect.New(detect.Config{Sensor: "test", Operational: true, Keep: true})
	src, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	opts := pipeline.DefaultOptions
	opts.Emitter, opts.Observer = d, d
	p := pipeline.New(opts)
	for {
		pkt, err := src.ReadPacket()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		p.Process(pkt)
	}
	p.Close()
	d.Flush()
	var as []*alert.Alert
	for _, a := range d.Alerts() {
		if a.Engine == alert.Protocol { // other engines may be linked into the test
			as = append(as, a)
		}
	}
	return as
}

// mbap frames a Modbus PDU (Messaging on TCP/IP Implementation Guide,
// section 3.1.3): transaction id, protocol id, length, unit id.
func mbap(tid, proto uint16, unit byte, pdu ...byte) string {
	b := binary.BigEndian.AppendUint16(nil, tid)
	b = binary.BigEndian.AppendUint16(b, proto)
	b = binary.BigEndian.AppendUint16(b, uint16(1+len(pdu)))
	b = append(b, unit)
	return string(append(b, pdu...))
}

// crcDNP is CRC-16/DNP (IEEE 1815-2012 clause 9.2.4.1.1): polynomial
// 0x3D65 reflected, initial value 0, result complemented.
func crcDNP(b []byte) uint16 {
	var crc uint16
	for _, x := range b {
		crc ^= uint16(x)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0xa6bc
			} else {
				crc >>= 1
			}
		}
	}
	return ^crc
}

// dnpFrame builds a link frame (clause 9.2.4) carrying one transport
// segment (FIR, FIN, sequence tseq) with the application fragment app.
// corrupt flips a bit of the first data block after its CRC is computed.
func dnpFrame(fromMaster bool, tseq byte, app []byte, corrupt bool) string {
	ctrl, dst, src := byte(0x44), uint16(1), uint16(10) // DIR=0 PRM=1 unconfirmed user data
	if fromMaster {
		ctrl, dst, src = 0xc4, 10, 1 // DIR=1
	}
	user := append([]byte{0xc0 | tseq&0x3f}, app...)
	b := []byte{0x05, 0x64, byte(5 + len(user)), ctrl, byte(dst), byte(dst >> 8), byte(src), byte(src >> 8)}
	b = binary.LittleEndian.AppendUint16(b, crcDNP(b))
	for i := 0; i < len(user); i += 16 {
		blk := append([]byte(nil), user[i:min(i+16, len(user))]...)
		crc := crcDNP(blk)
		if corrupt && i == 0 {
			blk[0] ^= 0x01
		}
		b = append(b, blk...)
		b = binary.LittleEndian.AppendUint16(b, crc)
	}
	return string(b)
}

// TestCRCDNP checks the test's CRC against the catalogue's check value
// (CRC-16/DNP of "123456789" is 0xEA82).
func TestCRCDNP(t *testing.T) {
	if got := crcDNP([]byte("123456789")); got != 0xea82 {
		t.Fatalf("crcDNP(123456789) = %#04x, want 0xea82", got)
	}
}

// DNP3 application fragments (IEEE 1815-2012 clause 4.2.2): control
// (FIR FIN seq), function, and for responses IIN1 IIN2.
func dnpRequest(seq, fc byte, objs ...byte) []byte {
	return append([]byte{0xc0 | seq&0x0f, fc}, objs...)
}

func dnpResponse(seq, iin1, iin2 byte, objs ...byte) []byte {
	return append([]byte{0xc0 | seq&0x0f, 0x81, iin1, iin2}, objs...)
}

// class0 reads class 0 data: group 60 variation 1, qualifier 0x06 (all).
var class0 = []byte{60, 1, 0x06}

type wireCase struct {
	name       string
	conv       []dissecttest.Message
	port       uint16
	want       *alert.Type // nil: no alert
	key        string      // checked when not empty
	fromServer bool        // the alert's source is the server
}

func runWire(t *testing.T, cases []wireCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := dissecttest.WriteTCP(t, dissecttest.Conversation{Client: master, Server: netip.AddrPortFrom(plc, tc.port), Msgs: tc.conv})
			as := detectCapture(t, path)
			if tc.want == nil {
				if len(as) != 0 {
					t.Fatalf("%d alerts, want none: %s (%s)", len(as), as[0].Type, as[0].Title)
				}
				return
			}
			if len(as) != 1 {
				for _, a := range as {
					t.Logf("alert %s key=%q: %s", a.Type, a.Key, a.Title)
				}
				t.Fatalf("%d alerts, want one %s", len(as), tc.want.ID)
			}
			a := as[0]
			if a.Type != tc.want.ID {
				t.Fatalf("alert %s (%s), want %s", a.Type, a.Title, tc.want.ID)
			}
			if tc.key != "" && a.Key != tc.key {
				t.Errorf("key %q, want %q", a.Key, tc.key)
			}
			src, dst := master.Addr(), plc
			if tc.fromServer {
				src, dst = dst, src
			}
			if a.Source.IP != src || a.Destination.IP != dst {
				t.Errorf("alert from %v to %v, want %v to %v", a.Source, a.Destination, src, dst)
			}
			if a.Operation == nil || len(a.Evidence) == 0 {
				t.Errorf("alert without operation or evidence")
			}
		})
	}
}

func TestWireModbus(t *testing.T) {
	c, s := dissecttest.C2S, dissecttest.S2C
	runWire(t, []wireCase{
		{name: "read holding registers (benign)", port: 502, conv: []dissecttest.Message{
			c(mbap(1, 0, 1, 0x03, 0x00, 0x00, 0x00, 0x02)), s(mbap(1, 0, 1, 0x03, 0x04, 0, 1, 0, 2))}},
		{name: "illegal data address is not a protocol violation", port: 502, conv: []dissecttest.Message{
			c(mbap(1, 0, 1, 0x03, 0x04, 0x00, 0x00, 0x02)), s(mbap(1, 0, 1, 0x83, 0x02))}},
		// Section 4.1: function code 0 is not valid.
		{name: "function code zero", port: 502, want: ModbusIllegalFunction, key: keyModbusZero, conv: []dissecttest.Message{
			c(mbap(2, 0, 1, 0x00)), s(mbap(2, 0, 1, 0x80, 0x01))}},
		// Section 5.1: 48 is an unassigned public code; the server answers
		// exception 01 (section 7).
		{name: "unassigned function code", port: 502, want: ModbusIllegalFunction, key: keyModbusUndefined, conv: []dissecttest.Message{
			c(mbap(3, 0, 1, 0x30, 0x00)), s(mbap(3, 0, 1, 0xb0, 0x01))}},
		// Section 7: exception 01, the function is not allowed on the server.
		{name: "server rejects a public function", port: 502, want: ModbusIllegalFunction, key: keyModbusRejected, conv: []dissecttest.Message{
			c(mbap(4, 0, 1, 0x0f, 0x00, 0x00, 0x00, 0x08, 0x01, 0xff)), s(mbap(4, 0, 1, 0x8f, 0x01))}},
		// Section 7: codes 128-255 are exception responses, sent by servers.
		{name: "exception code sent by the master", port: 502, want: ModbusMasterException, key: keyModbusException, conv: []dissecttest.Message{
			c(mbap(5, 0, 1, 0x81, 0x00, 0x00, 0x00, 0x01)), s(mbap(5, 0, 1, 0x81, 0x01))}},
		// Annex A: 9 is reserved for legacy products.
		{name: "annex A reserved code", port: 502, want: ReservedFunction, key: keyModbusReserved, conv: []dissecttest.Message{
			c(mbap(6, 0, 1, 0x09, 0x00, 0x00)), s(mbap(6, 0, 1, 0x89, 0x01))}},
		// Implementation guide 3.1.3: protocol identifier 0 = MODBUS.
		{name: "protocol id not 0", port: 502, want: ModbusMalformed, conv: []dissecttest.Message{
			c(mbap(7, 1, 1, 0x03, 0x00, 0x00, 0x00, 0x02))}},
		// Section 6.3: the byte count is 2 x the quantity of registers.
		{name: "byte count contradicts the quantity", port: 502, want: ModbusMalformed, conv: []dissecttest.Message{
			c(mbap(8, 0, 1, 0x10, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x01))}},
		// A response whose transaction id was never requested, on a
		// connection whose first exchange paired.
		{name: "response without request", port: 502, want: ResponseWithoutRequest, key: keyModbusOrphan, fromServer: true, conv: []dissecttest.Message{
			c(mbap(9, 0, 1, 0x03, 0x00, 0x00, 0x00, 0x01)), s(mbap(9, 0, 1, 0x03, 0x02, 0x00, 0x2a)),
			s(mbap(77, 0, 1, 0x03, 0x02, 0x03, 0xe8))}},
		{name: "response without request at the start of a capture is not reported", port: 502, conv: []dissecttest.Message{
			s(mbap(77, 0, 1, 0x03, 0x02, 0x03, 0xe8)),
			c(mbap(78, 0, 1, 0x03, 0x00, 0x00, 0x00, 0x01)), s(mbap(78, 0, 1, 0x03, 0x02, 0x00, 0x2a))}},
	})
}

func TestWireDNP3(t *testing.T) {
	c := func(tseq byte, app []byte) dissecttest.Message {
		return dissecttest.C2S(dnpFrame(true, tseq, app, false))
	}
	s := func(tseq byte, app []byte) dissecttest.Message {
		return dissecttest.S2C(dnpFrame(false, tseq, app, false))
	}
	runWire(t, []wireCase{
		{name: "integrity poll (benign)", port: 20000, conv: []dissecttest.Message{
			c(0, dnpRequest(0, 1, class0...)), s(0, dnpResponse(0, 0x80, 0x00))}},
		// Clause 9.2.4.1: every data block carries a CRC.
		{name: "bad data CRC", port: 20000, want: DNP3Malformed, conv: []dissecttest.Message{
			dissecttest.C2S(dnpFrame(true, 0, dnpRequest(0, 1, class0...), true))}},
		// Table 4-1: INITIALIZE_DATA (0x0F) is obsolete.
		{name: "initialize data", port: 20000, want: DNP3IllegalFunction, key: "dnp3 fc=15", conv: []dissecttest.Message{
			c(0, dnpRequest(1, 15)), s(0, dnpResponse(1, 0x00, 0x01))}},
		// Clause 5.2.2.7: IIN2.0, function code not supported.
		{name: "function not supported", port: 20000, want: DNP3FunctionNotSupported, key: keyDNP3NotSupported, conv: []dissecttest.Message{
			c(0, dnpRequest(2, 9, class0...)), s(0, dnpResponse(2, 0x00, 0x01))}},
		// Table 4-1: codes 34-128 are reserved.
		{name: "reserved function", port: 20000, want: ReservedFunction, key: keyDNP3Reserved, conv: []dissecttest.Message{
			c(0, dnpRequest(3, 64)), s(0, dnpResponse(3, 0x00, 0x01))}},
		// Clause 5.2.2.7: IIN2.6 and IIN2.7 are reserved, always 0.
		{name: "reserved IIN bit", port: 20000, want: DNP3ReservedIIN, key: "IIN2.6", fromServer: true, conv: []dissecttest.Message{
			c(0, dnpRequest(4, 1, class0...)), s(0, dnpResponse(4, 0x00, 0x40))}},
		{name: "response without request", port: 20000, want: ResponseWithoutRequest, key: keyDNP3Orphan, fromServer: true, conv: []dissecttest.Message{
			c(0, dnpRequest(5, 1, class0...)), s(0, dnpResponse(5, 0x00, 0x00)),
			s(1, dnpResponse(9, 0x00, 0x00))}},
	})
}

func TestWireS7ENIPIEC104(t *testing.T) {
	c, s := dissecttest.C2S, dissecttest.S2C
	// RFC 1006 TPKT, ISO 8073 CR/CC, then an S7 job header whose
	// parameter length (255) overruns the PDU.
	cr := "\x03\x00\x00\x16\x11\xe0\x00\x00\x00\x01\x00\xc0\x01\x0a\xc1\x02\x01\x00\xc2\x02\x01\x02"
	cc := "\x03\x00\x00\x16\x11\xd0\x00\x01\x44\x31\x00\xc0\x01\x0a\xc1\x02\x01\x00\xc2\x02\x01\x02"
	s7bad := "\x03\x00\x00\x13\x02\xf0\x80\x32\x01\x00\x00\x00\x01\x00\xff\x00\x00\xf0\x00"
	// ODVA Vol. 2, 2-3: encapsulation header with an undefined command 0x0099.
	enipBad := "\x99\x00\x00\x00" + string(make([]byte, 20))
	// IEC 60870-5-104 clause 5: STARTDT act/con, then I-format APDUs
	// with N(S) 0 and 5 carrying C_IC_NA_1 (general interrogation).
	startAct, startCon := "\x68\x04\x07\x00\x00\x00", "\x68\x04\x0b\x00\x00\x00"
	gi := func(ns byte) string {
		return "\x68\x0e" + string([]byte{ns << 1, 0, 0, 0}) + "\x64\x01\x06\x00\x01\x00\x00\x00\x00\x14"
	}
	runWire(t, []wireCase{
		{name: "s7 lengths overrun the PDU", port: 102, want: S7Malformed, conv: []dissecttest.Message{c(cr), s(cc), c(s7bad)}},
		{name: "enip undefined command", port: 44818, want: ENIPMalformed, conv: []dissecttest.Message{c(enipBad)}},
		{name: "iec104 sequence gap", port: 2404, want: IEC104SequenceError, key: "sequence gap", conv: []dissecttest.Message{
			c(startAct), s(startCon), c(gi(0)), c(gi(5))}},
		// Clause 5.3: U-format APDUs have length 4.
		{name: "iec104 U-format with an ASDU", port: 2404, want: IEC104Malformed, conv: []dissecttest.Message{
			c(startAct + "\x68\x0a\x43\x00\x00\x00\x01\x02\x03\x04\x05\x06")}},
		// IEC 60870-5-101 table 8: type identification 25 is reserved.
		{name: "iec104 reserved type identification", port: 2404, want: ReservedFunction, key: keyIEC104Reserved, conv: []dissecttest.Message{
			c(startAct), s(startCon), c("\x68\x0e\x00\x00\x00\x00\x19\x01\x06\x00\x01\x00\x00\x00\x00\x14")}},
		{name: "tcp port zero", port: 0, want: PortZero, key: "destination port 0", conv: nil},
	})
}

func TestWireBACnet(t *testing.T) {
	mac1, mac2 := []byte{0, 0x1b, 0x1b, 0, 0, 1}, []byte{0, 0x0a, 0x0b, 0, 0, 2}
	bms := netip.MustParseAddrPort("10.10.1.60:47808")
	for _, tc := range []struct {
		name    string
		payload string
		want    *alert.Type
	}{
		// Annex J.2: BVLC type 0x81, Original-Unicast-NPDU (0x0a), length;
		// clause 6.2.1: NPDU version 1; clause 20.1.2: Who-Is.
		{"who-is (benign)", "\x81\x0a\x00\x08\x01\x00\x10\x08", nil},
		{"npdu version 2", "\x81\x0a\x00\x08\x02\x00\x10\x08", BACnetMalformed},
		// Clause 20.1.1: APDU types 8-15 are reserved.
		{"reserved apdu type", "\x81\x0a\x00\x08\x01\x00\x80\x08", ReservedFunction},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := dissecttest.WriteUDP(t, dissecttest.Datagram{Src: netip.AddrPortFrom(master.Addr(), 47808), Dst: bms,
				SrcMAC: mac1, DstMAC: mac2, Payload: gopacket.Payload(tc.payload)})
			as := detectCapture(t, path)
			switch {
			case tc.want == nil && len(as) == 0:
			case tc.want == nil:
				t.Fatalf("alert %s, want none", as[0].Type)
			case len(as) != 1 || as[0].Type != tc.want.ID:
				t.Fatalf("%d alerts, want one %s", len(as), tc.want.ID)
			case as[0].Source.IP != master.Addr() || as[0].Destination.IP != bms.Addr():
				t.Errorf("alert from %v to %v", as[0].Source, as[0].Destination)
			}
		})
	}
}
