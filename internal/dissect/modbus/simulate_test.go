package modbus

import (
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
	"github.com/otwatch/otwatch/internal/simulate"
)

// TestSimulatedPlant runs a simulated plant capture through the pipeline
// and compares our operations with the Modbus ADUs the simulator says it
// wrote (Summary.Modbus, itself checked against tshark by the simulate
// package): requests and responses by function code, exceptions counted
// under the function with the high bit cleared.
func TestSimulatedPlant(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plant.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := simulate.Generate(f, simulate.Options{
		Seed: 7, Duration: 2 * time.Minute,
		Scenarios: []string{simulate.ScenarioPortScan, simulate.ScenarioNewDevice},
	})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	requests, responses := map[uint8]int{}, map[uint8]int{}
	exceptions := 0
	for _, op := range dissecttest.Operations(t, path, "modbus").Ops {
		if op.Result.Status == dissect.StatusMalformed || op.FunctionName == "malformed" {
			t.Errorf("malformed operation: %+v", op)
		}
		if op.Request {
			requests[uint8(op.FunctionCode)]++
		}
		if op.Response {
			responses[uint8(op.FunctionCode)]++
			if op.Result.Status == dissect.StatusError {
				exceptions++
			}
		}
		if op.Request && op.Response && len(op.Packets) != 2 {
			t.Errorf("pair with packets %v, want the response's and the request's", op.Packets)
		}
	}
	if !maps.Equal(requests, sum.Modbus.Requests) || !maps.Equal(responses, sum.Modbus.Responses) || exceptions != sum.Modbus.Exceptions {
		t.Errorf("operations: requests %v, responses %v, %d exceptions; Summary: %+v", requests, responses, exceptions, sum.Modbus)
	}
	if exceptions == 0 || requests[fcWriteSingleRegister] == 0 {
		t.Errorf("%d exceptions and %d writes, want some of each", exceptions, requests[fcWriteSingleRegister])
	}
}
