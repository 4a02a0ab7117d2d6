package simulate

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/capture"
	"github.com/otwatch/otwatch/internal/testenv"
)

// cellScenarios are the cells' attack scenarios.
var cellScenarios = []string{ScenarioBACnetDCCDisable, ScenarioIEC104UnauthorizedCmd, ScenarioGOOSEStNumJump, ScenarioOPCUAUnknownWrite}

// cellHostNames are the hosts each cell adds.
var cellHostNames = map[string][]string{
	CellBuilding:   {"rtr01-bld", "bms01", "bac01", "bac02", "bac03"},
	CellSubstation: {"rtr01-sub", "scada01", "gw01", "ied01", "ied02"},
	CellOPCUA:      {"opcua01"},
}

func TestCellSelection(t *testing.T) {
	tests := []struct {
		name      string
		opts      Options
		want      []string // cells whose hosts and traffic must be there
		wantError string
	}{
		{"none", Options{}, nil, ""},
		{"building", Options{Cells: []string{CellBuilding}}, []string{CellBuilding}, ""},
		{"substation", Options{Cells: []string{CellSubstation}}, []string{CellSubstation}, ""},
		{"opcua twice", Options{Cells: []string{CellOPCUA, CellOPCUA}}, []string{CellOPCUA}, ""},
		{"all", Options{Cells: []string{CellAll}}, Cells(), ""},
		{"implied by a scenario", Options{Scenarios: []string{ScenarioGOOSEStNumJump}}, []string{CellSubstation}, ""},
		{"named and implied", Options{Cells: []string{CellOPCUA}, Scenarios: []string{ScenarioBACnetDCCDisable}}, []string{CellBuilding, CellOPCUA}, ""},
		{"unknown", Options{Cells: []string{"refinery"}}, nil, `unknown cell "refinery"`},
		{"empty name", Options{Cells: []string{""}}, nil, `unknown cell ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Seed, tt.opts.Duration = 5, time.Minute
			sum, err := Generate(io.Discard, tt.opts)
			if tt.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantError) || !strings.HasPrefix(err.Error(), "simulate: ") {
					t.Errorf("Generate error = %v, want one containing %q", err, tt.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			names := map[string]bool{}
			for _, h := range sum.Hosts {
				names[h.Name] = true
			}
			for _, c := range Cells() {
				on := slices.Contains(tt.want, c)
				for _, n := range cellHostNames[c] {
					if names[n] != on {
						t.Errorf("cell %s enabled %v, host %s present %v", c, on, n, names[n])
					}
				}
			}
			traffic := map[string]bool{
				CellBuilding:   len(sum.BACnet.Confirmed) > 0,
				CellSubstation: len(sum.IEC104.ASDUs) > 0 && sum.GOOSE.Frames > 0 && len(sum.MMS.Requests) > 0,
				CellOPCUA:      len(sum.OPCUA.Requests) > 0,
			}
			for c, seen := range traffic {
				if seen != slices.Contains(tt.want, c) {
					t.Errorf("cell %s: traffic %v, want %v", c, seen, !seen)
				}
			}
		})
	}
}

// TestCellsKeepPlant checks that a cell changes nothing of the plant's own
// traffic but the IPv4 ids and ports of hmi02, which is also an OPC UA
// client: every frame of the capture without cells is in the capture with
// them at the same time, byte for byte unless hmi02 sends or receives it.
func TestCellsKeepPlant(t *testing.T) {
	opts := Options{Seed: 7, Duration: 2 * time.Minute, Scenarios: []string{ScenarioPortScan, ScenarioNewDevice}}
	plain, psum := generate(t, opts)
	opts.Cells = []string{CellAll}
	cells, csum := generate(t, opts)
	if !keyedEqual(psum.Modbus.Requests, csum.Modbus.Requests) || !keyedEqual(psum.DNP3.FromMaster, csum.DNP3.FromMaster) ||
		!keyedEqual(psum.S7.Jobs, csum.S7.Jobs) || !keyedEqual(psum.ENIP.Commands, csum.ENIP.Commands) || psum.ScanSYNs != csum.ScanSYNs {
		t.Errorf("plant counts differ with cells: %+v %+v %+v %+v; without: %+v %+v %+v %+v",
			csum.Modbus, csum.DNP3, csum.S7, csum.ENIP, psum.Modbus, psum.DNP3, psum.S7, psum.ENIP)
	}
	if len(psum.BACnet.Confirmed)+len(psum.IEC104.ASDUs)+psum.GOOSE.Frames+len(psum.MMS.Requests)+len(psum.OPCUA.Requests) != 0 {
		t.Errorf("a capture without cells counts cell traffic: %+v %+v %+v %+v %+v", psum.BACnet, psum.IEC104, psum.GOOSE, psum.MMS, psum.OPCUA)
	}
	var hmi02 Host
	for _, h := range psum.Hosts {
		if h.Name == "hmi02" {
			hmi02 = h
		}
	}
	// involves says whether a frame is from or to hmi02: its MAC, or its
	// IPv4 address in a routed frame.
	involves := func(f []byte) bool {
		if bytes.Equal(f[0:6], hmi02.MAC) || bytes.Equal(f[6:12], hmi02.MAC) {
			return true
		}
		a := hmi02.IP.AsSlice()
		return len(f) >= 34 && f[12] == 0x08 && f[13] == 0x00 && (bytes.Equal(f[26:30], a) || bytes.Equal(f[30:34], a))
	}
	read := func(data []byte) map[int64][]byte {
		src, err := capture.NewReader(bytes.NewReader(data), "sim")
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		out := map[int64][]byte{}
		for {
			p, err := src.ReadPacket()
			if err == io.EOF {
				return out
			}
			if err != nil {
				t.Fatal(err)
			}
			out[p.Timestamp.UnixNano()] = append([]byte(nil), p.Data...)
		}
	}
	with := read(cells)
	differ := 0
	for ts, f := range read(plain) {
		g, ok := with[ts]
		switch {
		case !ok:
			t.Errorf("frame at %v is missing with cells", time.Unix(0, ts).UTC())
		case bytes.Equal(f, g):
		case involves(f):
			differ++
		default:
			t.Errorf("frame at %v differs with cells:\n%x\n%x", time.Unix(0, ts).UTC(), f, g)
		}
	}
	if differ == 0 {
		t.Errorf("no frame of hmi02 differs: its IPv4 ids should move on with its OPC UA traffic")
	}
}

// TestCellEncodings checks the encoders against the specifications' rules
// and examples.
func TestCellEncodings(t *testing.T) {
	ai5 := cellBACObjectRef{cellBACObjAI, 5}
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		// ANSI/ASHRAE 135 Annex F.3.5: ReadProperty of Analog Input 5's
		// present value, and the ack with the REAL 72.3.
		{"bacnet read property", cellBACRequest(1, cellBACReadPropertyService, cellBACReadProperty(ai5, cellBACPropPV)), "00 05 01 0c 0c 00000005 19 55"},
		{"bacnet read property ack", cellBACComplex(1, cellBACReadPropertyService, cellBACReadPropertyAck(ai5, cellBACPropPV, cellBACRealValue(72.3))), "30 01 0c 0c 00000005 19 55 3e 44 4290999a 3f"},
		// Clause 20.2: application tags 12 (object id, device 8 in the top
		// 10 bits), 2 (unsigned, fewest octets) and 9 (enumerated).
		{"bacnet i-am", cellBACIAmAPDU(1, 480, 1, 99), "10 00 c4 02000001 22 01e0 91 01 21 63"},
		{"bacnet i-am large", cellBACIAmAPDU(100021, 1476, 3, 5), "10 00 c4 020186b5 22 05c4 91 03 21 05"},
		// Clause 16.1: duration [0] omitted, enable-disable [1] disable,
		// password [2] as a character string (UTF-8, length 6 > 4: 0x2d).
		{"bacnet dcc", cellBACDCCRequest(0, 1, "delta"), "19 01 2d 06 00 64656c7461"},
		{"bacnet dcc for 5 minutes", cellBACDCCRequest(5, 0, ""), "09 05 19 00"},
		// IEC 60870-5-104 clause 5: U-format functions, sequence numbers
		// shifted left by one, low octet first.
		{"104 startdt act", cell104UFormat(cell104StartAct), "68 04 07 00 00 00"},
		{"104 startdt con", cell104UFormat(cell104Con(cell104StartAct)), "68 04 0b 00 00 00"},
		{"104 stopdt con", cell104UFormat(cell104Con(cell104StopAct)), "68 04 23 00 00 00"},
		{"104 testfr con", cell104UFormat(cell104Con(cell104TestAct)), "68 04 83 00 00 00"},
		{"104 s-format", cell104SFormat(300), "68 04 01 00 58 02"},
		{"104 general interrogation", cell104IFormat(300, 5, cell104ASDU(cell104GI, cell104Act, false, append(cell104IOA(nil, 0), 20))),
			"68 0e 58 02 0a 00 64 01 06 00 0b 00 000000 14"},
		{"104 negative double command", cell104ASDU(cell104DC, cell104ActCon, true, append(cell104IOA(nil, 0x012345), 0x81)), "2e 01 47 00 0b 00 452301 81"},
		// IEC 60870-5-101 clause 7.2.6.18, CP56Time2a of Thursday
		// 2013-07-04 06:23:16.788.
		{"cp56time2a", cell104Time(nil, time.Date(2013, 7, 4, 6, 23, 16, 788e6, time.UTC)), "9441 17 06 84 07 0d"},
		// X.690 clause 8.3: two's complement in the fewest octets.
		{"ber 0", cellBERUint(0), "00"},
		{"ber 127", cellBERUint(127), "7f"},
		{"ber 128", cellBERUint(128), "0080"},
		{"ber 256", cellBERUint(256), "0100"},
		{"ber max", cellBERUint(0xffffffff), "00ffffffff"},
		{"ber long length", cellBER(0x04, make([]byte, 200))[:3], "04 81 c8"},
		// IEC 61850-8-1 clause 8.1.3.7: UtcTime, seconds, 24-bit
		// fraction, quality.
		{"utc time", cellUtcTime(time.Unix(0x69560000, 5e8)), "69560000 800000 0a"},
		// OPC 10000-6 clause 5.2.2.9 NodeId encodings and 5.2.2.5 DateTime.
		{"node two byte", cellUANode(nil, 0, 72), "00 48"},
		{"node four byte", cellUANode(nil, 5, 1025), "01 05 0104"},
		{"node numeric", cellUANode(nil, 1, 0x10001), "02 0100 01000100"},
		{"node string", cellUAStringNode(nil, 4, "MAIN"), "03 0400 04000000 4d41494e"},
		{"datetime 1970", cellUATime(nil, time.Unix(0, 0)), "00803ed5deb19d01"},
		{"null string", cellUAString(nil, ""), "ffffffff"},
		// OPC 10000-6 clause 7.1.2.3: HEL header, 8 octets then the body.
		{"hello header", cellUAHeader("HEL", []byte{1, 2}), "48454c46 0a000000 0102"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := hex.EncodeToString(tt.got), strings.ReplaceAll(tt.want, " ", ""); got != want {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
}

// TestCellGOOSEFrame checks a GOOSE frame against IEC 61850-8-1 Annex C:
// tag, EtherType, APPID, a length that counts from the APPID, the PDU's
// fields in tag order 0 to 11.
func TestCellGOOSEFrame(t *testing.T) {
	g := cellGOOSEPDU{gocbRef: "IED1LD0/LLN0$GO$gcb1", datSet: "IED1LD0/LLN0$DS1", goID: "G1", ttl: 2000,
		t: time.Unix(1700000000, 0), stNum: 7, sqNum: 128, confRev: 1, pos: 2}
	pdu := g.bytes()
	f := cellGOOSEFrame(cellIEDConfigs[0].dst, mac("00:21:c1:3e:70:19"), 0x0101, pdu)
	if got, want := hex.EncodeToString(f[:26]), "010ccd010001"+"0021c13e7019"+"8100"+"800a"+"88b8"+"0101"+fmt.Sprintf("%04x", 8+len(pdu))+"00000000"; got != want {
		t.Errorf("header %s, want %s", got, want)
	}
	if pdu[0] != 0x61 {
		t.Fatalf("PDU tag %#x, want 0x61 (APPLICATION 1, constructed)", pdu[0])
	}
	body := pdu[2:]
	if pdu[1] == 0x81 {
		body = pdu[3:]
	}
	var tags []byte
	for len(body) > 1 {
		n := int(body[1])
		tags = append(tags, body[0])
		body = body[2+n:]
	}
	if got, want := hex.EncodeToString(tags), "808182838485868788898aab"; got != want || len(body) != 0 {
		t.Errorf("field tags %s (%d octets left), want %s", got, len(body), want)
	}
	if !bytes.Contains(pdu, []byte{0x86, 0x02, 0x00, 0x80}) {
		t.Errorf("sqNum 128 not encoded as 86 02 00 80 in %x", pdu)
	}
}

func TestCellScenarios(t *testing.T) {
	for _, name := range cellScenarios {
		sc, err := lookupScenario(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range []time.Duration{MinDuration, time.Minute, DefaultDuration} {
			t.Run(fmt.Sprintf("%s/%v", name, d), func(t *testing.T) {
				sum, err := Generate(io.Discard, Options{Seed: 3, Duration: d, Scenarios: []string{name}})
				if err != nil {
					t.Fatal(err)
				}
				hosts := map[string]bool{}
				for _, h := range sum.Hosts {
					hosts[h.Name] = true
				}
				if !hosts[sc.Source] || sc.Destination != "" && !hosts[sc.Destination] || sc.Alert == "" {
					t.Errorf("source %q, destination %q, alert %q; hosts %v", sc.Source, sc.Destination, sc.Alert, hosts)
				}
				var kinds []string
				for _, e := range sum.Events {
					if e.Scenario == name && !e.Time.Before(sum.Start) && e.Time.Before(sum.End) {
						kinds = append(kinds, e.Kind)
					}
				}
				if len(kinds) < 2 {
					t.Errorf("events %v, want the scenario's steps", kinds)
				}
			})
		}
	}
}

// cellCapture writes a capture and returns its Summary and a function
// that runs tshark on it.
func cellCapture(t *testing.T, opts Options) (Summary, func(args ...string) []string) {
	t.Helper()
	tshark := testenv.Program(t, "tshark", "tshark")
	data, sum := generate(t, opts)
	path := filepath.Join(t.TempDir(), "cells.pcap")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return sum, func(args ...string) []string {
		t.Helper()
		args = append(append([]string{"-n", "-r", path}, tsharkChecks...), args...)
		var stderr bytes.Buffer
		cmd := exec.Command(tshark, args...)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("tshark %v: %v\n%s", args, err, stderr.Bytes())
		}
		var lines []string
		for l := range strings.Lines(string(out)) {
			if l = strings.TrimRight(l, "\r\n"); l != "" {
				lines = append(lines, l)
			}
		}
		return lines
	}
}

// cellFields runs tshark with -T fields and returns each line's fields.
func cellFields(tshark func(args ...string) []string, filter string, fields ...string) [][]string {
	args := []string{"-Y", filter, "-T", "fields", "-E", "occurrence=f"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	var out [][]string
	for _, l := range tshark(args...) {
		out = append(out, strings.Split(l, "\t"))
	}
	return out
}

func cellAtoi(s string) int {
	v, err := strconv.ParseInt(s, 0, 64)
	if err != nil {
		return -1
	}
	return int(v)
}

func TestTsharkCells(t *testing.T) {
	sum, tshark := cellCapture(t, Options{Seed: 42, Duration: 4 * time.Minute, Cells: []string{CellAll}, Scenarios: cellScenarios})
	host := func(name string) Host {
		for _, h := range sum.Hosts {
			if h.Name == name {
				return h
			}
		}
		t.Fatalf("no host %s", name)
		return Host{}
	}

	t.Run("clean", func(t *testing.T) {
		if bad := tshark("-Y", "_ws.malformed || _ws.expert.severity == error || tcp.analysis.flags"); len(bad) > 0 {
			t.Errorf("tshark finds %d malformed, erroneous or out-of-order frames, first: %s", len(bad), bad[0])
		}
		phs := strings.Join(tshark("-q", "-z", "io,phs"), "\n")
		for _, proto := range []string{"bvlc", "bacnet", "bacapp", "iec60870_104", "iec60870_asdu", "vlan", "goose", "ses", "pres", "acse", "mms", "opcua"} {
			if !strings.Contains(phs, " "+proto+" ") {
				t.Errorf("protocol hierarchy lacks %s:\n%s", proto, phs)
			}
		}
		if strings.Contains(phs, "malformed") || strings.Contains(phs, "data ") {
			t.Errorf("protocol hierarchy has undissected or malformed data:\n%s", phs)
		}
		if n := len(tshark("-T", "fields", "-e", "frame.number")); n != sum.Packets {
			t.Errorf("tshark reads %d frames, Summary says %d", n, sum.Packets)
		}
	})

	t.Run("bacnet", func(t *testing.T) {
		got := BACnetCounts{Confirmed: map[uint8]int{}, Unconfirmed: map[uint8]int{}, SimpleACK: map[uint8]int{}, ComplexACK: map[uint8]int{}}
		type key struct {
			client, server string
			invoke         int
		}
		pending := map[key]int{}
		dcc := host("bac02")
		var silenced bool
		for _, f := range cellFields(tshark, "bacapp", "ip.src", "ip.dst", "bacapp.type", "bacapp.confirmed_service", "bacapp.unconfirmed_service", "bacapp.invoke_id") {
			typ, conf, unconf, invoke := cellAtoi(f[2]), uint8(cellAtoi(f[3])), uint8(cellAtoi(f[4])), cellAtoi(f[5])
			if silenced && f[0] == dcc.IP.String() {
				t.Errorf("%s sends BACnet after DeviceCommunicationControl disabled it", dcc.Name)
			}
			switch typ {
			case cellBACConfirmed:
				got.Confirmed[conf]++
				pending[key{f[0], f[1], invoke}] = int(conf)
			case cellBACUnconfirmed:
				got.Unconfirmed[unconf]++
			case cellBACSimpleACK, cellBACComplexACK:
				if typ == cellBACSimpleACK {
					got.SimpleACK[conf]++
				} else {
					got.ComplexACK[conf]++
				}
				k := key{f[1], f[0], invoke}
				if svc, ok := pending[k]; !ok || svc != int(conf) {
					t.Errorf("ack of service %d, invoke id %d from %s answers no request", conf, invoke, f[0])
				}
				delete(pending, k)
				silenced = silenced || conf == cellBACDCC
			}
		}
		if !keyedEqual(got.Confirmed, sum.BACnet.Confirmed) || !keyedEqual(got.Unconfirmed, sum.BACnet.Unconfirmed) ||
			!keyedEqual(got.SimpleACK, sum.BACnet.SimpleACK) || !keyedEqual(got.ComplexACK, sum.BACnet.ComplexACK) {
			t.Errorf("tshark: %+v; Summary %+v", got, sum.BACnet)
		}
		for k := range pending {
			if k.server != dcc.IP.String() {
				t.Errorf("request %+v unanswered", k)
			}
		}
		// The brief of the building cell: discovery, polling, COV,
		// setpoint writes, and the scenario's DeviceCommunicationControl.
		for _, svc := range []uint8{cellBACReadPropertyService, cellBACReadPropMulti, cellBACSubscribeCOV, cellBACWriteProperty, cellBACDCC} {
			if got.Confirmed[svc] == 0 {
				t.Errorf("no confirmed request of service %d", svc)
			}
		}
		if got.Unconfirmed[cellBACWhoIs] == 0 || got.Unconfirmed[cellBACIAm] != 3*got.Unconfirmed[cellBACWhoIs] || got.Unconfirmed[cellBACCOVNotify] == 0 {
			t.Errorf("unconfirmed services %v, want Who-Is, three I-Am each, COV notifications", got.Unconfirmed)
		}
		ids := map[string]string{}
		for _, f := range cellFields(tshark, "bacapp.unconfirmed_service == 0", "ip.src", "bacapp.vendor_identifier", "bacapp.instance_number") {
			ids[f[0]] = f[1] + " " + f[2]
		}
		for _, n := range []string{"bac01", "bac02", "bac03"} {
			h := host(n)
			if want := fmt.Sprintf("%d %d", h.Identity.VendorID, cellBACInstances[n]); ids[h.IP.String()] != want {
				t.Errorf("%s I-Am vendor and instance %q, want %q", n, ids[h.IP.String()], want)
			}
		}
		checkEventTime(t, sum, ScenarioBACnetDCCDisable, "bacnet-dcc", tshark("-Y", "bacapp.confirmed_service == 17 && bacapp.type == 0", "-T", "fields", "-e", "frame.time_epoch"))
	})

	t.Run("iec104", func(t *testing.T) {
		got := IEC104Counts{ASDUs: map[uint8]int{}, UFrames: map[uint8]int{}}
		type dir struct{ stream, src string }
		sent := map[dir]int{}
		acked := map[dir]int{}
		peer := map[dir]dir{}
		commands := 0
		ews := host("ews01").IP.String()
		for _, f := range cellFields(tshark, "iec60870_104", "tcp.stream", "ip.src", "ip.dst", "iec60870_104.type", "iec60870_104.utype",
			"iec60870_104.tx", "iec60870_104.rx", "iec60870_asdu.typeid", "iec60870_asdu.causetx") {
			d, p := dir{f[0], f[1]}, dir{f[0], f[2]}
			peer[d] = p
			switch cellAtoi(f[3]) {
			case 0:
				got.ASDUs[uint8(cellAtoi(f[7]))]++
				if tx := cellAtoi(f[5]); tx != sent[d] {
					t.Errorf("stream %s from %s: N(S) %d, want %d", f[0], f[1], tx, sent[d])
				}
				sent[d]++
				if (f[7] == "45" || f[7] == "46") && f[1] == ews && f[8] == "6" {
					commands++
				}
			case 1:
				got.SFrames++
			case 3:
				got.UFrames[uint8(cellAtoi(f[4])<<2|3)]++
				continue
			}
			rx := cellAtoi(f[6])
			if rx > sent[p] || rx < acked[d] {
				t.Errorf("stream %s from %s: N(R) %d, peer sent %d, acknowledged before %d", f[0], f[1], rx, sent[p], acked[d])
			}
			acked[d] = rx
		}
		if !keyedEqual(got.ASDUs, sum.IEC104.ASDUs) || !keyedEqual(got.UFrames, sum.IEC104.UFrames) || got.SFrames != sum.IEC104.SFrames {
			t.Errorf("tshark: %+v; Summary %+v", got, sum.IEC104)
		}
		for _, typ := range []uint8{cell104SP, cell104DP, cell104MEFloat, cell104SPTime, cell104DPTime, cell104METime, cell104GI, cell104SC, cell104DC} {
			if got.ASDUs[typ] == 0 {
				t.Errorf("no ASDU of type %d", typ)
			}
		}
		for _, u := range []uint8{cell104StartAct, cell104StartCon, cell104TestAct, cell104Con(cell104TestAct), cell104StopAct, cell104Con(cell104StopAct)} {
			if got.UFrames[u] == 0 {
				t.Errorf("no U-format APDU %#02x", u)
			}
		}
		// The gateway's I-format APDUs to the SCADA front end are all
		// acknowledged by the end, at most w = 8 behind.
		for d, n := range sent {
			if p := peer[d]; n-acked[p] > cell104W {
				t.Errorf("stream %s: %s sent %d, %s acknowledged %d", d.stream, d.src, n, p.src, acked[p])
			}
		}
		if commands != 12 {
			t.Errorf("%d command activations from the workstation, want 6 selects and 6 executes", commands)
		}
		checkEventTime(t, sum, ScenarioIEC104UnauthorizedCmd, "iec104-command", tshark("-Y", "iec60870_asdu.typeid == 46 && ip.src == "+ews, "-T", "fields", "-e", "frame.time_epoch"))
	})

	t.Run("goose", func(t *testing.T) {
		type pub struct{ src, ref string }
		type state struct {
			st, sq int
			at     float64
			ttl    int
		}
		last := map[pub]state{}
		frames, changes := 0, 0
		rogue := host("unknown-e45f01").MAC.String()
		for _, f := range cellFields(tshark, "goose", "eth.src", "goose.gocbRef", "goose.stNum", "goose.sqNum", "goose.timeAllowedtoLive",
			"goose.simulation", "vlan.id", "vlan.priority", "frame.time_epoch") {
			frames++
			k := pub{f[0], f[1]}
			cur := state{cellAtoi(f[2]), cellAtoi(f[3]), 0, cellAtoi(f[4])}
			cur.at, _ = strconv.ParseFloat(f[8], 64)
			if cur.sq == 0 {
				changes++
			}
			if f[5] != "0" || f[6] != "10" || f[7] != "4" {
				t.Errorf("%s: simulation %s, VLAN %s, priority %s; want 0, 10, 4", f[0], f[5], f[6], f[7])
			}
			if p, ok := last[k]; ok {
				if !(cur.st == p.st && cur.sq == p.sq+1) && !(cur.st == p.st+1 && cur.sq == 0) {
					t.Errorf("%s %s: stNum/sqNum %d/%d after %d/%d", f[0], f[1], cur.st, cur.sq, p.st, p.sq)
				}
				if gap := (cur.at - p.at) * 1000; gap > float64(p.ttl) {
					t.Errorf("%s: %.1f ms after a frame whose time allowed to live is %d ms", f[0], gap, p.ttl)
				}
			} else if f[0] == rogue {
				// The relay's last stNum before the spoof, plus the jump.
				legit := last[pub{host("ied01").MAC.String(), f[1]}]
				if cur.st != legit.st+cellGOOSEJump {
					t.Errorf("rogue stNum %d, relay's %d: want a jump of %d", cur.st, legit.st, cellGOOSEJump)
				}
			}
			last[k] = cur
		}
		if frames != sum.GOOSE.Frames || changes != sum.GOOSE.StateChanges || changes < 3 {
			t.Errorf("tshark: %d frames, %d with sqNum 0; Summary %+v", frames, changes, sum.GOOSE)
		}
		checkEventTime(t, sum, ScenarioGOOSEStNumJump, "goose-spoof", tshark("-Y", "goose && eth.src == "+rogue, "-T", "fields", "-e", "frame.time_epoch"))
	})

	t.Run("mms", func(t *testing.T) {
		got := MMSCounts{Requests: map[uint8]int{}, Responses: map[uint8]int{}}
		pending := map[int]int{}
		for _, f := range cellFields(tshark, "mms.confirmedServiceRequest || mms.confirmedServiceResponse", "mms.confirmedServiceRequest", "mms.confirmedServiceResponse", "mms.invokeID") {
			id := cellAtoi(f[2])
			if f[0] != "" {
				got.Requests[uint8(cellAtoi(f[0]))]++
				pending[id] = cellAtoi(f[0])
				continue
			}
			got.Responses[uint8(cellAtoi(f[1]))]++
			if svc, ok := pending[id]; !ok || svc != cellAtoi(f[1]) {
				t.Errorf("response %s with invoke id %d answers no request", f[1], id)
			}
			delete(pending, id)
		}
		got.Initiates = len(tshark("-Y", "mms.initiate_RequestPDU_element"))
		if !keyedEqual(got.Requests, sum.MMS.Requests) || !keyedEqual(got.Responses, sum.MMS.Responses) || got.Initiates != sum.MMS.Initiates ||
			got.Initiates != 1 || len(tshark("-Y", "mms.initiate_ResponsePDU_element")) != 1 || got.Requests[cellMMSRead] < 50 {
			t.Errorf("tshark: %+v; Summary %+v", got, sum.MMS)
		}
		id := host("ied01").Identity
		ident := tshark("-Y", "mms.vendorName", "-T", "fields", "-E", "separator=|", "-e", "mms.vendorName", "-e", "mms.modelName", "-e", "mms.revision")
		if want := id.Vendor + "|" + id.Product + "|" + id.Firmware; len(ident) != 1 || ident[0] != want {
			t.Errorf("identify response %q, want %q", ident, want)
		}
		items := tshark("-Y", "mms.confirmedServiceRequest == 4", "-T", "fields", "-e", "mms.itemId")[0]
		for _, v := range cellMMSVars {
			if !strings.Contains(items, v.item) {
				t.Errorf("read request items %q lack %s", items, v.item)
			}
		}
	})

	t.Run("opcua", func(t *testing.T) {
		got := OPCUACounts{Messages: map[string]int{}, Requests: map[uint16]int{}, Responses: map[uint16]int{}}
		type key struct {
			stream string
			id     int
		}
		pending := map[key]bool{}
		writers := map[string]bool{}
		for _, f := range cellFields(tshark, "opcua", "tcp.stream", "tcp.dstport", "opcua.transport.type", "opcua.servicenodeid.numeric", "opcua.security.rqid", "ip.src") {
			got.Messages[f[2]]++
			if f[3] == "" {
				continue
			}
			svc, k := uint16(cellAtoi(f[3])), key{f[0], cellAtoi(f[4])}
			if f[1] == strconv.Itoa(cellUAPort) {
				got.Requests[svc]++
				if svc != cellUACloseChannel {
					pending[k] = true
				}
				if svc == cellUAWrite {
					writers[f[5]] = true
				}
				continue
			}
			got.Responses[svc]++
			if !pending[k] {
				t.Errorf("stream %s: response %d to request id %d, which is not pending", f[0], svc, k.id)
			}
			delete(pending, k)
		}
		if !keyedEqual(got.Messages, sum.OPCUA.Messages) || !keyedEqual(got.Requests, sum.OPCUA.Requests) || !keyedEqual(got.Responses, sum.OPCUA.Responses) {
			t.Errorf("tshark: %+v; Summary %+v", got, sum.OPCUA)
		}
		if len(pending) > 0 {
			t.Errorf("%d requests unanswered: %v", len(pending), pending)
		}
		for _, svc := range []uint16{cellUAOpenReq, cellUACreateSession, cellUAActivate, cellUABrowse, cellUARead, cellUACreateSub, cellUACreateMon, cellUAPublish, cellUACloseSession, cellUACloseChannel, cellUAWrite} {
			if got.Requests[svc] == 0 {
				t.Errorf("no request of service %d", svc)
			}
		}
		if lp := host("unknown-3c7c3f").IP.String(); len(writers) != 1 || !writers[lp] {
			t.Errorf("Write requests from %v, want only from %s", writers, lp)
		}
		if p := tshark("-Y", "opcua.security.spu", "-T", "fields", "-e", "opcua.security.spu"); len(p) == 0 || slices.ContainsFunc(p, func(s string) bool { return s != cellUAPolicyNone }) {
			t.Errorf("security policies %q, want only None", p)
		}
		checkEventTime(t, sum, ScenarioOPCUAUnknownWrite, "opcua-write", tshark("-Y", "opcua.servicenodeid.numeric == 673", "-T", "fields", "-e", "frame.time_epoch"))
	})

	t.Run("endpoints", func(t *testing.T) {
		seen := map[string]string{}
		for _, f := range cellFields(tshark, "frame", "eth.src", "ip.src", "arp.src.proto_ipv4", "eth.src.oui_resolved") {
			if a := f[1] + f[2]; a != "" && a != "0.0.0.0" {
				seen[f[0]+" "+a] = f[3]
			}
		}
		for _, h := range sum.Hosts {
			k := h.MAC.String() + " " + h.IP.String()
			if v, ok := seen[k]; !ok {
				t.Errorf("host %s (%s) never sends", h.Name, k)
			} else if !strings.HasPrefix(v, h.Vendor) {
				t.Errorf("host %s: tshark resolves the OUI to %q, Host says %q", h.Name, v, h.Vendor)
			}
			if !h.Subnet.Contains(h.IP) {
				t.Errorf("host %s: %v not in %v", h.Name, h.IP, h.Subnet)
			}
		}
	})

	t.Run("arp first", func(t *testing.T) {
		arpSeen := map[string]bool{}
		first := map[string]bool{}
		for _, f := range cellFields(tshark, "frame", "ip.src", "arp.src.proto_ipv4", "arp.dst.proto_ipv4", "udp.srcport") {
			switch {
			case f[1] != "":
				arpSeen[f[1]], arpSeen[f[2]] = true, true
			case f[0] != "" && f[0] != "0.0.0.0" && f[3] != "67" && !first[f[0]]:
				first[f[0]] = true
				if !arpSeen[f[0]] {
					t.Errorf("%s sends IP before any ARP for its address", f[0])
				}
			}
		}
	})
}

// TestTsharkCellsLearnable checks that a sensor learning on the first half
// of a capture of the cells has seen every kind of exchange of the
// second: who talks to whom, with which service, in which direction.
func TestTsharkCellsLearnable(t *testing.T) {
	const d = 4 * time.Minute
	_, tshark := cellCapture(t, Options{Seed: 42, Duration: d, Cells: []string{CellAll}})
	first, second := map[string]bool{}, map[string]int{}
	protos := map[string]int{"bacnet": 0, "iec104": 0, "goose": 0, "mms": 0, "opcua": 0}
	for _, f := range cellFields(tshark, "bacapp || iec60870_104 || goose || mms || opcua", "frame.time_relative", "ip.src", "ip.dst", "eth.src",
		"bacapp.type", "bacapp.confirmed_service", "bacapp.unconfirmed_service",
		"iec60870_104.type", "iec60870_104.utype", "iec60870_asdu.typeid", "iec60870_asdu.causetx",
		"goose.gocbRef", "goose.sqNum", "mms.confirmedServiceRequest", "mms.confirmedServiceResponse", "opcua.transport.type", "opcua.servicenodeid.numeric") {
		at, _ := strconv.ParseFloat(f[0], 64)
		if f[12] != "" && f[12] != "0" {
			f[12] = "n" // a retransmission
		}
		kind := strings.Join(f[1:], " ")
		if at < d.Seconds()/2 {
			first[kind] = true
			for proto, i := range map[string]int{"bacnet": 4, "iec104": 7, "goose": 11, "mms": 13, "opcua": 15} {
				if f[i] != "" || proto == "mms" && f[14] != "" {
					protos[proto]++
				}
			}
		} else {
			second[kind]++
		}
	}
	for proto, n := range protos {
		if n == 0 {
			t.Errorf("no %s in the first half", proto)
		}
	}
	if len(first) < 40 || len(second) == 0 {
		t.Errorf("%d kinds of exchange in the first half, %d in the second: want dozens", len(first), len(second))
	}
	for k, n := range second {
		if !first[k] {
			t.Errorf("%d exchanges of a kind only the second half has: %s", n, k)
		}
	}
}

func BenchmarkGenerateCells(b *testing.B) {
	opts := Options{Seed: 1, Duration: 2 * time.Minute, Cells: []string{CellAll}, Scenarios: cellScenarios}
	var packets int
	b.ReportAllocs()
	for b.Loop() {
		sum, err := Generate(io.Discard, opts)
		if err != nil {
			b.Fatal(err)
		}
		packets += sum.Packets
		b.SetBytes(sum.Bytes)
	}
	b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "packets/s")
}
