package iec104

import (
	"fmt"
	"maps"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
	"github.com/otwatch/otwatch/internal/testenv"
)

func causeCode(name string) int {
	for c := range 64 {
		if CauseName(uint8(c)) == name {
			return c
		}
	}
	return -1
}

func typeCode(name string) int {
	for c := range 256 {
		if TypeName(uint8(c)) == name {
			return c
		}
	}
	return -1
}

// tsharkCounts counts, from our operations, what tshark counts per APDU
// and per ASDU. tshark prints iec60870_104.type as 0 (I), 1 (S), 3 (U) and
// iec60870_104.utype as the U function bits shifted right by two (0x01
// STARTDT act ... 0x20 TESTFR con). One command operation stands for its
// activation ASDU, its confirmation (attribute confirmation, cause + 1),
// its termination (attribute termination) and an unknown-* reply (result
// code 44..47); a read command folds the requested data ASDU (attribute
// response_type, cause 5). Every other ASDU operation is one ASDU with
// the cause it names.
func tsharkCounts(ops []*dissect.Operation) map[string]map[string]int {
	out := map[string]map[string]int{}
	add := func(field, v string) {
		if out[field] == nil {
			out[field] = map[string]int{}
		}
		out[field][v]++
	}
	for _, op := range ops {
		if op.Result.Status == dissect.StatusMalformed && op.Attr(attrLayer) == "apci" {
			continue
		}
		if k := slices.Index(uCodes[:], op.FunctionCode); k >= 0 && op.Attr(attrCause) == "" {
			if op.Request {
				add("iec60870_104.type", "0x00000003")
				add("iec60870_104.utype", fmt.Sprintf("0x%08x", (uCodes[k]&^3)>>2))
			}
			if op.Response {
				add("iec60870_104.type", "0x00000003")
				add("iec60870_104.utype", fmt.Sprintf("0x%08x", (uCodes[k]&^3)>>1))
			}
			continue
		}
		cause := op.Attr(attrCause)
		if cause == "" {
			continue
		}
		ca := ""
		for _, f := range op.Identity {
			if f.Key == dissect.FactAddress {
				ca = f.Value
			}
		}
		asdu := func(tid, cot int) {
			add("iec60870_104.type", "0x00000000")
			add("iec60870_asdu.typeid", strconv.Itoa(tid))
			add("iec60870_asdu.causetx", strconv.Itoa(cot))
			add("iec60870_asdu.addr", ca)
			add("iec60870_asdu.oa", op.Attr(attrOrig))
		}
		cot := causeCode(cause)
		asdu(op.FunctionCode, cot)
		if !op.Request {
			continue
		}
		if op.Attr(attrConfirm) != "" {
			asdu(op.FunctionCode, cot+1)
		}
		if op.Attr(attrTerm) != "" {
			asdu(op.FunctionCode, cotActTerm)
		}
		if c := op.Result.Code; c >= cotUnknownTI && c <= cotUnknownIO {
			asdu(op.FunctionCode, c)
		}
		if rt := op.Attr(attrRespType); rt != "" {
			asdu(typeCode(rt), cotRequest)
		}
	}
	return out
}

// knownDifferences adjust tshark's counts to what otwatch must report, by
// corpus case, with the reason.
var knownDifferences = map[string]struct {
	reason string
	adjust func(want map[string]map[string]int)
}{}

func TestCorpus(t *testing.T) {
	for _, cc := range dissecttest.ProtocolCases(t, "iec104") {
		name := cc.Name
		t.Run(name, func(t *testing.T) {
			var o dissecttest.Oracle
			cc.ReadOracle(t, &o)
			ops := dissecttest.Operations(t, cc.Capture, "iec104").Ops
			for _, op := range ops {
				if op.Result.Status == dissect.StatusMalformed {
					t.Errorf("malformed operation (tshark finds none): %s %s %v", op.FunctionName, op.Result.Text, op.Packets)
				}
			}
			got := tsharkCounts(ops)
			want := map[string]map[string]int{}
			for f, m := range o.Protocols["iec104"].Fields {
				want[f] = maps.Clone(m)
			}
			// S-format APDUs are acknowledgements, not operations: only
			// their violations are reported.
			delete(want["iec60870_104.type"], "0x00000001")
			if k, ok := knownDifferences[name]; ok {
				k.adjust(want)
				t.Logf("adjusted tshark's counts: %s", k.reason)
			}
			for _, f := range []string{"iec60870_104.type", "iec60870_104.utype", "iec60870_asdu.typeid",
				"iec60870_asdu.causetx", "iec60870_asdu.addr", "iec60870_asdu.oa"} {
				if !maps.Equal(got[f], want[f]) {
					t.Errorf("%s: got %s, tshark %s", f, fmtMap(got[f]), fmtMap(want[f]))
				}
			}
			checkIdentities(t, ops, o.Protocols["iec104"].Identities)
			checkIOAs(t, cc.Capture, ops)
		})
	}
}

func fmtMap(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s:%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// checkIdentities compares the set of common addresses tshark reports
// (asdu_common_address records) with our address facts.
func checkIdentities(t *testing.T, ops []*dissect.Operation, recs []map[string]any) {
	t.Helper()
	want := map[string]bool{}
	for _, r := range recs {
		if r["kind"] != "asdu_common_address" {
			continue
		}
		switch v := r["asdu_addr"].(type) {
		case string:
			want[v] = true
		case []any:
			for _, x := range v {
				want[fmt.Sprint(x)] = true
			}
		}
	}
	got := map[string]bool{}
	for _, op := range ops {
		for _, f := range op.Identity {
			if f.Key == dissect.FactAddress && f.Server {
				got[f.Value] = true
			}
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("common addresses: got %v, tshark %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
}

// checkIOAs checks every information object address our operations name
// against the IOAs tshark decodes in the frame that carried the ASDU (the
// newest packet of a monitoring operation, the first of a command).
func checkIOAs(t *testing.T, capture string, ops []*dissect.Operation) {
	t.Helper()
	tshark := testenv.Program(t, "tshark", "tshark")
	out, err := exec.Command(tshark, "-n", "-r", capture, "-Y", "iec60870_asdu", "-T", "fields",
		"-E", "occurrence=a", "-E", "aggregator=,", "-e", "frame.number", "-e", "iec60870_asdu.ioa").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	ioas := map[string]map[string]bool{}
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		ioas[f[0]] = map[string]bool{}
		for _, v := range strings.Split(f[1], ",") {
			ioas[f[0]][v] = true
		}
	}
	checked := 0
	for _, op := range ops {
		if op.Attr(attrCause) == "" || len(op.Packets) == 0 {
			continue
		}
		ref := op.Packets[len(op.Packets)-1]
		if op.Request {
			ref = op.Packets[0]
		}
		frame := strconv.FormatUint(ref.Frame, 10)
		for _, tg := range op.Targets {
			for a := tg.Address; a < tg.Address+max(tg.Count, 1); a++ {
				if !ioas[frame][strconv.FormatUint(uint64(a), 10)] {
					t.Errorf("frame %s: %s names IOA %d, tshark decodes %v", frame, op.FunctionName, a, slices.Sorted(maps.Keys(ioas[frame])))
				}
				checked++
			}
		}
	}
	if checked == 0 {
		t.Errorf("no IOAs checked")
	}
}
