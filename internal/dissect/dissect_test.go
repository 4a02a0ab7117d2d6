package dissect

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"unsafe"
)

type fake struct{ name string }

func (f fake) Name() string             { return f.name }
func (f fake) Probe(b []byte) bool      { return strings.HasPrefix(string(b), f.name) }
func (f fake) NewSession(*Flow) Session { return nil }
func (f fake) Dissect(*Frame, *Context) {}

func panics(f func()) (p bool) {
	defer func() { p = recover() != nil }()
	f()
	return false
}

func TestRegistry(t *testing.T) {
	Register(fake{"zz-test-a"}, TCP(65001), UDP(65001))
	Register(fake{"zz-test-b"})
	if !panics(func() { Register(fake{"zz-test-a"}) }) {
		t.Error("a duplicate name must panic")
	}
	if !panics(func() { Register(fake{"zz-test-c"}, TCP(65001)) }) {
		t.Error("a duplicate port must panic")
	}
	if d := ByPort(TCP(65001)); d == nil || d.Name() != "zz-test-a" {
		t.Errorf("ByPort = %v", d)
	}
	if d := Probe([]byte("zz-test-b hello")); d == nil || d.Name() != "zz-test-b" {
		t.Errorf("Probe = %v", d)
	}
	RegisterEtherType(fake{"zz-test-l2"}, 0x88b5)
	RegisterSNAP(fake{"zz-test-snap"}, 0x00000c, 0x2fff)
	RegisterLLC(fake{"zz-test-llc"}, 0xfe)
	if ByEtherType(0x88b5) == nil || BySNAP(0x00000c, 0x2fff) == nil || ByLLC(0xfe) == nil {
		t.Error("layer-2 registrations not found")
	}
	if !panics(func() { RegisterEtherType(fake{"zz-test-l2b"}, 0x88b5) }) {
		t.Error("a duplicate EtherType must panic")
	}
}

func TestOperationJSONAndClone(t *testing.T) {
	var op Operation
	op.Protocol, op.Class, op.Result.Status = "modbus", ClassProgram, StatusMalformed
	op.Client.MAC = MAC{0, 0x1b, 0x1b, 1, 2, 3}
	op.Targets = append(op.Targets, Target{Kind: "coil", Address: 1, Count: 2})
	c := op.Clone()
	op.Targets[0].Address = 99
	if c.Targets[0].Address != 1 {
		t.Error("Clone shares the Targets array")
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"class":"program"`, `"status":"malformed"`, `"mac":"00:1b:1b:01:02:03"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON %s lacks %s", b, want)
		}
	}
	op.Reset()
	if op.Protocol != "" || len(op.Targets) != 0 || cap(op.Targets) == 0 {
		t.Errorf("Reset: %+v (capacity %d)", op, cap(op.Targets))
	}
}

func TestIntern(t *testing.T) {
	a := Intern([]byte("plc01.plant.local"))
	b := Intern([]byte("plc01.plant.local"))
	if a != b || unsafe.StringData(a) != unsafe.StringData(b) {
		t.Error("Intern made a second copy of the same bytes")
	}
	name := []byte("hmi-02")
	Intern(name)
	if n := testing.AllocsPerRun(100, func() { Intern(name) }); n != 0 {
		t.Errorf("Intern of a kept value allocates %.0f times", n)
	}
	if Intern(nil) != "" {
		t.Error("Intern(nil) != \"\"")
	}
}

// TestOperationJSONRoundTrip: an operation written as JSON reads back the
// same, and bad names are errors.
func TestOperationJSONRoundTrip(t *testing.T) {
	op := Operation{Protocol: "modbus", Class: ClassWrite, Result: Result{Status: StatusError, Code: 2},
		Client: Endpoint{MAC: MAC{0, 0x1b, 0x1b, 1, 2, 3}, IP: netip.MustParseAddr("10.0.0.1"), Port: 50000}}
	b, err := json.Marshal(&op)
	if err != nil {
		t.Fatal(err)
	}
	var back Operation
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Class != op.Class || back.Result != op.Result || back.Client != op.Client {
		t.Errorf("round trip: %+v, want %+v", back, op)
	}
	for _, bad := range []string{`{"class":"nosuch"}`, `{"result":{"status":"fine"}}`, `{"client":{"mac":"00:1b"}}`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
