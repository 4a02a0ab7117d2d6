package dnp3

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
	"github.com/otwatch/otwatch/internal/testenv"
)

// eveEvent is one DNP3 EVE event a suricata-verify test expects: the
// message type, application function code and the group/variation of its
// first object header, at packet pcap_cnt.
type eveEvent struct {
	pcap     int
	typ      string // request, response, unsolicited_response
	function int
	object   string // "g50v1" or ""
}

// suricataEvents reads the dnp3 events of a suricata-verify test.yaml (a
// YAML subset: "- filter:" blocks with "count:" and "match:" keys).
func suricataEvents(t *testing.T, path string) []eveEvent {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		out   []eveEvent
		match map[string]string
	)
	flush := func() {
		if match["event_type"] == "dnp3" && match["pcap_cnt"] != "" {
			e := eveEvent{typ: match["dnp3.type"]}
			e.pcap, _ = strconv.Atoi(match["pcap_cnt"])
			e.function, _ = strconv.Atoi(match["dnp3.application.function_code"])
			if g, v := match["dnp3.application.objects[0].group"], match["dnp3.application.objects[0].variation"]; g != "" && v != "" {
				e.object = "g" + g + "v" + v
			}
			out = append(out, e)
		}
		match = map[string]string{}
	}
	match = map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "- filter:" {
			flush()
			continue
		}
		if k, v, ok := strings.Cut(line, ": "); ok {
			match[k] = strings.Trim(v, `"'`)
		}
	}
	flush()
	slices.SortFunc(out, func(a, b eveEvent) int { return a.pcap - b.pcap })
	return out
}

// TestSuricataEVE compares the DNP3 messages we decode with the EVE events
// that suricata-verify tests expect for the same captures: the same
// requests and responses, in the same order, with the same application
// function codes and first object headers. Suricata logs an event at the
// packet that acknowledges the data (pcap_cnt), not at the frame that
// carried it, so events are compared in order rather than by frame number.
func TestSuricataEVE(t *testing.T) {
	corpus := testenv.Corpus(t)
	tests, _ := filepath.Glob(filepath.Join(corpus, "dnp3", "*", "expected", "suricata", "*", "test.yaml"))
	compared := 0
	for _, yaml := range tests {
		want := suricataEvents(t, yaml)
		if len(want) == 0 {
			continue // alert-only tests: rule semantics, not decoding
		}
		caseDir := filepath.Dir(filepath.Dir(filepath.Dir(filepath.Dir(yaml))))
		captures, _ := filepath.Glob(filepath.Join(caseDir, "capture.pcap*"))
		if len(captures) == 0 {
			t.Fatalf("no capture for %s", yaml)
		}
		name, _ := filepath.Rel(corpus, yaml)
		t.Run(name, func(t *testing.T) {
			var got []eveEvent
			for _, op := range dissecttest.Operations(t, captures[0], "dnp3").Ops {
				got = append(got, messages(op)...)
			}
			slices.SortStableFunc(got, func(a, b eveEvent) int { return a.pcap - b.pcap })
			// Suricata's expectations list some events, not always all:
			// every expected event must appear, in order.
			i := 0
			for _, w := range want {
				for i < len(got) && !(got[i].typ == w.typ && got[i].function == w.function) {
					i++
				}
				if i == len(got) {
					t.Fatalf("expected %s function %d (pcap_cnt %d) not decoded in order; decoded %v", w.typ, w.function, w.pcap, got)
				}
				if w.object != "" && got[i].object != w.object {
					t.Errorf("%s function %d (pcap_cnt %d): first object %s, Suricata %s", w.typ, w.function, w.pcap, got[i].object, w.object)
				}
				if got[i].pcap > w.pcap {
					t.Errorf("%s function %d decoded at frame %d, after Suricata logged it at %d", w.typ, w.function, got[i].pcap, w.pcap)
				}
				i++
			}
			compared += len(want)
			t.Logf("%d Suricata events found in order among %d decoded messages", len(want), len(got))
		})
	}
	if compared == 0 {
		t.Fatal("no Suricata DNP3 event expectations found in the corpus")
	}
}

// messages splits an operation back into the messages it pairs: the
// request and the response (or the unsolicited response alone).
func messages(op *dissect.Operation) []eveEvent {
	nreq := len(op.Targets)
	for _, a := range op.Attrs {
		if a.Key == "request_objects" {
			nreq, _ = strconv.Atoi(a.Value)
		}
	}
	first := func(ts []dissect.Target) string {
		if len(ts) == 0 {
			return ""
		}
		return ts[0].Name
	}
	var out []eveEvent
	frame := func(i int) int {
		if len(op.Packets) == 0 {
			return 0
		}
		return int(op.Packets[min(i, len(op.Packets)-1)].Frame)
	}
	switch {
	case op.FunctionCode == 130:
		out = append(out, eveEvent{pcap: frame(0), typ: "unsolicited_response", function: 130, object: first(op.Targets)})
	case op.Request && op.Response:
		out = append(out,
			eveEvent{pcap: frame(0), typ: "request", function: op.FunctionCode, object: first(op.Targets[:min(nreq, len(op.Targets))])},
			eveEvent{pcap: frame(len(op.Packets) - 1), typ: "response", function: 129, object: first(op.Targets[min(nreq, len(op.Targets)):])})
	case op.Request:
		out = append(out, eveEvent{pcap: frame(0), typ: "request", function: op.FunctionCode, object: first(op.Targets)})
	case op.Response:
		out = append(out, eveEvent{pcap: frame(0), typ: "response", function: 129, object: first(op.Targets)})
	}
	return out
}
