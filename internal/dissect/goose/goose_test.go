package goose

import (
	"strings"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// handFrame is a GOOSE frame written octet by octet from IEC 61850-8-1
// Annex A and C, without the test encoder.
const handFrame = "" +
	"0001 005c 0000 0000" + // APPID 1, length 92, reserved1, reserved2
	"61 52" + // goosePdu, 82 octets
	"80 0e 4c44302f4c4c4e3024474f244731" + // gocbRef "LD0/LLN0$GO$G1"
	"81 02 07d0" + // timeAllowedtoLive 2000
	"82 0c 4c44302f4c4c4e3024445331" + // datSet "LD0/LLN0$DS1"
	"83 02 4731" + // goID "G1"
	"84 08 695b6f00 800000 0a" + // t: 2026-01-05T07:57:52.5Z, quality 0x0a
	"85 01 05" + // stNum 5
	"86 01 0c" + // sqNum 12
	"87 01 00" + // simulation (test) FALSE
	"88 01 01" + // confRev 1
	"89 01 00" + // ndsCom FALSE
	"8a 01 03" + // numDatSetEntries 3
	"ab 0e" + // allData, 14 octets
	"830101" + // boolean TRUE
	"84020680" + // bit-string, 6 unused bits: 10 (Dbpos on)
	"8705 08 43668000" + // floating-point, FLOAT32 230.5
	"000000000000" // Ethernet padding after the length

func TestHandFrame(t *testing.T) {
	ops := run(t, New(Options{Publishers: 8}), in{src: ied1, payload: dissecttest.Hex(t, handFrame)})
	if len(ops) != 1 {
		t.Fatalf("%d operations, want 1", len(ops))
	}
	op := ops[0]
	want := "gocbRef=LD0/LLN0$GO$G1 datSet=LD0/LLN0$DS1 goID=G1 appid=0x0001 stNum=5 sqNum=12 ttl=2000 confRev=1 entries=3"
	if got := attrs(op); got != want {
		t.Errorf("attrs\n got %s\nwant %s", got, want)
	}
	if op.Detail != "stNum 5, 3 entries: true, 0b10, 230.5" {
		t.Errorf("detail %q", op.Detail)
	}
	if op.Protocol != "goose" || op.FunctionName != "publish" || op.Class != dissect.ClassOther ||
		op.Result.Status != dissect.StatusOK || !op.Request || op.Response || op.Transport != "ethernet" {
		t.Errorf("operation %s %s %v %v req=%v res=%v", op.Protocol, op.FunctionName, op.Class, op.Result, op.Request, op.Response)
	}
	if op.Client.MAC != ied1 || op.Server.MAC != gooseMC {
		t.Errorf("client %v server %v", op.Client.MAC, op.Server.MAC)
	}
	if len(op.Targets) != 1 || op.Targets[0] != (dissect.Target{Kind: "dataset", Name: "LD0/LLN0$DS1", Count: 3}) {
		t.Errorf("targets %+v", op.Targets)
	}
	if len(op.Identity) != 0 {
		t.Errorf("identity %+v", op.Identity)
	}
}

func TestDecode(t *testing.T) {
	long := strings.Repeat("X", 200) // long-form length (X.690 8.1.3.5)
	tests := []struct {
		name   string
		m      func(m *msg)
		vlan   uint16
		attrs  string
		detail string
	}{
		{name: "typical", m: func(*msg) {},
			attrs:  "gocbRef=IED1LD0/LLN0$GO$gcb01 datSet=IED1LD0/LLN0$DS1 goID=gcb01 appid=0x0001 stNum=1 sqNum=0 ttl=2000 confRev=1 entries=3",
			detail: "stNum 1, 3 entries: true, 0b10, 230.5"},
		{name: "no goID, vlan tagged", m: func(m *msg) { m.goID = "" }, vlan: 100,
			attrs:  "gocbRef=IED1LD0/LLN0$GO$gcb01 datSet=IED1LD0/LLN0$DS1 appid=0x0001 stNum=1 sqNum=0 ttl=2000 confRev=1 entries=3 vlan=100",
			detail: "stNum 1, 3 entries: true, 0b10, 230.5"},
		{name: "Ed.2 simulation: S bit and simulation field", m: func(m *msg) { m.res1 = 0x8000; m.test = true; m.nds = true },
			attrs:  "gocbRef=IED1LD0/LLN0$GO$gcb01 datSet=IED1LD0/LLN0$DS1 goID=gcb01 appid=0x0001 stNum=1 sqNum=0 ttl=2000 confRev=1 entries=3 test=true simulation=true ndsCom=true",
			detail: "stNum 1, 3 entries: true, 0b10, 230.5"},
		{name: "Ed.1 test flag", m: func(m *msg) { m.test = true },
			attrs:  "gocbRef=IED1LD0/LLN0$GO$gcb01 datSet=IED1LD0/LLN0$DS1 goID=gcb01 appid=0x0001 stNum=1 sqNum=0 ttl=2000 confRev=1 entries=3 test=true",
			detail: "stNum 1, 3 entries: true, 0b10, 230.5"},
		{name: "counters at their maximum: 5-octet INTEGERs", m: func(m *msg) {
			m.st, m.sq, m.conf, m.ttl = 1<<32-1, 1<<32-1, 1<<31, 60000
		},
			attrs:  "gocbRef=IED1LD0/LLN0$GO$gcb01 datSet=IED1LD0/LLN0$DS1 goID=gcb01 appid=0x0001 stNum=4294967295 sqNum=4294967295 ttl=60000 confRev=2147483648 entries=3",
			detail: "stNum 4294967295, 3 entries: true, 0b10, 230.5"},
		{name: "long gocbRef, APPID 0x3fff", m: func(m *msg) { m.gocbRef = long; m.appid = 0x3fff },
			attrs:  "gocbRef=" + long + " datSet=IED1LD0/LLN0$DS1 goID=gcb01 appid=0x3fff stNum=1 sqNum=0 ttl=2000 confRev=1 entries=3",
			detail: "stNum 1, 3 entries: true, 0b10, 230.5"},
		{name: "structures, arrays and every simple type", m: func(m *msg) {
			m.data = [][]byte{
				encStruct(encBits(6, 0x40), encBits(3, 0x00, 0x00), dissecttest.BER(0x91, utc(time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC), 0x0a))),
				encArray(encInt(-5), encInt(300), encUint(4294967295)),
				encVis("open"), encOctets(0xde, 0xad), encFloat(-0.25), encBool(false),
				dissecttest.BER(0x87, []byte{11, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18}), // FLOAT64 pi
			}
		},
			attrs: "gocbRef=IED1LD0/LLN0$GO$gcb01 datSet=IED1LD0/LLN0$DS1 goID=gcb01 appid=0x0001 stNum=1 sqNum=0 ttl=2000 confRev=1 entries=7",
			detail: "stNum 1, 7 entries: {0b01, 0b0000000000000, 2026-01-05T08:00:00.000000Z}, [-5, 300, 4294967295], " +
				`"open", 0xdead, -0.25, false, 3.141592653589793`},
		{name: "empty data set", m: func(m *msg) { m.data = nil },
			attrs:  "gocbRef=IED1LD0/LLN0$GO$gcb01 datSet=IED1LD0/LLN0$DS1 goID=gcb01 appid=0x0001 stNum=1 sqNum=0 ttl=2000 confRev=1 entries=0",
			detail: "stNum 1, 0 entries: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := base()
			tt.m(&m)
			ops := run(t, New(Options{Publishers: 8}), in{src: ied1, payload: m.frame(), vlan: tt.vlan})
			if len(ops) != 1 {
				t.Fatalf("%d operations, want 1", len(ops))
			}
			op := ops[0]
			if op.Result.Status != dissect.StatusOK {
				t.Fatalf("status %v %s", op.Result.Status, op.Result.Text)
			}
			if got := attrs(op); got != tt.attrs {
				t.Errorf("attrs\n got %s\nwant %s", got, tt.attrs)
			}
			if op.Detail != tt.detail {
				t.Errorf("detail\n got %q\nwant %q", op.Detail, tt.detail)
			}
		})
	}
}

