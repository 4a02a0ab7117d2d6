package synphasor

import (
	"encoding/hex"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// conversation is what the oracle tests write: messages from the PDC
// (toPMU) and from the PMU.
type message struct {
	toPMU bool
	hex   string
}

func conversation(t testing.TB) []message {
	cfg3 := frame(t, typeConfig3, 12, "0000 000f4240 0001 09"+hex.EncodeToString([]byte("SUB7-PMU2"))+
		" 000c 00112233445566778899aabbccddeeff 000f 0001 0000 0000 02 5641"+
		" 01000000 3f800000 00000000 7f800000 7f800000 7f800000 4d 00000000 00000000 0000 0001 003c")
	m := []message{
		{true, frame(t, typeCommand, 7734, "0005")},
		{false, pypmuConfig2},
		{true, frame(t, typeCommand, 12, "0006")},
		{false, cfg3},
		{true, frame(t, typeCommand, 7734, "0003")},
		{false, pypmuHeader},
		{true, pypmuStart},
	}
	for range 5 {
		m = append(m, message{false, pypmuData})
	}
	return append(m, message{true, frame(t, typeCommand, 7734, "0001")}, message{true, frame(t, typeCommand, 7734, "0008 0102")})
}

// compareFrames checks, frame by frame, the frame type, stream IDCODE,
// CMD, PMU blocks' IDCODEs and CFG-3 station names, number of PMUs and
// data rate tshark decodes against the operation that carries the frame.
// Data frames are summarised once per second: a data frame no operation
// carries must be one tshark decodes as a data frame too.
func compareFrames(t *testing.T, path string, ops []*dissect.Operation) {
	t.Helper()
	rows := dissecttest.TsharkFrames(t, path, "synphasor", "synphasor.frtype", "synphasor.idcode_stream_source",
		"synphasor.command", "synphasor.idcode_data_source", "synphasor.station_name", "synphasor.conf.numpmu",
		"synphasor.rate_of_transmission")
	byFrame := dissecttest.FrameOps(ops)
	checked, suppressed, blocks, names := 0, 0, 0, 0
	for _, frame := range slices.Sorted(maps.Keys(rows)) {
		row := rows[frame]
		frtype, _ := strconv.ParseUint(row[0], 0, 16)
		fops := byFrame[frame]
		if len(fops) == 0 {
			if frtype != typeData {
				t.Errorf("frame %d: tshark decodes frame type %s, no operation carries it", frame, row[0])
			}
			suppressed++
			continue
		}
		op := fops[0].Op
		if frtype == typeCommand {
			if strconv.Itoa(op.FunctionCode) != mustHexDec(t, row[2]) {
				t.Errorf("frame %d: CMD %s, operation %s (%d)", frame, row[2], op.FunctionName, op.FunctionCode)
			}
		} else if a := op.Attr(attrFrame); a != frameNames[frtype] && op.FunctionCode != frameCode(byte(frtype)) {
			t.Errorf("frame %d: frame type %d, operation %s frame %q", frame, frtype, op.FunctionName, a)
		}
		if !hasAddress(op, row[1]) {
			t.Errorf("frame %d: stream IDCODE %s, operation facts %v", frame, row[1], op.Identity)
		}
		if row[3] != "" {
			for _, id := range splitComma(row[3]) {
				if !hasTarget(op, id) {
					t.Errorf("frame %d: PMU IDCODE %s, operation targets %v", frame, id, op.Targets)
				}
			}
			if op.Attr("pmus") != row[5] || op.Attr("data_rate") != row[6] {
				t.Errorf("frame %d: %s PMUs at rate %s, operation %s at %s", frame, row[5], row[6], op.Attr("pmus"), op.Attr("data_rate"))
			}
			blocks++
		}
		if row[4] != "" {
			if got := dissecttest.Fact(op, dissect.FactHostname); got != row[4] {
				t.Errorf("frame %d: station name %q, host name fact %q", frame, row[4], got)
			}
			names++
		}
		checked++
	}
	for frame, fops := range byFrame {
		if _, ok := rows[frame]; !ok {
			t.Errorf("frame %d: operation %s, tshark decodes no synchrophasor frame", frame, fops[0].Op.FunctionName)
		}
	}
	if checked == 0 || suppressed == 0 || blocks < 2 || names == 0 {
		t.Fatalf("%d frames checked (%d configurations, %d station names), %d data frames summarised", checked, blocks, names, suppressed)
	}
	t.Logf("%d frames agree (%d configurations, %d station names), %d data frames summarised", checked, blocks, names, suppressed)
}

func mustHexDec(t *testing.T, s string) string {
	v, err := strconv.ParseUint(s, 0, 16)
	if err != nil {
		t.Fatalf("tshark value %q: %v", s, err)
	}
	return strconv.FormatUint(v, 10)
}

func splitComma(s string) []string {
	var out []string
	for start, i := 0, 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

func hasAddress(op *dissect.Operation, id string) bool {
	for _, f := range op.Identity {
		if f.Key == dissect.FactAddress && f.Value == id {
			return true
		}
	}
	return false
}

func hasTarget(op *dissect.Operation, id string) bool {
	for _, tg := range op.Targets {
		if strconv.FormatUint(uint64(tg.Address), 10) == id && tg.Kind == "pmu" {
			return true
		}
	}
	return false
}

// messages returns the conversation with the PDC as the client.
func messages(t testing.TB) []dissecttest.Message {
	var out []dissecttest.Message
	for _, m := range conversation(t) {
		out = append(out, dissecttest.Message{ToServer: m.toPMU, Data: string(dissecttest.Hex(t, m.hex))})
	}
	return out
}

func TestTsharkTCP(t *testing.T) {
	conv := dissecttest.Conversation{
		Client: netip.MustParseAddrPort("10.10.1.20:50002"),
		Server: netip.MustParseAddrPort("10.10.2.10:4712"),
		Msgs:   messages(t),
	}
	path := dissecttest.WriteTCP(t, conv)
	compareFrames(t, path, dissecttest.Operations(t, path, "synphasor").Ops)
}

func TestTsharkUDP(t *testing.T) {
	conv := dissecttest.Conversation{
		Client: netip.MustParseAddrPort("10.10.1.20:4713"),
		Server: netip.MustParseAddrPort("10.10.2.10:4713"),
		Msgs:   messages(t),
	}
	path := dissecttest.WriteUDP(t, conv.Datagrams(net.HardwareAddr{0, 0x1b, 0x1b, 0, 0, 1}, net.HardwareAddr{0, 0x30, 0xa7, 0, 0, 2})...)
	compareFrames(t, path, dissecttest.Operations(t, path, "synphasor").Ops)
}
