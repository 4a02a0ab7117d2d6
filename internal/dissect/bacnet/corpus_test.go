package bacnet

import (
	"fmt"
	"maps"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
	"github.com/otwatch/otwatch/internal/testenv"
)

// comparedFields are the oracle fields compared exactly.
var comparedFields = []string{
	"bvlc.function", "bacapp.type", "bacapp.confirmed_service", "bacapp.unconfirmed_service",
	"bacapp.error_class", "bacapp.reject_reason", "bacapp.abort_reason",
}

func indexOf(names []string, name string) int { return slices.Index(names, name) }

// tsharkCounts counts from our operations what tshark counts per PDU: an
// operation carries the BVLC function and APDU type of its request (or
// only PDU) and of its response, and the service choice that both carry.
func tsharkCounts(ops []*dissect.Operation) map[string]map[string]int {
	out := map[string]map[string]int{}
	add := func(field, v string) {
		if out[field] == nil {
			out[field] = map[string]int{}
		}
		out[field][v]++
	}
	for _, op := range ops {
		for _, k := range []string{attrBVLC, attrRespBVLC} {
			if v := op.Attr(k); v != "" {
				add("bvlc.function", fmt.Sprintf("0x%02x", indexOf(bvlcNames[:], v)))
			}
		}
		for _, k := range []string{attrAPDU, attrRespAPDU} {
			v := op.Attr(k)
			if v == "" {
				continue
			}
			t := indexOf(apduNames[:], v)
			add("bacapp.type", strconv.Itoa(t))
			switch t {
			case apduConfirmed, apduSimpleAck, apduComplexAck, apduError:
				add("bacapp.confirmed_service", strconv.Itoa(op.FunctionCode))
			case apduUnconfirmed:
				add("bacapp.unconfirmed_service", strconv.Itoa(op.FunctionCode))
			case apduReject:
				add("bacapp.reject_reason", strconv.Itoa(op.Result.Code))
			case apduAbort:
				add("bacapp.abort_reason", strconv.Itoa(op.Result.Code))
			case apduSegmentAck:
			}
			if n, _ := strconv.Atoi(op.Attr(attrPropErrors)); n > 0 && indexOf(apduNames[:], v) == apduComplexAck {
				// The access errors of a ReadPropertyMultiple ack; each
				// ack of the corpus has one class for all of them.
				c := strconv.Itoa(indexOf(errorClassNames[:], op.Attr(attrPropErrorClass)))
				if out["bacapp.error_class"] == nil {
					out["bacapp.error_class"] = map[string]int{}
				}
				out["bacapp.error_class"][c] += n
			}
			if t == apduError {
				add("bacapp.error_class", strconv.Itoa(indexOf(errorClassNames[:], op.Attr(attrErrorClass))))
			}
		}
	}
	return out
}

