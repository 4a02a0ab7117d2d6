package anomaly_test

import (
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/detect/anomaly"
	"github.com/otwatch/otwatch/internal/dissect"
)

// MACs of the ARP tests.
var (
	routerMAC   = mac("00:1e:bd:4a:17:c1")
	hmiMAC      = mac("3c:d9:2b:71:5a:e4")
	attackerMAC = mac("3c:52:82:0f:9b:33")
	plcMAC      = mac("00:80:f4:0c:7d:12")
	rogueMAC    = mac("dc:a6:32:4e:0b:71")
	attackerIP  = addr("10.10.1.22")
	fieldGW     = addr("10.10.2.1")
	zero        = dissect.MAC{}
)

// normal is the ARP traffic of a quiet LAN: hosts resolve their gateway
// and the router its field devices; the router has one MAC on two
// subnets.
func normal(d *detect.Detector, from time.Duration) {
	for i := range 3 {
		base := from + time.Duration(i)*time.Minute
		d.Emit(arpOp(at(base), 1, hmiMAC, hmi, zero, gateway))
		d.Emit(arpOp(at(base+time.Millisecond), 2, routerMAC, gateway, hmiMAC, hmi))
		d.Emit(arpOp(at(base+2*time.Second), 1, attackerMAC, attackerIP, zero, gateway))
		d.Emit(arpOp(at(base+2*time.Second+time.Millisecond), 2, routerMAC, gateway, attackerMAC, attackerIP))
		d.Emit(arpOp(at(base+4*time.Second), 1, routerMAC, fieldGW, zero, plc))
		d.Emit(arpOp(at(base+4*time.Second+time.Millisecond), 2, plcMAC, plc, routerMAC, fieldGW))
	}
}

func TestARP(t *testing.T) {
	const later = 5 * time.Minute
	tests := []struct {
		name   string
		attack func(d *detect.Detector)
		typ    *alert.Type
		src    alert.Party
		dst    alert.Party
	}{
		{"quiet LAN", func(d *detect.Detector) {}, nil, alert.Party{}, alert.Party{}},
		{"host with its own address claims the gateway's", func(d *detect.Detector) {
			for i := range 5 {
				d.Emit(arpOp(at(later+time.Duration(i)*2*time.Second), 2, attackerMAC, gateway, hmiMAC, hmi))
			}
		}, anomaly.ARPSpoofing, alert.Party{IP: attackerIP, MAC: attackerMAC}, alert.Party{IP: gateway, MAC: routerMAC}},
		{"poisoning with spoofed requests", func(d *detect.Detector) {
			d.Emit(arpOp(at(later), 1, attackerMAC, gateway, zero, hmi))
		}, anomaly.ARPSpoofing, alert.Party{IP: attackerIP, MAC: attackerMAC}, alert.Party{IP: gateway, MAC: routerMAC}},
		{"unknown MAC sends three unsolicited replies", func(d *detect.Detector) {
			for i := range 3 {
				d.Emit(arpOp(at(later+time.Duration(i)*2*time.Second), 2, rogueMAC, gateway, hmiMAC, hmi))
			}
		}, anomaly.ARPSpoofing, alert.Party{MAC: rogueMAC}, alert.Party{IP: gateway, MAC: routerMAC}},
		{"unknown MAC sends two unsolicited replies", func(d *detect.Detector) {
			for i := range 2 {
				d.Emit(arpOp(at(later+time.Duration(i)*2*time.Second), 2, rogueMAC, gateway, hmiMAC, hmi))
			}
		}, nil, alert.Party{}, alert.Party{}},
		{"second device announces a used address", func(d *detect.Detector) {
			d.Emit(arpOp(at(later), 1, rogueMAC, plc, zero, plc))
		}, anomaly.DuplicateIP, alert.Party{IP: plc, MAC: rogueMAC}, alert.Party{IP: plc, MAC: plcMAC}},
		{"two devices answer one request", func(d *detect.Detector) {
			d.Emit(arpOp(at(later), 1, routerMAC, fieldGW, zero, plc))
			d.Emit(arpOp(at(later+time.Millisecond), 2, plcMAC, plc, routerMAC, fieldGW))
			d.Emit(arpOp(at(later+2*time.Millisecond), 2, rogueMAC, plc, routerMAC, fieldGW))
		}, anomaly.DuplicateIP, alert.Party{IP: plc, MAC: rogueMAC}, alert.Party{IP: plc, MAC: plcMAC}},
		{"a replaced device takes over a silent address", func(d *detect.Detector) {
			d.Emit(arpOp(at(20*time.Minute), 1, rogueMAC, plc, zero, plc))
		}, nil, alert.Party{}, alert.Party{}},
		{"RFC 5227 probe", func(d *detect.Detector) {
			d.Emit(arpOp(at(later), 1, rogueMAC, addr("0.0.0.0"), zero, plc))
		}, nil, alert.Party{}, alert.Party{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := operational(t, detect.Config{})
			normal(d, 0)
			tt.attack(d)
			if tt.typ == nil {
				none(t, d)
				return
			}
			a := only(t, d, tt.typ)
			if a.Source.IP != tt.src.IP || a.Source.MAC != tt.src.MAC || a.Destination.IP != tt.dst.IP || a.Destination.MAC != tt.dst.MAC {
				t.Errorf("alert %v (%v) -> %v (%v), want %v (%v) -> %v (%v)", a.Source, a.Source.MAC, a.Destination, a.Destination.MAC,
					tt.src, tt.src.MAC, tt.dst, tt.dst.MAC)
			}
			if a.Operation == nil || a.Operation.Protocol != "arp" {
				t.Errorf("alert without its ARP operation")
			}
		})
	}
}

// An ARP poisoning tool repeating its replies for an hour gives one alert.
func TestARPSpoofingRepeatsMerge(t *testing.T) {
	d := operational(t, detect.Config{})
	normal(d, 0)
	for i := range 1800 {
		d.Emit(arpOp(at(5*time.Minute+time.Duration(i)*2*time.Second), 2, attackerMAC, gateway, hmiMAC, hmi))
	}
	// The replies come every 2 s for 3600 s; a finding is raised when
	// arpRepeat (10 s) has passed since the last one, at 0, 10, ...,
	// 3590 s: 360 findings, all merged into one alert.
	a := only(t, d, anomaly.ARPSpoofing)
	if a.Count != 1800/5 {
		t.Errorf("count %d, want %d: repeats merged once per 10 s", a.Count, 1800/5)
	}
}
