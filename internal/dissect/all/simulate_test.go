package all

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
	"github.com/otwatch/otwatch/internal/simulate"
)

// TestSimulatedPlant runs the simulated plant, with every maintenance
// scenario, through the pipeline and compares the operations of the four
// ICS dissectors with the simulator's ground truth, which the simulator's
// own tests check against tshark: so our dissectors and tshark agree on
// every Modbus, DNP3, S7comm and EtherNet/IP/CIP PDU of the plant.
func TestSimulatedPlant(t *testing.T) {
	var buf bytes.Buffer
	sim, err := simulate.Generate(&buf, simulate.Options{Seed: 11, Duration: 4 * time.Minute,
		Scenarios: []string{"plc-program", "plc-stop", "firmware-update", "restart", "new-device"}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "plant.pcap")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ops := dissecttest.Operations(t, path, "modbus", "dnp3", "s7comm", "enip").Ops
	for _, op := range ops {
		if op.Result.Status == dissect.StatusMalformed {
			t.Errorf("malformed operation on simulated traffic: %s %s %s", op.Protocol, op.FunctionName, op.Result.Text)
		}
	}

	t.Run("modbus", func(t *testing.T) {
		req, resp := map[uint8]int{}, map[uint8]int{}
		exc := 0
		for _, op := range protocol(ops, "modbus") {
			fc := uint8(op.FunctionCode)
			if op.Request {
				req[fc]++
			}
			if op.Response {
				resp[fc]++
				if op.Result.Status == dissect.StatusError {
					exc++
				}
			}
		}
		sameCounts(t, "requests", req, sim.Modbus.Requests)
		sameCounts(t, "responses", resp, sim.Modbus.Responses)
		if exc != sim.Modbus.Exceptions {
			t.Errorf("exceptions %d, simulated %d", exc, sim.Modbus.Exceptions)
		}
	})

	t.Run("dnp3", func(t *testing.T) {
		master, outstation := map[uint8]int{}, map[uint8]int{}
		for _, op := range protocol(ops, "dnp3") {
			fc := uint8(op.FunctionCode)
			if fc == 130 { // unsolicited response: from the outstation only
				outstation[130] += fragments(op)
				continue
			}
			if op.Request {
				master[fc]++
			}
			if op.Response {
				outstation[129] += fragments(op)
			}
		}
		sameCounts(t, "master to outstation", master, sim.DNP3.FromMaster)
		sameCounts(t, "outstation to master", outstation, sim.DNP3.FromOutstation)
	})

	t.Run("s7comm", func(t *testing.T) {
		jobs, acks := map[uint8]int{}, map[uint8]int{}
		udReq, udResp := map[simulate.S7Userdata]int{}, map[simulate.S7Userdata]int{}
		for _, op := range protocol(ops, "s7comm") {
			if op.FunctionCode < 0x100 {
				if op.Request {
					jobs[uint8(op.FunctionCode)]++
				}
				if op.Response {
					acks[uint8(op.FunctionCode)]++
				}
				continue
			}
			k := simulate.S7Userdata{Group: uint8(op.FunctionCode >> 8), Subfunction: uint8(op.FunctionCode)}
			if op.Request {
				udReq[k]++
			}
			if op.Response {
				udResp[k]++
			}
		}
		sameCounts(t, "jobs", jobs, sim.S7.Jobs)
		sameCounts(t, "ack_data", acks, sim.S7.AckData)
		sameCounts(t, "userdata requests", udReq, sim.S7.UserdataRequests)
		sameCounts(t, "userdata responses", udResp, sim.S7.UserdataResponses)
	})

	t.Run("enip", func(t *testing.T) {
		cmds := map[uint16]int{}
		cipReq, cipResp := map[uint8]int{}, map[uint8]int{}
		for _, op := range protocol(ops, "enip") {
			if op.FunctionName == "io" {
				continue // class 1 I/O is counted per connection, not per packet
			}
			cmd, cip := uint16(op.FunctionCode), false
			switch op.Attr("enip_command") {
			case "send_rr_data":
				cmd, cip = 0x6f, true
			case "send_unit_data":
				cmd, cip = 0x70, true
			}
			if op.Request {
				cmds[cmd]++
			}
			if op.Response {
				cmds[cmd]++
			}
			if cip {
				if op.Request {
					cipReq[uint8(op.FunctionCode)]++
				}
				if op.Response {
					cipResp[uint8(op.FunctionCode)]++
				}
			}
		}
		sameCounts(t, "encapsulation commands", cmds, sim.ENIP.Commands)
		sameCounts(t, "CIP requests", cipReq, sim.ENIP.CIPRequests)
		sameCounts(t, "CIP replies", cipResp, sim.ENIP.CIPResponses)
	})
}

func protocol(ops []*dissect.Operation, name string) []*dissect.Operation {
	var out []*dissect.Operation
	for _, op := range ops {
		if op.Protocol == name {
			out = append(out, op)
		}
	}
	return out
}

// fragments is how many application fragments a DNP3 response took.
func fragments(op *dissect.Operation) int {
	if n, err := strconv.Atoi(op.Attr("response_fragments")); err == nil && n > 0 {
		return n
	}
	return 1
}

func sameCounts[K comparable](t *testing.T, what string, got, want map[K]int) {
	t.Helper()
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %v: %d, simulated %d", what, k, got[k], w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok && g != 0 {
			t.Errorf("%s: %v: %d, not simulated", what, k, g)
		}
	}
}
