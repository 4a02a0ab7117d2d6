package opcua

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

func policyURI(name string) string {
	for _, p := range policies {
		if p.name == name {
			return p.uri
		}
	}
	return name
}

// chunks returns how many chunks carried one side of op.
func chunks(op *dissect.Operation, key string) int {
	if v := op.Attr(key); v != "" {
		n, _ := strconv.Atoi(v)
		return n
	}
	return 1
}

// tsharkCounts counts, from our operations, what tshark counts per OPC UA
// message: opcua.transport.type once per chunk, opcua.servicenodeid.numeric
// once per decoded service message (request and response separately; a
// ServiceFault is 397), opcua.security.spu in both OpenSecureChannel
// messages and opcua.transport.endpoint in Hello.
func tsharkCounts(ops []*dissect.Operation) map[string]map[string]int {
	out := map[string]map[string]int{}
	add := func(field, v string, n int) {
		if n == 0 {
			return
		}
		if out[field] == nil {
			out[field] = map[string]int{}
		}
		out[field][v] += n
	}
	num := func(v int, n int) { add("opcua.servicenodeid.numeric", strconv.Itoa(v), n) }
	for _, op := range ops {
		req, resp := 0, 0
		if op.Request {
			req = 1
		}
		if op.Response {
			resp = 1
		}
		switch op.FunctionName {
		case "malformed":
		case "hello":
			add("opcua.transport.type", "HEL", req)
			if op.Result.Status == dissect.StatusError {
				add("opcua.transport.type", "ERR", resp)
			} else {
				add("opcua.transport.type", "ACK", resp)
			}
			if u := op.Attr(attrEndpoint); u != "" {
				add("opcua.transport.endpoint", u, req)
			}
		case "error":
			add("opcua.transport.type", "ERR", 1)
		case "reverse_hello":
			add("opcua.transport.type", "RHE", 1)
		case "open_secure_channel":
			add("opcua.transport.type", "OPN", req+resp)
			add("opcua.security.spu", policyURI(op.Attr(attrPolicy)), req+resp)
			if op.Attr(attrPolicy) == policyNone {
				num(idOpenChannelReq, req)
				num(idOpenChannelResp, resp)
			}
		case "close_secure_channel":
			add("opcua.transport.type", "CLO", 1)
			if op.Attr(attrPolicy) == "" {
				num(idCloseChannelReq, 1)
			}
		case "encrypted":
			add("opcua.transport.type", "MSG", req*chunks(op, attrRequestChunks)+resp*chunks(op, attrResponseChunks))
		default:
			add("opcua.transport.type", "MSG", req*chunks(op, attrRequestChunks)+resp*chunks(op, attrResponseChunks))
			svc, _, ok := lookup(uint32(op.FunctionCode))
			if !ok {
				continue
			}
			num(int(svc.req), req)
			if op.Attr(attrResponseType) == "service_fault" {
				num(idServiceFault, resp)
			} else {
				num(int(svc.resp), resp)
			}
		}
	}
	return out
}

// knownDifferences are the legitimate differences between tshark's counts
// and ours, by corpus case: each adjusts tshark's counts to what otwatch
// must report, and says why.
var knownDifferences = map[string]struct {
	reason string
	adjust func(want map[string]map[string]int, ids map[string]bool)
}{
	"opcua_with-gap": {
		"tshark marks frames 26 and 30 as spurious retransmissions (duplicate ACKs confuse its sequence " +
			"analysis) although their sequence numbers continue the stream without overlap, so it does not " +
			"reassemble the 13990-byte CreateSession response of frames 12-30; reassembly delivers it, and " +
			"it names the server (a Softing OPC UA gateway) in its endpoint descriptions",
		func(want map[string]map[string]int, ids map[string]bool) {
			want["opcua.transport.type"]["MSG"]++
			want["opcua.servicenodeid.numeric"]["464"]++
			ids["urn:00:06:71:33:05:02 urn:Softing:SoftingOPCUAGateway"] = true
		},
	},
	"opcua_with-gap_with-handshake": {
		"the first connection is the one of opcua_with-gap: tshark does not reassemble its CreateSession " +
			"response (frames it takes for spurious retransmissions)",
		func(want map[string]map[string]int, ids map[string]bool) {
			want["opcua.transport.type"]["MSG"]++
			want["opcua.servicenodeid.numeric"]["464"]++
			ids["urn:00:06:71:33:05:02 urn:Softing:SoftingOPCUAGateway"] = true
		},
	},
	"python_opcua-client-server_encrypted": {
		"the second connection opens its channel with Basic256Sha256; otwatch reports the messages of a " +
			"channel whose policy is not None as encrypted without decoding them, while tshark parses the " +
			"Sign-mode messages it can read (CreateSession, ActivateSession, Browse)",
		func(want map[string]map[string]int, ids map[string]bool) {
			for _, id := range []string{"461", "464", "467", "470", "527", "530"} {
				delete(want["opcua.servicenodeid.numeric"], id)
			}
			delete(ids, "urn:freeopcua:client urn:freeopcua.github.io:client")
		},
	},
}