func TestDetailCut(t *testing.T) {
	m := base()
	m.data = nil
	for range 100 {
		m.data = append(m.data, encVis("breaker position"))
	}
	op := run(t, New(Options{Publishers: 8}), in{src: ied1, payload: m.frame()})[0]
	if !strings.HasSuffix(op.Detail, ", ...") || len(op.Detail) > detailMax+100 {
		t.Errorf("detail of %d bytes: %q", len(op.Detail), op.Detail)
	}
}

// TestMalformed feeds frames that break the header, BER or Annex A rules:
// one operation each, status malformed, the violation named.
func TestMalformed(t *testing.T) {
	good := base().pdu()
	withPDU := func(f func(m *msg)) []byte { m := base(); f(&m); return m.frame() }
	// replace returns the good frame with one field's TLV replaced.
	replace := func(old, new []byte) []byte {
		s := strings.Replace(string(good[2:]), string(old), string(new), 1)
		return frame(1, 0, dissecttest.BER(0x61, []byte(s)))
	}
	tests := []struct {
		name, violation string
		payload         []byte
		attrs           string // expected attributes besides violation
	}{
		{"empty", "short_header", nil, ""},
		{"header only 7 octets", "short_header", []byte{0, 1, 0, 8, 0, 0, 0}, ""},
		{"length below 8", "bad_length", []byte{0, 1, 0, 4, 0, 0, 0, 0}, "appid=0x0001"},
		{"length past the frame", "bad_length", frame(1, 0, good)[:40], "appid=0x0001"},
		{"not a goosePdu", "unknown_apdu", frame(1, 0, dissecttest.BER(0x62, good[2:])), "appid=0x0001"},
		{"empty APDU", "ber_truncated", frame(1, 0, nil), "appid=0x0001"},
		{"indefinite length", "ber_indefinite_length", frame(1, 0, append([]byte{0x61, 0x80}, good[2:]...)), "appid=0x0001"},
		{"5-octet length", "ber_length", frame(1, 0, []byte{0x61, 0x85, 0, 0, 0, 0, 1, 0}), "appid=0x0001"},
		{"field past the pdu", "ber_truncated", frame(1, 0, dissecttest.BER(0x61, []byte{0x80, 0x20, 'a'})), "appid=0x0001"},
		{"missing stNum", "missing_stnum", replace(berInt(0x85, 1), nil), "appid=0x0001 gocbRef=IED1LD0/LLN0$GO$gcb01"},
		{"missing allData", "missing_alldata", replace(dissecttest.BER(0xab, encBool(true), encBits(6, 0x80), encFloat(230.5)), nil),
			"appid=0x0001 gocbRef=IED1LD0/LLN0$GO$gcb01"},
		{"fields out of order", "field_order", frame(1, 0, dissecttest.BER(0x61, berInt(0x81, 2000), berStr(0x80, "x"))), "appid=0x0001"},
		{"universal element in the pdu", "unexpected_element", frame(1, 0, dissecttest.BER(0x61, berStr(0x80, "x"), berInt(0x02, 1))),
			"appid=0x0001 gocbRef=x"},
		{"constructed gocbRef", "field_encoding", frame(1, 0, dissecttest.BER(0x61, dissecttest.BER(0xa0, berStr(0x04, "x")))), "appid=0x0001"},
		{"primitive allData", "field_encoding", replace(dissecttest.BER(0xab, encBool(true), encBits(6, 0x80), encFloat(230.5)), dissecttest.BER(0x8b)),
			"appid=0x0001 gocbRef=IED1LD0/LLN0$GO$gcb01"},
		{"boolean of two octets", "field_size", replace(berBool(0x87, false), dissecttest.BER(0x87, []byte{0, 0})),
			"appid=0x0001 gocbRef=IED1LD0/LLN0$GO$gcb01"},
		{"t of 6 octets", "field_size", replace(dissecttest.BER(0x84, utc(dissecttest.Start, 0x0a)), dissecttest.BER(0x84, make([]byte, 6))),
			"appid=0x0001 gocbRef=IED1LD0/LLN0$GO$gcb01"},
		{"empty stNum", "field_size", replace(berInt(0x85, 1), dissecttest.BER(0x85)), "appid=0x0001 gocbRef=IED1LD0/LLN0$GO$gcb01"},
		{"negative stNum", "value_range", withPDU(func(m *msg) { m.st = -1 }), "appid=0x0001 gocbRef=IED1LD0/LLN0$GO$gcb01"},
		{"sqNum above 2^32-1", "value_range", withPDU(func(m *msg) { m.sq = 1 << 32 }), "appid=0x0001 gocbRef=IED1LD0/LLN0$GO$gcb01"},
		{"data tag 0", "bad_data", withPDU(func(m *msg) { m.data = [][]byte{dissecttest.BER(0x80, []byte{1})} }),
			"appid=0x0001 gocbRef=IED1LD0/LLN0$GO$gcb01"},
		{"boolean data of 0 octets", "bad_data", withPDU(func(m *msg) { m.data = [][]byte{dissecttest.BER(0x83)} }),
			"appid=0x0001 gocbRef=IED1LD0/LLN0$GO$gcb01"},
		{"bit-string with 8 unused bits", "bad_data", withPDU(func(m *msg) { m.data = [][]byte{encBits(8, 0)} }),
			"appid=0x0001 gocbRef=IED1LD0/LLN0$GO$gcb01"},
		{"float of 4 octets", "bad_data", withPDU(func(m *msg) { m.data = [][]byte{dissecttest.BER(0x87, []byte{0, 0, 0, 0})} }),
			"appid=0x0001 gocbRef=IED1LD0/LLN0$GO$gcb01"},
		{"primitive structure", "bad_data", withPDU(func(m *msg) { m.data = [][]byte{dissecttest.BER(0x82, []byte{0})} }),
			"appid=0x0001 gocbRef=IED1LD0/LLN0$GO$gcb01"},
		{"bad element inside a structure", "bad_data", withPDU(func(m *msg) { m.data = [][]byte{encStruct(encBool(true), dissecttest.BER(0x83, []byte{1, 1}))} }),
			"appid=0x0001 gocbRef=IED1LD0/LLN0$GO$gcb01"},
		// Soft violations: the fields decode, the state is tracked.
		{"numDatSetEntries too high", "entries_mismatch", withPDU(func(m *msg) { m.entries = 4 }),
			"gocbRef=IED1LD0/LLN0$GO$gcb01 datSet=IED1LD0/LLN0$DS1 goID=gcb01 appid=0x0001 stNum=1 sqNum=0 ttl=2000 confRev=1 entries=4"},
		{"S bit without the simulation field (8-1 Ed.2)", "simulation_mismatch", withPDU(func(m *msg) { m.res1 = 0x8000 }),
			"gocbRef=IED1LD0/LLN0$GO$gcb01 datSet=IED1LD0/LLN0$DS1 goID=gcb01 appid=0x0001 stNum=1 sqNum=0 ttl=2000 confRev=1 entries=3 simulation=true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops := run(t, New(Options{Publishers: 8}), in{src: ied1, payload: tt.payload})
			if len(ops) != 1 {
				t.Fatalf("%d operations, want 1", len(ops))
			}
			op := ops[0]
			if op.Result.Status != dissect.StatusMalformed || op.Attr("violation") != tt.violation {
				t.Errorf("status %v violation %q (%s), want malformed %q", op.Result.Status, op.Attr("violation"), op.Result.Text, tt.violation)
			}
			if !strings.HasPrefix(op.Result.Text, "goose: ") {
				t.Errorf("result text %q", op.Result.Text)
			}
			want := strings.TrimSpace(tt.attrs + " violation=" + tt.violation)
			if got := attrs(op); got != want {
				t.Errorf("attrs\n got %s\nwant %s", got, want)
			}
			if op.FunctionName != "publish" || op.Client.MAC != ied1 {
				t.Errorf("function %q client %v", op.FunctionName, op.Client.MAC)
			}
		})
	}
}

