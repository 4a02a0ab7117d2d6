package recommend

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/inventory"
)

func op(proto string, client, server string, sport uint16, at time.Time, attrs ...string) *dissect.Operation {
	o := &dissect.Operation{Time: at, Protocol: proto, FunctionName: "f", Request: true, Response: true,
		Client: dissect.Endpoint{IP: netip.MustParseAddr(client), Port: 50000},
		Server: dissect.Endpoint{IP: netip.MustParseAddr(server), Port: sport},
		Result: dissect.Result{Status: dissect.StatusOK}}
	for i := 0; i+1 < len(attrs); i += 2 {
		o.Attrs = append(o.Attrs, dissect.Attr{Key: attrs[i], Value: attrs[i+1]})
	}
	return o
}

// TestObserver feeds operations as the dissectors emit them (attribute
// names from the snmp, s7comm, fins and telnet packages) and checks the
// facts Annotate adds.
func TestObserver(t *testing.T) {
	o := NewObserver()
	refused := op("s7comm", "10.0.1.10", "10.0.2.11", 102, t0.Add(9*time.Minute), "plc_state", "run")
	refused.Result.Status = dissect.StatusError
	for _, x := range []*dissect.Operation{
		op("snmp", "10.0.1.5", "10.0.2.20", 161, t0, "version", "v2c", "community", "public", "cleartext_credentials", "true"),
		op("snmp", "10.0.2.20", "10.0.1.5", 162, t0.Add(time.Minute), "version", "v1"), // a trap: the agent is the client
		op("snmp", "10.0.1.5", "10.0.2.20", 161, t0.Add(2*time.Minute), "version", "v2c"),
		op("telnet", "10.0.1.10", "10.0.2.20", 23, t0, "cleartext_credentials", "true", "remote_access", "true"),
		op("s7comm", "10.0.1.10", "10.0.2.11", 102, t0, "plc_state", "stop"),
		op("s7comm", "10.0.1.10", "10.0.2.11", 102, t0.Add(2*time.Minute), "plc_state", "warm_restart"),
		refused, // an error result changes nothing
		op("fins", "10.0.1.10", "10.0.2.30", 9600, t0, "plc_mode", "run", "run_mode", "monitor"),
		op("fins", "10.0.1.10", "10.0.2.30", 9600, t0.Add(time.Minute), "plc_mode", "stop"),
		op("modbus", "10.0.1.21", "10.0.2.12", 502, t0),
	} {
		o.Emit(x)
	}
	snap := &inventory.Snapshot{Devices: []inventory.Device{
		{ID: 1, IPs: []string{"10.0.2.20"}},
		{ID: 2, IPs: []string{"10.0.2.11"}},
		{ID: 3, IPs: []string{"10.0.2.30"}},
		{ID: 4, IPs: []string{"10.0.2.12"}},
		{ID: 5, IPs: []string{"10.0.1.5"}},
	}}
	o.Annotate(snap)
	o.Annotate(snap) // twice: no duplicates
	type kv struct {
		key, value string
		best       bool
	}
	want := map[inventory.DeviceID][]kv{
		1: {{FactSNMPVersion, "v2c", true}, {FactSNMPVersion, "v1", false}, {FactCleartextCredentials, "telnet", true}},
		2: {{FactPLCMode, "stop", false}, {FactPLCMode, "run", true}},
		3: {{FactPLCMode, "monitor", false}, {FactPLCMode, "program", true}}, // FINS STOP is PROGRAM mode
		4: nil,
		5: nil, // the manager is not an agent
	}
	for id, w := range want {
		var got []kv
		for _, f := range snap.Device(id).Facts {
			got = append(got, kv{f.Key, f.Value, f.Best})
		}
		order := func(a, b kv) int { return cmp.Or(strings.Compare(a.key, b.key), strings.Compare(a.value, b.value)) }
		slices.SortFunc(got, order)
		slices.SortFunc(w, order)
		if !slices.Equal(got, w) {
			t.Errorf("device %d facts %v, want %v", id, got, w)
		}
	}
	// The first and last times of a value span its sightings.
	for _, f := range snap.Device(1).Facts {
		if f.Key == FactSNMPVersion && f.Value == "v2c" && (!f.First.Equal(t0) || !f.Last.Equal(t0.Add(2*time.Minute))) {
			t.Errorf("v2c seen %v to %v", f.First, f.Last)
		}
	}
	var nilObs *Observer
	nilObs.Annotate(snap) // no panic
}

// BenchmarkObserverEmit measures the cost per operation: an operation of
// no interest (Modbus) and one already recorded (SNMP v2c).
func BenchmarkObserverEmit(b *testing.B) {
	o := NewObserver()
	modbus := op("modbus", "10.0.1.21", "10.0.2.12", 502, t0, "unit", "1")
	snmp := op("snmp", "10.0.1.5", "10.0.2.20", 161, t0, "version", "v2c", "community", "public", "cleartext_credentials", "true")
	o.Emit(snmp)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i&1 == 0 {
			o.Emit(modbus)
		} else {
			o.Emit(snmp)
		}
	}
}
