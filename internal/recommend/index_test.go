package recommend

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/inventory"
)

// sameModelFleet returns a snapshot of n PLCs of models models, at
// firmware versions that repeat and are written in several ways, each the
// client of three others.
func sameModelFleet(n, models int) *inventory.Snapshot {
	snap := &inventory.Snapshot{Time: t0}
	fws := []string{"V1.2", "V2.0", "2.0.0", "V2.1", "V1.9", "4.0 SP1", "V2.1"}
	for i := range n {
		snap.Devices = append(snap.Devices, inventory.Device{ID: inventory.DeviceID(i + 1), IPs: []string{fmt.Sprintf("10.30.%d.%d", i/200, 1+i%200)},
			MAC: fmt.Sprintf("02:00:00:%02x:%02x:%02x", i>>16&0xff, i>>8&0xff, i&0xff), Vendor: "Siemens AG", Model: fmt.Sprintf("CPU %d", i%models),
			Firmware: fws[i%len(fws)], Type: inventory.TypePLC, Purdue: 1,
			Serves: []inventory.Service{svc("s7comm", "tcp", 102), svc("http", "tcp", 80)}})
	}
	for i := range n {
		for k := range 3 {
			j := (i*7 + k*13 + 1) % n
			snap.Connections = append(snap.Connections, conn(inventory.DeviceID(i+1), inventory.DeviceID(j+1), "s7comm", 102))
		}
	}
	return snap
}

// TestIndex checks that an Index gives every device the recommendations
// and risk the functions give on the whole snapshot.
func TestIndex(t *testing.T) {
	plantSnap, plantAlerts := plant()
	tests := []struct {
		name   string
		snap   *inventory.Snapshot
		alerts []*alert.Alert
	}{
		{"hand-built plant", plantSnap, plantAlerts},
		{"one model", sameModelFleet(60, 1), nil},
		{"four models", sameModelFleet(200, 4), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := NewIndex(tt.snap)
			outdated := 0
			for i := range tt.snap.Devices {
				d := &tt.snap.Devices[i]
				want := ForDevice(tt.snap, d, nil, tt.alerts)
				got := x.ForDevice(d, nil, tt.alerts)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("device %d: through the index\n%+v\nwant\n%+v", d.ID, got, want)
				}
				if wr, gr := DeviceRisk(tt.snap, d, nil, tt.alerts, want), x.DeviceRisk(d, nil, tt.alerts, got); !reflect.DeepEqual(gr, wr) {
					t.Errorf("device %d: risk through the index %+v, want %+v", d.ID, gr, wr)
				}
				for _, r := range want {
					if r.Kind == KindOutdatedFirmware {
						outdated++
					}
				}
			}
			if tt.name != "hand-built plant" && outdated == 0 {
				t.Error("no outdated firmware found: the fleet does not test the index")
			}
		})
	}
}

// TestIndexScale assesses 3,000 devices of one model through an Index:
// on the whole snapshot it takes seconds. Devices spread over the fleet,
// one per firmware spelling, are checked against the functions on the whole
// snapshot.
func TestIndexScale(t *testing.T) {
	snap := sameModelFleet(3000, 1)
	start := time.Now()
	x := NewIndex(snap)
	got := make([][]Recommendation, len(snap.Devices))
	n := 0
	for i := range snap.Devices {
		got[i] = x.ForDevice(&snap.Devices[i], nil, nil)
		n += len(got[i])
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("%d recommendations for 3,000 devices in %v", n, d)
	} else {
		t.Logf("%d recommendations for 3,000 devices in %v", n, d)
	}
	outdated := 0
	for k := range 7 {
		i := k * 432 // up to 2592; i mod 7 = 5k mod 7 takes each of the 7 firmware spellings
		d := &snap.Devices[i]
		want := ForDevice(snap, d, nil, nil)
		if !reflect.DeepEqual(got[i], want) {
			t.Errorf("device %d (firmware %s): through the index\n%+v\nwant\n%+v", d.ID, d.Firmware, got[i], want)
		}
		for _, r := range want {
			if r.Kind == KindOutdatedFirmware {
				outdated++
			}
		}
	}
	if outdated == 0 {
		t.Error("no outdated firmware among the checked devices: the fleet does not test the index")
	}
}

func TestReadsAlert(t *testing.T) {
	for typ, want := range map[string]bool{
		"malware.remote_access": true, "s7comm.plc_stop": true, "malware.ioc_domain": true, "malware.ioc_address": true,
		"scan.tcp": false, "modbus.malformed": false, "malware.indicator": false,
	} {
		if got := ReadsAlert(typ); got != want {
			t.Errorf("ReadsAlert(%q) = %v, want %v", typ, got, want)
		}
	}
	for _, typ := range AlertTypes() {
		if !ReadsAlert(typ) {
			t.Errorf("AlertTypes lists %s, ReadsAlert does not read it", typ)
		}
	}
	if !InternetHost(&inventory.Device{IPs: []string{"198.51.100.7"}}) || InternetHost(&inventory.Device{IPs: []string{"10.0.0.1"}}) {
		t.Error("InternetHost confuses a plant device with an internet host")
	}
}

// TestIndexSimulatedPlant compares the Index with the functions on every
// device of the simulated plant, with its alerts.
func TestIndexSimulatedPlant(t *testing.T) {
	snap, alerts := analyzePlant(t)
	x := NewIndex(snap)
	for i := range snap.Devices {
		d := &snap.Devices[i]
		want := ForDevice(snap, d, nil, alerts)
		if got := x.ForDevice(d, nil, alerts); !reflect.DeepEqual(got, want) {
			t.Errorf("%v: through the index\n%+v\nwant\n%+v", d.IPs, got, want)
		}
		if wr, gr := DeviceRisk(snap, d, nil, alerts, want), x.DeviceRisk(d, nil, alerts, want); !reflect.DeepEqual(gr, wr) {
			t.Errorf("%v: risk through the index %+v, want %+v", d.IPs, gr, wr)
		}
	}
}