// TestSequence follows one control block through the stNum/sqNum rules of
// IEC 61850-7-2 18.2.3 (stNum +1 per state change with sqNum back to 0,
// sqNum +1 per retransmission, both rolling over after 2^32-1).
func TestSequence(t *testing.T) {
	type step struct {
		st, sq int64
		m      func(m *msg) // further changes
		src    dissect.MAC
		fn     string
		seq    string
	}
	other := func(m *msg) { m.data[0] = encBool(false) }
	steps := []step{
		{st: 1, sq: 0, fn: "publish"}, // first frame seen: no sequence to compare with
		{st: 1, sq: 1, fn: "publish"},
		{st: 1, sq: 1, fn: "publish"}, // the same frame twice (PRP, two taps)
		{st: 1, sq: 4, fn: "publish", seq: "sqnum_gap"},
		{st: 1, sq: 2, fn: "publish", seq: "sqnum_backwards"},
		{st: 2, sq: 0, m: other, fn: "state_change"},
		{st: 2, sq: 1, m: other, fn: "publish"},
		{st: 2, sq: 2, fn: "publish", seq: "data_change_without_stnum"},
		{st: 9, sq: 0, fn: "state_change", seq: "stnum_jump"},
		{st: 3, sq: 0, fn: "state_change", seq: "stnum_reset"},
		{st: 4, sq: 6, fn: "state_change", seq: "sqnum_gap"},
		{st: 4, sq: 7, m: func(m *msg) { m.conf = 2 }, fn: "publish", seq: "confrev_change"},
		{st: 4, sq: 8, m: func(m *msg) { m.conf = 2; m.datSet = "IED1LD0/LLN0$DS2" }, fn: "publish", seq: "dataset_change"},
		{st: 4, sq: 9, m: func(m *msg) { m.conf = 2; m.datSet = "IED1LD0/LLN0$DS2"; m.goID = "other" }, fn: "publish", seq: "goid_change"},
		{st: 4, sq: 10, m: func(m *msg) {
			m.conf = 2
			m.datSet = "IED1LD0/LLN0$DS2"
			m.goID = "other"
			m.data = append(m.data, encBool(true))
		}, fn: "publish", seq: "dataset_change,data_change_without_stnum"}, // numDatSetEntries 3 -> 4
		{st: 8, sq: 0, m: func(m *msg) { m.conf = 3 }, fn: "state_change", seq: "stnum_jump,confrev_change,dataset_change,goid_change"},
		// Another publisher with the same gocbRef has a state of its own.
		{st: 100, sq: 50, src: ied2, fn: "publish"},
		{st: 100, sq: 51, src: ied2, fn: "publish"},
		// Rollovers.
		{st: 4294967295, sq: 4294967295, src: ied2, fn: "state_change", seq: "stnum_jump,sqnum_gap"},
		{st: 4294967295, sq: 1, src: ied2, fn: "publish"},
		{st: 1, sq: 0, src: ied2, m: other, fn: "state_change"},
		{st: 2, sq: 0, src: ied2, fn: "state_change"},
	}
	d := New(Options{Publishers: 8})
	for i, s := range steps {
		m := base()
		m.st, m.sq = s.st, s.sq
		if s.m != nil {
			s.m(&m)
		}
		src := s.src
		if src.IsZero() {
			src = ied1
		}
		ops := run(t, d, in{src: src, payload: m.frame()})
		if len(ops) != 1 {
			t.Fatalf("step %d: %d operations", i, len(ops))
		}
		op := ops[0]
		class := dissect.ClassOther
		if s.fn == "state_change" {
			class = dissect.ClassControl
		}
		if op.FunctionName != s.fn || op.Class != class || op.Attr("sequence") != s.seq || op.Result.Status != dissect.StatusOK {
			t.Errorf("step %d (st %d sq %d): %s %v sequence %q %v, want %s %v %q", i, s.st, s.sq,
				op.FunctionName, op.Class, op.Attr("sequence"), op.Result.Status, s.fn, class, s.seq)
		}
	}
}

