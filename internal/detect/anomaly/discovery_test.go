package anomaly_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/detect/anomaly"
	"github.com/otwatch/otwatch/internal/dissect"
)

// learnThenAttack has d learn on learn(), switches it to operational at
// four minutes and runs attack().
func learnThenAttack(d *detect.Detector, learn, attack func()) {
	learn()
	d.Emit(modbusRead(at(4*time.Minute), hist, addr("10.10.2.99"), 1)) // ends learning
	attack()
}

func TestUnitIDSweep(t *testing.T) {
	tests := []struct {
		name  string
		units []int
		want  bool
	}{
		{"learned unit ids", []int{1, 2, 3}, false},
		{"9 new unit ids", []int{4, 5, 6, 7, 8, 9, 10, 11, 12}, false},
		{"10 new unit ids", []int{4, 5, 6, 7, 8, 9, 10, 11, 12, 13}, true},
		{"learned ids do not count", []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, false},
		{"the same new id many times", []int{40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := learning(t, 4*time.Minute)
			learnThenAttack(d, func() {
				for i := range 60 { // a gateway client polling units 1 to 3
					d.Emit(modbusRead(at(time.Duration(i)*time.Second), ews, plc, 1+i%3))
				}
			}, func() {
				for i, u := range tt.units {
					d.Emit(modbusRead(at(5*time.Minute+time.Duration(i)*100*time.Millisecond), ews, plc, u))
				}
			})
			if !tt.want {
				none(t, d)
				return
			}
			a := only(t, d, anomaly.UnitIDSweep)
			if a.Source.IP != ews || a.Destination.IP != plc || a.Detail("unit_ids") != "10" || a.Detail("units") != "4,5,6,7,8,9,10,11,12,13" {
				t.Errorf("alert %v -> %v unit_ids %s units %s", a.Source, a.Destination, a.Detail("unit_ids"), a.Detail("units"))
			}
		})
	}
}

// A sweep while the sensor learns is learned, not alerted.
func TestUnitIDSweepWhileLearning(t *testing.T) {
	d := learning(t, 4*time.Minute)
	learnThenAttack(d, func() {
		for u := range 30 {
			d.Emit(modbusRead(at(time.Duration(u)*time.Second), ews, plc, u))
		}
	}, func() {
		for u := range 30 {
			d.Emit(modbusRead(at(5*time.Minute+time.Duration(u)*time.Second), ews, plc, u))
		}
	})
	none(t, d)
	if !d.Baseline().Has(anomaly.UnitEntry(modbusRead(start, ews, plc, 7), 7)) {
		t.Error("unit id 7 not in the baseline")
	}
}

func szlRead(tm time.Time, client, server string, id string) *dissect.Operation {
	return &dissect.Operation{Time: tm, Protocol: "s7comm", Transport: "tcp",
		Client: dissect.Endpoint{IP: addr(client), Port: 50511}, Server: dissect.Endpoint{IP: addr(server), Port: 102},
		FunctionCode: 0x0401, FunctionName: "read_szl", Class: dissect.ClassDiscovery, Request: true, Response: true,
		Result: dissect.Result{Status: dissect.StatusOK},
		Attrs:  []dissect.Attr{{Key: "rosctr", Value: "userdata"}, {Key: "szl_id", Value: id}, {Key: "szl_index", Value: "0x0000"}}}
}

func TestSZLEnumeration(t *testing.T) {
	ids := []string{"0x0000", "0x0011", "0x001c", "0x0013", "0x0014", "0x0019", "0x0022", "0x0037", "0x0074", "0x0131", "0x0424"}
	tests := []struct {
		name   string
		client string
		ids    []string
		want   bool
	}{
		{"the engineering station's usual reads", "10.10.1.10", ids[1:3], false},
		{"eight new lists", "10.10.1.10", ids[3:], true},
		{"seven new lists", "10.10.1.10", ids[4:], false},
		{"another client reads the usual lists and more", "10.10.1.22", ids[:8], true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := learning(t, 4*time.Minute)
			learnThenAttack(d, func() {
				for i := range 4 {
					d.Emit(szlRead(at(time.Duration(i)*time.Minute), "10.10.1.10", "10.10.2.11", "0x0011"))
					d.Emit(szlRead(at(time.Duration(i)*time.Minute+time.Second), "10.10.1.10", "10.10.2.11", "0x001c"))
				}
			}, func() {
				for i, id := range tt.ids {
					d.Emit(szlRead(at(5*time.Minute+time.Duration(i)*50*time.Millisecond), tt.client, "10.10.2.11", id))
				}
			})
			if !tt.want {
				none(t, d)
				return
			}
			a := only(t, d, anomaly.SZLEnumeration)
			if a.Source.IP != addr(tt.client) || a.Destination.IP != plcS7 || a.Detail("szl_ids") != "8" {
				t.Errorf("alert %v -> %v szl_ids %s", a.Source, a.Destination, a.Detail("szl_ids"))
			}
		})
	}
}

func listIdentity(tm time.Time, client, server string, bcast bool) *dissect.Operation {
	op := &dissect.Operation{Time: tm, Protocol: "enip", Transport: "udp",
		Client: dissect.Endpoint{IP: addr(client), Port: 55467}, Server: dissect.Endpoint{IP: addr(server), Port: 44818},
		FunctionCode: 0x63, FunctionName: "list_identity", Class: dissect.ClassDiscovery, Request: true,
		Result: dissect.Result{Status: dissect.StatusUnknown}}
	if bcast {
		op.Server.MAC = dissect.MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	}
	return op
}

func TestListIdentity(t *testing.T) {
	tests := []struct {
		name   string
		attack func(d *detect.Detector)
		key    string
	}{
		{"the HMI broadcasts as it did while learning", func(d *detect.Detector) {
			d.Emit(listIdentity(at(5*time.Minute), "10.10.1.21", "255.255.255.255", true))
		}, ""},
		{"the workstation broadcasts", func(d *detect.Detector) {
			d.Emit(listIdentity(at(5*time.Minute), "10.10.1.10", "255.255.255.255", true))
		}, "broadcast"},
		{"directed broadcast", func(d *detect.Detector) {
			d.Emit(listIdentity(at(5*time.Minute), "10.10.1.10", "10.10.1.255", true))
		}, "broadcast"},
		{"unicast to 9 devices", func(d *detect.Detector) {
			for i := range 9 {
				d.Emit(listIdentity(at(5*time.Minute+time.Duration(i)*time.Second), "10.10.1.10", "10.10.2."+strconv.Itoa(i+1), false))
			}
		}, ""},
		{"unicast to 10 devices", func(d *detect.Detector) {
			for i := range 10 {
				d.Emit(listIdentity(at(5*time.Minute+time.Duration(i)*time.Second), "10.10.1.10", "10.10.2."+strconv.Itoa(i+1), false))
			}
		}, "sweep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := learning(t, 4*time.Minute)
			learnThenAttack(d, func() {
				d.Emit(listIdentity(at(time.Second), "10.10.1.21", "255.255.255.255", true))
				d.Emit(listIdentity(at(2*time.Second), "10.10.1.21", "10.10.2.13", false))
			}, func() { tt.attack(d) })
			if tt.key == "" {
				none(t, d)
				return
			}
			a := only(t, d, anomaly.ListIdentity)
			if a.Key != tt.key || a.Source.IP != ews {
				t.Errorf("alert key %q source %v", a.Key, a.Source)
			}
		})
	}
}
