package mqtt

import (
	"bufio"
	"encoding/json"
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

// levels maps our version names to the protocol level tshark prints as
// mqtt.ver.
var levels = map[string]string{"3.1": "3", "3.1.1": "4", "5.0": "5"}

// tsharkCounts counts from our operations what tshark counts per MQTT
// packet: mqtt.msgtype once per packet (an operation carries up to four
// of a PUBLISH flow, named by its "messages" attribute); mqtt.ver,
// mqtt.clientid and mqtt.username once per CONNECT (tshark prints no empty
// client id); mqtt.conack.val per CONNACK of 3.1/3.1.1 (for 5.0, and for
// a CONNACK whose CONNECT it did not see, tshark prints mqtt.conack.reason); mqtt.topic per PUBLISH topic and per
// SUBSCRIBE/UNSUBSCRIBE topic filter; mqtt.qos per PUBLISH and, for MQTT
// 3.1 only, where tshark shows the fixed-header QoS of every packet type,
// for PUBREL, SUBSCRIBE and UNSUBSCRIBE, which 3.1 sends with QoS 1.
func tsharkCounts(ops []*dissect.Operation) map[string]map[string]int {
	out := map[string]map[string]int{}
	add := func(field, v string) {
		if out[field] == nil {
			out[field] = map[string]int{}
		}
		out[field][v]++
	}
	for _, op := range ops {
		code := strconv.Itoa(op.FunctionCode)
		v31 := op.Attr(attrVersion) == "3.1"
		switch op.FunctionCode {
		case typePublish:
			if op.Result.Status == dissect.StatusMalformed && op.Attr(attrMessages) == "publish" {
				add("mqtt.msgtype", code)
				continue
			}
			for i, m := range strings.Split(op.Attr(attrMessages), "+") {
				typ := slices.Index(typeNames[:], m)
				add("mqtt.msgtype", strconv.Itoa(typ))
				if i == 0 && typ == typePublish {
					add("mqtt.qos", op.Attr(attrQoS))
					for _, tg := range op.Targets {
						add("mqtt.topic", tg.Name)
					}
				}
				if typ == typePubrel && v31 {
					add("mqtt.qos", "1")
				}
			}
		case typeConnect:
			if op.Request {
				add("mqtt.msgtype", "1")
				if v := levels[op.Attr(attrVersion)]; v != "" {
					add("mqtt.ver", v)
				}
				if id := op.Attr(attrClientID); id != "" {
					add("mqtt.clientid", id)
				}
				if u := op.Attr(attrUser); u != "" {
					add("mqtt.username", u)
				}
			}
			if op.Response {
				add("mqtt.msgtype", "2")
				if v := op.Attr(attrVersion); v == "3.1" || v == "3.1.1" {
					add("mqtt.conack.val", strconv.Itoa(op.Result.Code))
				}
			}
		case typeSubscribe, typeUnsubscribe, typePingreq:
			if op.Request {
				add("mqtt.msgtype", code)
				for _, tg := range op.Targets {
					add("mqtt.topic", tg.Name)
				}
				if v31 && op.FunctionCode != typePingreq {
					add("mqtt.qos", "1")
				}
			}
			if op.Response {
				add("mqtt.msgtype", strconv.Itoa(op.FunctionCode+1))
			}
		default:
			add("mqtt.msgtype", code)
		}
	}
	return out
}

// knownDifferences are the cases where tshark's counts legitimately differ
// from ours, with the reason.
var knownDifferences = map[string]struct {
	reason string
	adjust func(want map[string]map[string]int)
}{}

var countedFields = []string{"mqtt.msgtype", "mqtt.ver", "mqtt.qos", "mqtt.topic", "mqtt.clientid", "mqtt.username", "mqtt.conack.val"}

func TestCorpus(t *testing.T) {
	for _, cc := range dissecttest.ProtocolCases(t, "mqtt") {
		name := cc.Name
		oraclePath := cc.OraclePath
		t.Run(name, func(t *testing.T) {
			var o dissecttest.Oracle
			cc.ReadOracle(t, &o)
			c := dissecttest.Operations(t, cc.Capture, "mqtt")
			if os.Getenv("MQTT_DUMP") != "" {
				t.Log("\n" + c.JSONL())
			}
			got := tsharkCounts(c.Ops)
			want := map[string]map[string]int{}
			for f, m := range o.Protocols["mqtt"].Fields {
				want[f] = maps.Clone(m)
			}
			if k, ok := knownDifferences[name]; ok {
				k.adjust(want)
				t.Logf("adjusted tshark's counts: %s", k.reason)
			}
			for _, f := range countedFields {
				if !maps.Equal(got[f], want[f]) {
					t.Errorf("%s: got %s, tshark %s", f, fmtMap(got[f]), fmtMap(want[f]))
				}
			}
			for _, op := range c.Ops {
				if op.Protocol != "mqtt" {
					continue
				}
				j, _ := json.Marshal(op)
				if strings.Contains(string(j), `"pass"`) {
					t.Errorf("an operation carries the password: %s", j)
				}
			}
			if check, ok := suricataEvents[name]; ok {
				check(t, c.Ops)
			}
			yamls, _ := filepath.Glob(filepath.Join(filepath.Dir(oraclePath), "expected", "suricata", "*", "test.yaml"))
			for _, y := range yamls {
				checkSuricata(t, y, c.Ops)
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

// suricataMatches reads the "match" blocks of a suricata-verify test.yaml
// (a flat key: value list under each filter) without a YAML library.
func suricataMatches(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]string
	var cur map[string]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "- filter:"):
			cur = nil
		case line == "match:":
			cur = map[string]string{}
			out = append(out, cur)
		case cur != nil:
			k, v, ok := strings.Cut(line, ":")
			if ok {
				cur[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"`)
			}
		}
	}
	return out
}

// checkSuricata checks the Suricata EVE mqtt events a suricata-verify test
// expects against our operations, for the fields that map directly:
// CONNECT protocol version, client id, user name, clean session, password
// and will flags; CONNACK return code; PUBLISH topic, QoS, retain and
// message id.
func checkSuricata(t *testing.T, path string, ops []*dissect.Operation) {
	t.Helper()
	checked := 0
	defer func() { t.Logf("%s: %d Suricata mqtt events checked", filepath.Base(filepath.Dir(path)), checked) }()
	for _, m := range suricataMatches(t, path) {
		if m["event_type"] != "mqtt" {
			continue
		}
		var want []string
		match := func(op *dissect.Operation) bool {
			for k, v := range m {
				var got string
				switch k {
				case "mqtt.connect.protocol_version":
					got = levels[op.Attr(attrVersion)]
				case "mqtt.connect.client_id":
					got = op.Attr(attrClientID)
				case "mqtt.connect.username":
					got = op.Attr(attrUser)
				case "mqtt.connect.flags.clean_session":
					got = op.Attr(attrCleanSession)
				case "mqtt.connect.flags.password":
					got = strconv.FormatBool(op.Attr(attrCleartext) == "true")
				case "mqtt.connect.flags.will":
					got = strconv.FormatBool(op.Attr(attrWillTopic) != "")
				case "mqtt.connack.return_code":
					got = strconv.Itoa(op.Result.Code)
				case "mqtt.publish.topic":
					if len(op.Targets) > 0 {
						got = op.Targets[0].Name
					}
				case "mqtt.publish.qos":
					got = op.Attr(attrQoS)
				case "mqtt.publish.retain":
					got = strconv.FormatBool(op.Attr(attrRetain) == "true")
				case "mqtt.publish.message_id":
					got = op.Attr(attrPacketID)
				default:
					continue
				}
				if got != v {
					return false
				}
			}
			return true
		}
		kind := -1
		for k, v := range m {
			switch {
			case strings.HasPrefix(k, "mqtt.connect.") || strings.HasPrefix(k, "mqtt.connack."):
				kind = typeConnect
			case strings.HasPrefix(k, "mqtt.publish."):
				kind = typePublish
			}
			want = append(want, k+"="+v)
		}
		if kind < 0 {
			continue
		}
		found := false
		for _, op := range ops {
			if op.FunctionCode == kind && match(op) {
				found = true
			}
		}
		checked++
		if !found {
			slices.Sort(want)
			t.Errorf("%s: no operation matches Suricata's %v", filepath.Base(filepath.Dir(path)), want)
		}
	}
}

// suricataEvents checks, per case, the anomaly or alert the case's
// suricata-verify test expects, translated to our operations.
var suricataEvents = map[string]func(t *testing.T, ops []*dissect.Operation){
	// anomaly missing_connect: a CONNACK whose CONNECT was not seen.
	"mqtt-events-missing-connect": func(t *testing.T, ops []*dissect.Operation) {
		n := 0
		for _, op := range ops {
			if op.FunctionCode == typeConnect && op.Response && !op.Request {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d CONNACKs without CONNECT, Suricata reports 1", n)
		}
	},
	// anomaly unassigned_msg_type: packet type 0.
	"mqtt-events-unassigned-msgtype": func(t *testing.T, ops []*dissect.Operation) {
		n := 0
		for _, op := range ops {
			if op.FunctionCode == typeReserved && op.Result.Status == dissect.StatusMalformed && op.Result.Text == reasonReservedType {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d packets of reserved type, Suricata reports 1", n)
		}
	},
	// alert on mqtt.reason_code 134 of a CONNACK, none on 0.
	"mqtt5_pub_jpeg_connack134": func(t *testing.T, ops []*dissect.Operation) {
		var codes []int
		for _, op := range ops {
			if op.FunctionCode == typeConnect && op.Response {
				codes = append(codes, op.Result.Code)
				if op.Result.Status != dissect.StatusError || op.Result.Text != "bad_user_name_or_password" {
					t.Errorf("CONNACK result %+v, want error bad_user_name_or_password", op.Result)
				}
			}
		}
		if !slices.Equal(codes, []int{134}) {
			t.Errorf("CONNACK codes %v, Suricata sees [134]", codes)
		}
	},
}
