package bacnet

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
)

// zeekRows reads a Zeek TSV log into rows keyed by column name.
func zeekRows(t *testing.T, path string) []map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cols []string
	var rows []map[string]string
	for line := range strings.Lines(string(b)) {
		f := strings.Split(strings.TrimRight(line, "\n"), "\t")
		if f[0] == "#fields" {
			cols = f[1:]
			continue
		}
		if strings.HasPrefix(f[0], "#") || len(f) != len(cols) {
			continue
		}
		row := map[string]string{}
		for i, c := range cols {
			row[c] = f[i]
		}
		rows = append(rows, row)
	}
	return rows
}

// zeekName turns ICSNPP's hyphenated names into ours.
func zeekName(s string) string { return strings.ReplaceAll(strings.ToLower(s), "-", "_") }

// zeekProperty turns ICSNPP's property names into ours: it names
// proprietary properties "Vendor Specific (n)" and spells
// daylight-savings-status (property 24) "daylights-savings-status".
func zeekProperty(s string) string {
	if strings.HasPrefix(s, "Vendor Specific (") {
		return "proprietary_property"
	}
	if s == "daylights-savings-status" {
		return "daylight_savings_status"
	}
	return zeekName(s)
}

// identityProperties maps the Device properties that carry identity to
// our fact keys.
var identityProperties = map[string]string{
	"object-name":                  dissect.FactHostname,
	"model-name":                   dissect.FactModel,
	"firmware-revision":            dissect.FactFirmware,
	"application-software-version": FactSoftwareVersion,
	"vendor-name":                  dissect.FactVendor,
}

// checkZeek compares ICSNPP's bacnet_property.log (ReadProperty and
// WriteProperty requests: invoke id, object, property; ReadProperty acks of
// Device identity properties: their values) and bacnet_device_control.log
// (DeviceCommunicationControl and ReinitializeDevice: state and result)
// with our operations.
func checkZeek(t *testing.T, dir string, ops []*dissect.Operation) {
	t.Helper()
	logs, _ := filepath.Glob(filepath.Join(dir, "expected", "zeek", "*", "bacnet_property.log"))
	for _, log := range logs {
		want, got := map[string]int{}, map[string]int{}
		for _, row := range zeekRows(t, log) {
			svc := row["pdu_service"]
			switch {
			case (svc == "read-property-request" || svc == "write-property") &&
				row["object_type"] != "unknown-object" && row["property"] != "unknown-property":
				want[fmt.Sprintf("%s invoke %s %s:%s %s", strings.TrimSuffix(zeekName(svc), "_request"), row["invoke_id"],
					zeekName(row["object_type"]), row["instance_number"], zeekProperty(row["property"]))]++
			case svc == "read-property-ack" && row["object_type"] == "device" && identityProperties[row["property"]] != "":
				want[fmt.Sprintf("device %s invoke %s %s=%s", row["source_h"], row["invoke_id"],
					identityProperties[row["property"]], row["value"])]++
			}
		}
		for _, op := range ops {
			if !op.Request || (op.FunctionName != "read_property" && op.FunctionName != "write_property") || len(op.Targets) < 2 {
				continue
			}
			got[fmt.Sprintf("%s invoke %s %s:%d %s", op.FunctionName, op.Attr(attrInvokeID),
				op.Targets[0].Kind, op.Targets[0].Address, op.Targets[1].Name)]++
			if op.Response && op.FunctionName == "read_property" && op.Targets[0].Kind == "device" {
				for _, f := range op.Identity {
					if p := strings.ReplaceAll(op.Targets[1].Name, "_", "-"); identityProperties[p] == f.Key {
						got[fmt.Sprintf("device %s invoke %s %s=%s", op.Server.IP, op.Attr(attrInvokeID), f.Key, f.Value)]++
					}
				}
			}
		}
		compareCounts(t, "bacnet_property.log", got, want)
	}
	logs, _ = filepath.Glob(filepath.Join(dir, "expected", "zeek", "*", "bacnet_device_control.log"))
	for _, log := range logs {
		want, got := map[string]int{}, map[string]int{}
		for _, row := range zeekRows(t, log) {
			if row["is_orig"] == "T" {
				want[fmt.Sprintf("%s invoke %s request %s", row["pdu_service"], row["invoke_id"], zeekName(row["device_state"]))]++
				continue
			}
			res := "ok"
			if row["result"] == "ERROR" {
				res = "error " + zeekName(row["result_code"])
			}
			want[fmt.Sprintf("%s invoke %s response %s", row["pdu_service"], row["invoke_id"], res)]++
		}
		for _, op := range ops {
			if op.FunctionName != "device_communication_control" && op.FunctionName != "reinitialize_device" {
				continue
			}
			state := op.Attr(attrEnableDisable) + op.Attr(attrState)
			if op.Request {
				got[fmt.Sprintf("%s invoke %s request %s", op.FunctionName, op.Attr(attrInvokeID), state)]++
			}
			if op.Response {
				res := "ok"
				if op.Result.Status == dissect.StatusError {
					res = "error " + op.Result.Text
				}
				got[fmt.Sprintf("%s invoke %s response %s", op.FunctionName, op.Attr(attrInvokeID), res)]++
			}
		}
		compareCounts(t, "bacnet_device_control.log", got, want)
	}
}

func compareCounts(t *testing.T, what string, got, want map[string]int) {
	t.Helper()
	if len(want) == 0 {
		t.Errorf("%s: no rows compared", what)
	}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if got[k] != want[k] {
			t.Errorf("%s: %s: ours %d, Zeek %d", what, k, got[k], want[k])
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: %s: ours %d, not in Zeek's log", what, k, got[k])
		}
	}
}
