package goose

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/otwatch/otwatch/internal/capture"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// vlanTag is one 802.1Q (TPID 0x8100) or 802.1ad (0x88a8) tag.
type vlanTag struct{ tpid, tci uint16 }

// wire is one Ethernet frame of a test capture.
type wire struct {
	src, dst dissect.MAC
	tags     []vlanTag // outermost first
	et       uint16
	payload  []byte
	at       time.Duration
}

// bytes returns the frame as sent: addresses, tags, EtherType, payload,
// padded to the 60-octet minimum (IEEE 802.3, FCS not captured).
func (w wire) bytes() []byte {
	b := append(append([]byte{}, w.dst[:]...), w.src[:]...)
	for _, t := range w.tags {
		b = binary.BigEndian.AppendUint16(b, t.tpid)
		b = binary.BigEndian.AppendUint16(b, t.tci)
	}
	b = binary.BigEndian.AppendUint16(b, w.et)
	b = append(b, w.payload...)
	for len(b) < 60 {
		b = append(b, 0)
	}
	return b
}

// writeCapture writes the frames into a pcap file in a temporary directory.
func writeCapture(t testing.TB, frames []wire) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "goose.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := capture.NewWriter(f, layers.LinkTypeEthernet, 0)
	for _, fr := range frames {
		if err := w.WritePacket(dissecttest.Start.Add(fr.at), fr.bytes(), 0); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// testFrames is the capture the agreement test writes: GOOSE from two
// IEDs (untagged, 802.1Q priority 4, 802.1ad + 802.1Q), a state change,
// simulated frames, extreme counters and long-form lengths, three
// violations, GSE management and two Sampled Values streams.
func testFrames() []wire {
	vlan := func(id uint16) []vlanTag { return []vlanTag{{0x8100, 4<<13 | id}} }
	qinq := []vlanTag{{0x88a8, 200}, {0x8100, 4<<13 | 10}}
	g := func(f func(m *msg)) []byte { m := base(); f(&m); return m.frame() }
	var out []wire
	add := func(src dissect.MAC, tags []vlanTag, et uint16, p []byte) {
		dst := gooseMC
		if et == EtherTypeSV {
			dst = svMC
		}
		out = append(out, wire{src: src, dst: dst, tags: tags, et: et, payload: p, at: time.Duration(len(out)) * time.Millisecond})
	}
	add(ied1, nil, EtherTypeGOOSE, g(func(m *msg) {}))
	add(ied1, vlan(10), EtherTypeGOOSE, g(func(m *msg) { m.sq = 1 }))
	add(ied1, qinq, EtherTypeGOOSE, g(func(m *msg) { m.sq = 2 }))
	add(ied1, vlan(10), EtherTypeGOOSE, g(func(m *msg) { m.st = 2; m.data[0] = encBool(false) }))
	add(ied1, vlan(10), EtherTypeGOOSE, g(func(m *msg) { m.res1 = 0x8000; m.test = true; m.st = 40 }))
	add(ied2, nil, EtherTypeGOOSE, g(func(m *msg) {
		m.gocbRef = "IED2" + strings.Repeat("LD", 70) + "/LLN0$GO$Trip"
		m.goID, m.nds, m.appid = "", true, 0x3fff
		m.st, m.sq, m.conf, m.ttl = 1<<32-1, 1<<32-1, 1<<31, 65535
		m.data = [][]byte{encStruct(encBits(3, 0x00, 0x00), encInt(-42)), encArray(encUint(7), encVis("trip")), encOctets(1, 2)}
	}))
	add(ied2, nil, EtherTypeGOOSE, g(func(m *msg) { m.entries = 9 }))   // numDatSetEntries mismatch
	add(ied2, nil, EtherTypeGOOSE, g(func(m *msg) { m.res1 = 0x8000 })) // S bit, simulation FALSE
	add(ied2, nil, EtherTypeGOOSE, g(func(m *msg) { m.st = 5 })[:60])   // length past the frame
	add(ied1, nil, EtherTypeGSE, mngtRequest(1, 1, "IED1LD0/LLN0$GO$gcb01", 0, 1))
	add(ied2, nil, EtherTypeGSE, mngtResponse(1, 2, "IED1LD0/LLN0$GO$gcb01", 1, "IED1LD0/LLN0$DS1", 0, 1, 2))
	mu := asdu{svID: "MU01", datSet: "MU01MU/LLN0$PhsMeas1", conf: 1, rate: 4000}
	for i := range 3 {
		mu.smpCnt = uint16(i)
		add(mergUnit, nil, EtherTypeSV, svFrame(0x4000, 0, -1, mu))
	}
	add(mergUnit, vlan(5), EtherTypeSV, svFrame(0x4001, 0, -1, asdu{svID: "MU02", conf: 3, smpCnt: 77}))
	var four []asdu
	for i := range 4 {
		four = append(four, asdu{svID: "MU03", datSet: "MU03MU/LLN0$PhsMeas2", conf: 2, smpCnt: uint16(10 + i), rate: 4800})
	}
	add(mergUnit, []vlanTag{{0x8100, 4 << 13}}, EtherTypeSV, svFrame(0x4002, 0x8000, -1, four...)) // priority tag, simulated
	// One second later: MU01 is reported again.
	mu.smpCnt = 3999
	out = append(out, wire{src: mergUnit, dst: svMC, et: EtherTypeSV, payload: svFrame(0x4000, 0, -1, mu), at: 2 * time.Second})
	return out
}

// tsharkFields are the fields the agreement test reads. tshark 4.0 names
// the goosePdu's [7] field goose.simulation (Ed.2's name; Ed.1 called it
// test: there is no goose.test) and the Reserved1 bit
// goose.reserve1.s_bit; our attributes are test and simulation.
var tsharkFields = []string{"frame.number", "ip.src", "vlan.id", "_ws.malformed",
	"goose.appid", "goose.gocbRef", "goose.timeAllowedtoLive", "goose.datSet", "goose.goID", "goose.stNum",
	"goose.sqNum", "goose.simulation", "goose.reserve1.s_bit", "goose.confRev", "goose.ndsCom",
	"goose.numDatSetEntries", "goose.allData", "goose.invalid_sim",
	"goose.stateID", "goose.ident", "goose.requests", "goose.responses", "goose.offset", "goose.offset_item",
	"sv.appid", "sv.svID", "sv.datSet", "sv.smpCnt", "sv.confRev", "sv.noASDU", "sv.smpRate", "sv.reserve1.s_bit"}

// TestTshark runs the test capture through the pipeline and compares every
// operation with tshark's decoding of the same frame. Known differences:
//   - tshark 4.0 does not dissect EtherType 0x88B9 by default: it is told
//     to (-d ethertype==0x88b9,goose);
//   - tshark does not compare numDatSetEntries with allData: frame 7,
//     which we report as entries_mismatch, is a plain goosePdu to it;
//   - tshark types confRev, timeAllowedtoLive and numDatSetEntries as
//     FT_INT32 and prints values above 2^31-1 negative; IEC 61850-7-2
//     types them INT32U (frame 6 has confRev 2^31): tshark's value is
//     read back as an unsigned 32-bit number;
//   - we report an SV stream at most once a second: tshark's SV frames are
//     compared field by field where we emitted, and counted per svID
//     against our "frames" attributes.
func TestTshark(t *testing.T) {
	frames := testFrames()
	if got, want := agree(t, writeCapture(t, frames)), len(frames)-2; got != want { // two SV frames within the second are not reported
		t.Errorf("%d frames compared, want %d", got, want)
	}
}

// agree compares the operations of a capture with tshark frame by frame
// and returns how many frames it compared.
func agree(t *testing.T, path string) int {
	rows := dissecttest.TsharkFields(t, path, []string{"-d", "ethertype==0x88b9,goose"}, tsharkFields...)
	Default.Reset()
	DefaultSV.Reset()
	ops := map[uint64]*dissect.Operation{}
	for _, op := range dissecttest.Operations(t, path, "goose", "sv").Ops {
		n := op.Packets[0].Frame
		if ops[n] != nil {
			t.Errorf("frame %d: two operations", n)
		}
		ops[n] = op
	}
	// one returns the first occurrence of a field (the first ASDU's, for
	// SV), vlan the innermost VLAN id (priority tags, id 0, are none).
	one := func(row map[string][]string, f string) string {
		if v := row[f]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	vlan := func(row map[string][]string) string {
		if v := row["vlan.id"]; len(v) > 0 && v[len(v)-1] != "0" {
			return v[len(v)-1]
		}
		return ""
	}
	// u32 reads an FT_INT32 value of tshark as the INT32U it encodes.
	u32 := func(v string) string {
		if n, err := strconv.ParseInt(v, 10, 32); err == nil && n < 0 {
			return strconv.FormatUint(uint64(uint32(n)), 10)
		}
		return v
	}
	flag := func(op *dissect.Operation, k string) string {
		if op.Attr(k) == "true" {
			return "1"
		}
		return "0"
	}
	svFrames := map[string]int{}
	compared := 0
	for _, row := range rows {
		n, _ := strconv.ParseUint(one(row, "frame.number"), 10, 64)
		op := ops[n]
		delete(ops, n)
		if row["ip.src"] != nil {
			// R-GOOSE and R-SV (over UDP) are not decoded here.
			if op != nil {
				t.Errorf("frame %d: operation %s for an IP frame", n, op.Protocol)
			}
			continue
		}
		if op == nil {
			if row["sv.svID"] != nil {
				svFrames[one(row, "sv.svID")]--
				continue
			}
			if row["goose.appid"] != nil {
				t.Errorf("frame %d: tshark decodes GOOSE, no operation", n)
			}
			continue
		}
		if row["_ws.malformed"] != nil {
			if op.Result.Status != dissect.StatusMalformed {
				t.Errorf("frame %d: tshark says malformed, we say %v", n, op.Result.Status)
			}
			compared++
			continue
		}
		type pair struct{ ours, theirs string }
		var pairs map[string]pair
		switch {
		case row["goose.gocbRef"] != nil:
			// Detail: "stNum 1, 3 entries: ...".
			_, entries, _ := strings.Cut(op.Detail, ", ")
			entries, _, _ = strings.Cut(entries, " entries")
			pairs = map[string]pair{
				"appid":             {op.Attr("appid"), one(row, "goose.appid")},
				"gocbRef":           {op.Attr("gocbRef"), one(row, "goose.gocbRef")},
				"timeAllowedtoLive": {op.Attr("ttl"), u32(one(row, "goose.timeAllowedtoLive"))},
				"datSet":            {op.Attr("datSet"), one(row, "goose.datSet")},
				"goID":              {op.Attr("goID"), one(row, "goose.goID")},
				"stNum":             {op.Attr("stNum"), one(row, "goose.stNum")},
				"sqNum":             {op.Attr("sqNum"), one(row, "goose.sqNum")},
				"simulation field":  {flag(op, "test"), one(row, "goose.simulation")},
				"S bit":             {flag(op, "simulation"), one(row, "goose.reserve1.s_bit")},
				"confRev":           {op.Attr("confRev"), u32(one(row, "goose.confRev"))},
				"ndsCom":            {flag(op, "ndsCom"), one(row, "goose.ndsCom")},
				"numDatSetEntries":  {op.Attr("entries"), u32(one(row, "goose.numDatSetEntries"))},
				"allData items":     {entries, one(row, "goose.allData")},
				"vlan":              {op.Attr("vlan"), vlan(row)},
				"target":            {op.Targets[0].Name, one(row, "goose.datSet")},
			}
			if (row["goose.invalid_sim"] != nil) != (op.Attr("violation") == "simulation_mismatch") {
				t.Errorf("frame %d: tshark invalid_sim %v, our violation %q", n, row["goose.invalid_sim"], op.Attr("violation"))
			}
			if op.Protocol != "goose" || (op.Result.Status != dissect.StatusOK && op.Attr("violation") != "simulation_mismatch" &&
				op.Attr("violation") != "entries_mismatch") {
				t.Errorf("frame %d: %s %v %s", n, op.Protocol, op.Result.Status, op.Result.Text)
			}
		case row["goose.stateID"] != nil:
			service, items := one(row, "goose.requests"), len(row["goose.offset_item"])
			if op.Response {
				service, items = one(row, "goose.responses"), len(row["goose.offset"])
			}
			dataset := ""
			for _, tg := range op.Targets {
				if tg.Kind == "dataset" {
					dataset = tg.Name
				}
			}
			pairs = map[string]pair{
				"stateID": {op.Attr("state_id"), one(row, "goose.stateID")},
				"ident":   {op.Attr("ident"), one(row, "goose.ident")},
				"service": {strconv.Itoa(op.FunctionCode), service},
				"confRev": {op.Attr("confRev"), u32(one(row, "goose.confRev"))},
				"datSet":  {dataset, one(row, "goose.datSet")},
				"items":   {op.Attr("items"), strconv.Itoa(items)},
			}
		case row["sv.svID"] != nil:
			n, _ := strconv.Atoi(op.Attr("frames"))
			svFrames[op.Attr("svID")] += n - 1
			pairs = map[string]pair{
				"appid":   {op.Attr("appid"), one(row, "sv.appid")},
				"svID":    {op.Attr("svID"), one(row, "sv.svID")},
				"datSet":  {op.Attr("datSet"), one(row, "sv.datSet")},
				"smpCnt":  {op.Attr("smpCnt"), one(row, "sv.smpCnt")},
				"confRev": {op.Attr("confRev"), one(row, "sv.confRev")},
				"noASDU":  {op.Attr("asdus"), one(row, "sv.noASDU")},
				"smpRate": {op.Attr("smpRate"), one(row, "sv.smpRate")},
				"S bit":   {flag(op, "simulation"), one(row, "sv.reserve1.s_bit")},
				"vlan":    {op.Attr("vlan"), vlan(row)},
			}
		default:
			t.Errorf("frame %d: operation %s %s, tshark decodes neither GOOSE nor SV", n, op.Protocol, op.FunctionName)
		}
		for k, p := range pairs {
			if p.ours != p.theirs {
				t.Errorf("frame %d %s: ours %q, tshark %q", n, k, p.ours, p.theirs)
			}
		}
		compared++
	}
	for n, op := range ops {
		t.Errorf("frame %d: operation %s %s that tshark does not list", n, op.Protocol, op.FunctionName)
	}
	for id, n := range svFrames {
		if n != 0 {
			t.Errorf("svID %s: %d more frames counted by us than tshark", id, n)
		}
	}
	return compared
}

// TestCorpus compares our operations with tshark on every corpus capture
// that carries GOOSE or Sampled Values.
func TestCorpus(t *testing.T) {
	caps := append(dissecttest.CorpusCaptures(t, ":goose"), dissecttest.CorpusCaptures(t, ":sv")...)
	if len(caps) == 0 {
		t.Skip("no GOOSE or SV capture in the corpus")
	}
	seen := map[string]bool{}
	for _, c := range caps {
		if seen[c] {
			continue
		}
		seen[c] = true
		t.Run(filepath.Base(filepath.Dir(c)), func(t *testing.T) {
			if agree(t, c) == 0 {
				t.Error("no frame compared")
			}
		})
	}
}