// TestSimulatedStream checks that simulated frames (S bit and simulation
// field, as a test set sends them in the IED's name) do not disturb the
// sequence of the real control block.
func TestSimulatedStream(t *testing.T) {
	d := New(Options{Publishers: 8})
	real1, sim, real2 := base(), base(), base()
	real1.st, real1.sq = 5, 10
	sim.st, sim.sq, sim.res1, sim.test = 1, 0, 0x8000, true
	real2.st, real2.sq = 5, 11
	ops := run(t, d, in{src: ied1, payload: real1.frame()}, in{src: ied1, payload: sim.frame()}, in{src: ied1, payload: real2.frame()})
	for i, op := range ops {
		if op.Attr("sequence") != "" || op.FunctionName != "publish" {
			t.Errorf("frame %d: %s sequence %q", i, op.FunctionName, op.Attr("sequence"))
		}
	}
}

// TestEviction fills a small table with more control blocks than it holds:
// it does not grow, and a forgotten control block starts over without
// sequence findings.
func TestEviction(t *testing.T) {
	d := New(Options{Publishers: 8})
	var frames []in
	for i := range 100 {
		m := base()
		m.gocbRef = "IED1LD0/LLN0$GO$gcb" + strings.Repeat("x", i)
		m.st = int64(i + 10)
		frames = append(frames, in{src: ied1, payload: m.frame()})
	}
	m := base()
	m.gocbRef = "IED1LD0/LLN0$GO$gcb"
	m.st = 1000 // would be stnum_jump against the first frame's state
	frames = append(frames, in{src: ied1, payload: m.frame()})
	ops := run(t, d, frames...)
	if n := d.pubs.len(); n > 8 || len(d.pubs.slots) != 8 {
		t.Errorf("table holds %d in %d slots, want at most 8", n, len(d.pubs.slots))
	}
	if d.pubs.evicted == 0 {
		t.Error("no eviction counted")
	}
	if last := ops[len(ops)-1]; last.Attr("sequence") != "" || last.FunctionName != "publish" {
		t.Errorf("evicted control block came back as %s %q", last.FunctionName, last.Attr("sequence"))
	}
	d.Reset()
	if d.pubs.len() != 0 {
		t.Error("Reset kept publishers")
	}
}