func TestCorpus(t *testing.T) {
	for _, cc := range dissecttest.ProtocolCases(t, "opcua") {
		name := cc.Name
		oraclePath := cc.OraclePath
		t.Run(name, func(t *testing.T) {
			var o dissecttest.Oracle
			cc.ReadOracle(t, &o)
			ops := dissecttest.Operations(t, cc.Capture, "opcua").Ops
			got := tsharkCounts(ops)
			want := map[string]map[string]int{}
			for f, m := range o.Protocols["opcua"].Fields {
				want[f] = maps.Clone(m)
			}
			ids := oracleIdentities(o.Protocols["opcua"].Identities)
			if k, ok := knownDifferences[name]; ok {
				k.adjust(want, ids)
				t.Logf("adjusted tshark's counts: %s", k.reason)
			}
			for _, f := range []string{"opcua.transport.type", "opcua.servicenodeid.numeric", "opcua.security.spu", "opcua.transport.endpoint"} {
				if !maps.Equal(got[f], want[f]) {
					t.Errorf("%s:\n got %s\nwant %s", f, fmtMap(got[f]), fmtMap(want[f]))
				}
			}
			checkIdentities(t, ops, ids)
			if logs, _ := filepath.Glob(filepath.Join(filepath.Dir(oraclePath), "expected", "zeek", "*", "opcua_binary_activate_session.log")); len(logs) == 1 {
				checkZeekActivate(t, logs[0], ops)
			}
			for _, op := range ops {
				if op.Result.Status == dissect.StatusMalformed {
					t.Errorf("malformed operation %s %s (tshark finds no malformed frame)", op.FunctionName, op.Result.Text)
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

// checkIdentities compares the application descriptions tshark finds
// (application and product URI) with ours: the server's from GetEndpoints
// and CreateSession responses (product fact, application_uri attribute) and
// the client's from CreateSession requests.
func checkIdentities(t *testing.T, ops []*dissect.Operation, exp map[string]bool) {
	t.Helper()
	got := map[string]bool{}
	for _, op := range ops {
		if u := op.Attr(attrClientAppURI); u != "" {
			product := ""
			for _, f := range op.Identity {
				if !f.Server && f.Key == dissect.FactProduct {
					product = f.Value
				}
			}
			got[u+" "+product] = true
		}
		var product string
		for _, f := range op.Identity {
			if f.Server && f.Key == dissect.FactProduct {
				product = f.Value
			}
		}
		for _, a := range op.Attrs {
			if a.Key == attrAppURI {
				got[a.Value+" "+product] = true
			}
		}
	}
	if !maps.Equal(got, exp) {
		t.Errorf("application descriptions:\n got %q\nwant %q", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(exp)))
	}
}

// oracleIdentities returns the oracle's application descriptions as
// "application_uri product_uri" keys.
func oracleIdentities(want []map[string]any) map[string]bool {
	exp := map[string]bool{}
	for _, rec := range want {
		if rec["kind"] != "application_description" {
			continue
		}
		uris, products := dissecttest.OracleList(rec["application_uri"]), dissecttest.OracleList(rec["product_uri"])
		for i, u := range uris {
			p := ""
			if i < len(products) {
				p = products[i]
			}
			exp[u+" "+p] = true
		}
	}
	return exp
}

// checkZeekActivate checks that every user name token of ICSNPP's
// opcua_binary_activate_session.log (the token type name is followed by
// the encoding mask, the policy id, the user name and the password, which
// Zeek can print because it travels in clear) is an activate_session
// operation of ours with that user name and the cleartext flag.
func checkZeekActivate(t *testing.T, path string, ops []*dissect.Operation) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for line := range strings.Lines(string(b)) {
		if strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(strings.TrimRight(line, "\n"), "\t")
		for i, v := range f {
			if v != "UserNameIdentityToken" || i+3 >= len(f) {
				continue
			}
			rows++
			user := f[i+3]
			found := false
			for _, op := range ops {
				if op.FunctionName == "activate_session" && op.Attr(attrUserToken) == "username" &&
					op.Attr(attrUsername) == user && op.Attr(attrCleartext) != "" {
					found = true
				}
			}
			if !found {
				t.Errorf("Zeek logs a user name token for %q; no activate_session operation has it", user)
			}
		}
	}
	t.Logf("%d user name tokens in %s", rows, filepath.Base(path))
}
