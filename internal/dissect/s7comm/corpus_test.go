package s7comm

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
	"github.com/otwatch/otwatch/internal/dissect/tpkt"
	"github.com/otwatch/otwatch/internal/testenv"
)

// counts derives tshark's field counts from operations: a paired
// operation stands for a request PDU and a response PDU.
func counts(ops []*dissect.Operation) map[string]map[string]int {
	c := map[string]map[string]int{}
	add := func(field, value string, n int) {
		if n == 0 {
			return
		}
		if c[field] == nil {
			c[field] = map[string]int{}
		}
		c[field][value] += n
	}
	b2i := func(b bool) int {
		if b {
			return 1
		}
		return 0
	}
	for _, op := range ops {
		switch {
		case op.Protocol == ProtoCOTP && op.FunctionName == "connection_request":
			add("cotp.type", "0x0e", b2i(op.Request))
			add("cotp.type", "0x0d", b2i(op.Response))
			n := b2i(op.Request) + b2i(op.Response)
			if v := op.Attr("calling_tsap"); v != "" {
				add("cotp.src-tsap", v, n)
			}
			if v := op.Attr("called_tsap"); v != "" {
				add("cotp.dst-tsap", v, n)
			}
		case op.Protocol != ProtoS7comm || op.FunctionName == "malformed":
		case op.Attr("rosctr") == "job":
			fn := fmt.Sprintf("0x%02x", op.FunctionCode)
			add("s7comm.header.rosctr", "1", b2i(op.Request))
			add("s7comm.param.func", fn, b2i(op.Request))
			if op.Response {
				if op.Attr("ack") == "true" {
					add("s7comm.header.rosctr", "2", 1)
				} else {
					add("s7comm.header.rosctr", "3", 1)
					add("s7comm.param.func", fn, 1)
				}
			}
		case op.Attr("rosctr") == "userdata":
			n := b2i(op.Request) + b2i(op.Response)
			add("s7comm.header.rosctr", "7", n)
			add("s7comm.param.userdata.funcgroup", fmt.Sprint(op.FunctionCode>>8), n)
			if op.FunctionCode>>8 != groupModeTransition {
				// tshark shows a mode transition's subfunction byte as
				// s7comm.param.userdata.userdata_mode ("Current mode"),
				// not as subfunc.
				add("s7comm.param.userdata.subfunc", fmt.Sprint(op.FunctionCode&0xff), n)
			}
			if id := op.Attr("szl_id"); id != "" && op.Attr("follow_up") == "" {
				m := b2i(op.Request) + b2i(op.Response && op.Result.Status == dissect.StatusOK)
				add("s7comm.data.userdata.szl_id", id, m)
				add("s7comm.data.userdata.szl_index", op.Attr("szl_index"), m)
			}
		}
	}
	return c
}

// explained lists legitimate differences from tshark per case.
var explained = map[string]string{
	// 12 server segments follow ACKs for bytes the capture does not hold
	// (tshark flags them tcp.analysis.ack_lost_segment); tshark then takes
	// the next 12 new answers for retransmissions and does not dissect
	// them, while reassembly follows the sequence numbers and delivers
	// them: 12 more read var answers (ack_data, func 0x04, one DT each).
	"s7comm_clean": "tshark skips 12 answers it misjudges as retransmissions after ACKed lost segments",
}