// TestInternedStrings checks that the retransmissions of a control block
// reuse the strings of its first frame.
func TestInternedStrings(t *testing.T) {
	d := New(Options{Publishers: 8})
	a, b := base(), base()
	b.sq = 1
	ops := run(t, d, in{src: ied1, payload: a.frame()}, in{src: ied1, payload: b.frame()})
	for _, k := range []string{"gocbRef", "datSet", "goID", "stNum", "ttl"} {
		x, y := ops[0].Attr(k), ops[1].Attr(k)
		if x != y || len(x) == 0 || unsafeData(x) != unsafeData(y) {
			t.Errorf("%s: %q and %q are different strings", k, x, y)
		}
	}
}

func TestSteadyPathAllocations(t *testing.T) {
	d := New(Options{Publishers: 64})
	m := base()
	m.st, m.sq = 7, 0x01000000 // sqNum in four octets, above the precomputed strings
	payload := m.frame()
	// Locate the sqNum contents to count up in place: 86 04 01 00 00 00.
	i := strings.Index(string(payload), "\x86\x04\x01\x00\x00\x00")
	if i < 0 {
		t.Fatal("sqNum not found")
	}
	sq := payload[i+2 : i+6]
	ops, seqs := 0, 0
	ctx := &dissect.Context{Emitter: dissect.EmitterFunc(func(op *dissect.Operation) {
		ops++
		if op.Attr("sequence") != "" || op.Result.Status != dissect.StatusOK {
			seqs++
		}
	}), Time: dissecttest.Start}
	f := &dissect.Frame{SrcMAC: ied1, DstMAC: gooseMC, EtherType: EtherTypeGOOSE, Payload: payload}
	n := uint32(0x01000000)
	step := func() {
		sq[0], sq[1], sq[2], sq[3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
		n++
		d.Dissect(f, ctx)
	}
	step()
	// sqNum strings are made seqBlock at a time: one allocation per block.
	if a := mallocsPerRun(seqBlock*32, step); a > 1.0/seqBlock+0.001 {
		t.Errorf("retransmission allocates %.3f times, want at most 1/%d", a, seqBlock)
	}
	// Below smallN, sqNum strings are precomputed: no allocation at all.
	m.st, m.sq = 8, 0x0100 // two octets: 86 02 01 00
	small := m.frame()
	j := strings.Index(string(small), "\x86\x02\x01\x00")
	if j < 0 {
		t.Fatal("small sqNum not found")
	}
	f.Payload = small
	d.Dissect(f, ctx) // state change: stNum 7 -> 8
	k := uint16(0x0100)
	if a := mallocsPerRun(1000, func() {
		k++
		small[j+2], small[j+3] = byte(k>>8), byte(k)
		d.Dissect(f, ctx)
	}); a != 0 {
		t.Errorf("retransmission with a small sqNum allocates %.3f times, want 0", a)
	}
	// The one finding: the new state starts at sqNum 256 (sqnum_gap).
	if ops != 1+1+seqBlock*32+1+1+1000 || seqs != 1 {
		t.Errorf("%d operations, %d with findings", ops, seqs)
	}
}

// TestConcurrent dissects from several goroutines at once, as capture
// workers do with the registered dissectors (run with -race).
func TestConcurrent(t *testing.T) {
	d, sv := New(Options{Publishers: 16}), NewSV(Options{Publishers: 16})
	done := make(chan int)
	for g := range 4 {
		go func() {
			n := 0
			ctx := &dissect.Context{Emitter: dissect.EmitterFunc(func(*dissect.Operation) { n++ })}
			src := dissect.MAC{0, 9, 0x8e, 0, 1, byte(g)}
			for i := range 200 {
				m := base()
				m.sq = int64(i)
				d.Dissect(&dissect.Frame{SrcMAC: src, DstMAC: gooseMC, EtherType: EtherTypeGOOSE, Payload: m.frame()}, ctx)
				sv.Dissect(&dissect.Frame{SrcMAC: src, DstMAC: svMC, EtherType: EtherTypeSV,
					Payload: svFrame(0x4000, 0, -1, asdu{svID: "MU", conf: 1})}, ctx)
			}
			done <- n
		}()
	}
	for range 4 {
		if n := <-done; n != 201 { // 200 GOOSE, 1 SV (same time: rate-limited)
			t.Errorf("%d operations, want 201", n)
		}
	}
}