// llcFields are tshark's counts of the oracle fields over the frames of
// BACnet over ISO 8802-2 LLC (clause 7, SAP 0x82) in a capture.
func llcFields(t *testing.T, capture string) map[string]map[string]int {
	t.Helper()
	tshark := testenv.Program(t, "tshark", "tshark")
	fields := []string{"bacapp.type", "bacapp.confirmed_service", "bacapp.unconfirmed_service",
		"bacapp.error_class", "bacapp.reject_reason", "bacapp.abort_reason"}
	args := []string{"-n", "-r", capture, "-Y", "llc && bacnet", "-T", "fields", "-E", "occurrence=a", "-E", "separator=\t"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	out, err := exec.Command(tshark, args...).Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	counts := map[string]map[string]int{}
	for line := range strings.Lines(string(out)) {
		for i, col := range strings.Split(strings.TrimRight(line, "\n"), "\t") {
			for _, v := range strings.Split(col, ",") {
				if v == "" {
					continue
				}
				if counts[fields[i]] == nil {
					counts[fields[i]] = map[string]int{}
				}
				counts[fields[i]][v]++
			}
		}
	}
	return counts
}

// knownDifferences are the legitimate differences between tshark's counts
// and ours, by corpus case: each adjusts tshark's counts to what otwatch
// must report, and says why.
var knownDifferences = map[string]struct {
	reason string
	adjust func(want map[string]map[string]int)
}{
	"bacnet_services": {
		"frames 279 and 281 are the two segments of a ReadPropertyMultiple complex ack (invoke id 136); " +
			"tshark reassembles them and counts the 22 property access errors (class object, code " +
			"unknown-object) of the whole ack, while otwatch counts segments and does not reassemble them",
		func(want map[string]map[string]int) { want["bacapp.error_class"]["1"] -= 22 },
	},
}

func TestCorpus(t *testing.T) {
	for _, cc := range dissecttest.ProtocolCases(t, "bacnet") {
		name := cc.Name
		oraclePath := cc.OraclePath
		t.Run(name, func(t *testing.T) {
			var o dissecttest.Oracle
			cc.ReadOracle(t, &o)
			ops := dissecttest.Operations(t, cc.Capture, "bacnet").Ops
			got := tsharkCounts(ops)
			want := map[string]map[string]int{}
			for f, m := range o.Protocols["bacnet"].Fields {
				want[f] = maps.Clone(m)
			}
			// BACnet over LLC (clause 7) is counted by tshark in the same
			// fields; its frames alone must match too.
			var llcOps []*dissect.Operation
			for _, op := range ops {
				if op.Transport == "ethernet" {
					llcOps = append(llcOps, op)
				}
			}
			gotLLC, wantLLC := tsharkCounts(llcOps), llcFields(t, cc.Capture)
			for _, f := range comparedFields {
				if !maps.Equal(gotLLC[f], wantLLC[f]) {
					t.Errorf("llc %s: got %s, tshark %s", f, fmtMap(gotLLC[f]), fmtMap(wantLLC[f]))
				}
			}
			if k, ok := knownDifferences[name]; ok {
				k.adjust(want)
				t.Logf("adjusted tshark's counts: %s", k.reason)
			}
			for _, f := range comparedFields {
				if len(got[f]) == 0 && len(want[f]) == 0 {
					continue
				}
				if !maps.Equal(got[f], want[f]) {
					t.Errorf("%s: got %s, tshark %s", f, fmtMap(got[f]), fmtMap(want[f]))
				}
			}
			checkObjectTypes(t, ops, want["bacapp.objectType"])
			checkIAm(t, ops, o.Protocols["bacnet"].Identities)
			checkZeek(t, filepath.Dir(oraclePath), ops)
			for _, op := range ops {
				if op.Result.Status == dissect.StatusMalformed {
					t.Errorf("malformed operation %s %q in frames %v", op.FunctionName, op.Result.Text, op.Packets)
				}
			}
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

// checkObjectTypes checks the object identifiers we name as targets
// against tshark's bacapp.objectType counts. tshark counts every object
// identifier, including those inside property values (object lists, COV
// notifications, references), which are not targets; so ours, counted
// per PDU that carries them, must not exceed tshark's for any type.
func checkObjectTypes(t *testing.T, ops []*dissect.Operation, want map[string]int) {
	t.Helper()
	got := map[string]int{}
	for _, op := range ops {
		for _, tg := range op.Targets {
			if i := indexOf(objectTypeNames[:], tg.Kind); i >= 0 {
				got[strconv.Itoa(i)]++
			}
		}
	}
	for k, n := range got {
		if n > want[k] {
			t.Errorf("object type %s: %d targets, tshark counts %d object identifiers", k, n, want[k])
		}
	}
}

// checkIAm compares the oracle's i_am records (sender, device instance,
// vendor id, routed source network and address, number of frames) with
// our I-Am operations exactly. A record whose sender has no IP address is
// BACnet over LLC and is matched by the sender's MAC address. For
// BACnet/IP the sender's MAC address is not compared: an operation's
// endpoints carry the MAC addresses of the flow's first packet, and a
// broadcast flow's first packet may come from the other side.
func checkIAm(t *testing.T, ops []*dissect.Operation, records []map[string]any) {
	t.Helper()
	key := func(sender, typ, inst, vendor, snet, sadr string) string {
		return fmt.Sprintf("%s object=%s:%s vendor=%s snet=%s sadr=%s", sender, typ, inst, vendor, snet, sadr)
	}
	want := map[string]int{}
	for _, r := range records {
		if r["kind"] != "i_am" {
			continue
		}
		s := func(k string) string {
			if v, ok := r[k]; ok {
				return fmt.Sprint(v)
			}
			return ""
		}
		sender := "ip=" + s("src_ip")
		if s("src_ip") == "" {
			sender = "mac=" + s("src_mac")
		}
		sadr := s("sadr_eth") + s("sadr_mstp")
		want[key(sender, s("object_type"), s("instance"), s("vendor_id"), s("snet"), sadr)] += int(r["frames"].(float64))
	}
	got := map[string]int{}
	for _, op := range ops {
		if op.FunctionName != "i_am" {
			continue
		}
		if !op.Response || op.Request {
			t.Errorf("I-Am operation is not the server's message: %+v", op)
		}
		var inst, vendor string
		for _, f := range op.Identity {
			if !f.Server {
				t.Errorf("I-Am fact %s describes the client", f.Key)
			}
			switch f.Key {
			case dissect.FactAddress:
				inst = strings.TrimPrefix(f.Value, "device:")
			case dissect.FactVendorID:
				vendor = f.Value
				if n, _ := strconv.Atoi(f.Value); vendorName(uint32(n)) != dissecttest.Fact(op, dissect.FactVendor) {
					t.Errorf("vendor %s: name %q", f.Value, dissecttest.Fact(op, dissect.FactVendor))
				}
			}
		}
		typ := ""
		if len(op.Targets) > 0 {
			typ = strconv.Itoa(indexOf(objectTypeNames[:], op.Targets[0].Kind))
		}
		sender := "ip=" + op.Server.IP.String()
		if op.Transport == "ethernet" {
			sender = "mac=" + net.HardwareAddr(op.Server.MAC[:]).String()
		}
		got[key(sender, typ, inst, vendor, op.Attr(attrSNET), op.Attr(attrSADR))]++
	}
	if !maps.Equal(got, want) {
		for _, k := range slices.Sorted(maps.Keys(want)) {
			if got[k] != want[k] {
				t.Errorf("i_am %s: %d frames, tshark %d", k, got[k], want[k])
			}
		}
		for _, k := range slices.Sorted(maps.Keys(got)) {
			if _, ok := want[k]; !ok {
				t.Errorf("i_am %s: %d frames, not in the oracle", k, got[k])
			}
		}
	}
}