func TestCorpus(t *testing.T) {
	dir := testenv.Corpus(t)
	cases, _ := filepath.Glob(filepath.Join(dir, "s7comm", "*"))
	if len(cases) == 0 {
		testenv.Missing(t, "no s7comm cases in "+dir)
	}
	for _, cd := range cases {
		name := filepath.Base(cd)
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(cd, "oracle.json"))
			if err != nil {
				t.Fatal(err)
			}
			var o dissecttest.Oracle
			if err := json.Unmarshal(raw, &o); err != nil {
				t.Fatal(err)
			}
			capFile, _ := filepath.Glob(filepath.Join(cd, "capture.pcap*"))
			if len(capFile) != 1 {
				t.Fatalf("capture files: %v", capFile)
			}
			dt := 0
			tpduSeen = func(ty tpkt.Type) {
				if ty == tpkt.TypeDT {
					dt++
				}
			}
			defer func() { tpduSeen = nil }()
			c := dissecttest.Operations(t, capFile[0], ProtoS7comm, ProtoS7commPlus, ProtoCOTP)
			got := counts(c.Ops)
			if dt > 0 {
				got["cotp.type"] = mergeInto(got["cotp.type"], "0x0f", dt)
			}
			want := map[string]map[string]int{}
			for _, p := range o.Protocols {
				for f, vals := range p.Fields {
					want[f] = vals
				}
			}
			var diffs []string
			for _, f := range sortedKeys(want, got) {
				for _, v := range sortedKeys(want[f], got[f]) {
					if want[f][v] != got[f][v] {
						diffs = append(diffs, fmt.Sprintf("%s=%s: otwatch %d, tshark %d", f, v, got[f][v], want[f][v]))
					}
				}
			}
			if len(diffs) > 0 {
				if why, ok := explained[name]; ok {
					t.Logf("differences explained (%s):\n%s", why, strings.Join(diffs, "\n"))
				} else {
					t.Errorf("differences from tshark:\n%s", strings.Join(diffs, "\n"))
				}
			}
			checkIdentities(t, o, c.Ops)
			for _, op := range c.Ops {
				if op.Result.Status == dissect.StatusMalformed {
					t.Errorf("malformed operation where tshark saw none: %+v", op)
				}
			}
		})
	}
}

// checkIdentities compares the SZL identity records tshark extracted with
// the facts of the operations.
func checkIdentities(t *testing.T, o dissecttest.Oracle, ops []*dissect.Operation) {
	have := map[string]bool{}
	for _, op := range ops {
		for _, f := range op.Identity {
			if !f.Server {
				t.Errorf("identity fact %v does not describe the server", f)
			}
			have[f.Key+"="+f.Value] = true
		}
		for _, a := range op.Attrs {
			have[a.Key+"="+a.Value] = true
		}
	}
	first := func(v any) string {
		if l, ok := v.([]any); ok && len(l) > 0 {
			v = l[0]
		}
		s, _ := v.(string)
		return strings.TrimSpace(s)
	}
	for _, rec := range o.Protocols["s7comm"].Identities {
		var want []string
		switch rec["kind"] {
		case "szl_0x0011_module_identification":
			want = append(want, dissect.FactModel+"="+first(rec["order_number"]), dissect.FactHardware+"="+first(rec["version"]))
			if l, ok := rec["version"].([]any); ok {
				for _, v := range l {
					// tshark prints the firmware record's version word as
					// a number: 'V' << 8 | major.
					var n int
					fmt.Sscan(v.(string), &n)
					if n>>8 == 'V' {
						prefix := fmt.Sprintf("%s=V%d.", dissect.FactFirmware, n&0xff)
						found := false
						for k := range have {
							found = found || strings.HasPrefix(k, prefix)
						}
						if !found {
							t.Errorf("no firmware fact starting %q", prefix)
						}
					}
				}
			}
		case "szl_0x001c_component_identification":
			for k, key := range map[string]string{
				"plc_name": dissect.FactHostname, "module_name": dissect.FactModule, "serial": dissect.FactSerial,
				"module_type_name": dissect.FactProduct, "plant_id": "plant_id", "copyright": "copyright",
				"memory_card_serial": "memory_card_serial",
			} {
				if v := first(rec[k]); v != "" {
					want = append(want, key+"="+v)
				}
			}
		}
		for _, w := range want {
			if !have[w] {
				t.Errorf("identity %s from %s not found", w, rec["kind"])
			}
		}
	}
}

func mergeInto(m map[string]int, k string, n int) map[string]int {
	if m == nil {
		m = map[string]int{}
	}
	m[k] += n
	return m
}

func sortedKeys[V any](a, b map[string]V) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range []map[string]V{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}
