package anomaly_test

import (
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/decode"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/dissect"
)

// start is the capture time the tests begin at.
var start = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return start.Add(d) }

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func mac(s string) dissect.MAC {
	var m dissect.MAC
	for i := range m {
		v, err := strconv.ParseUint(s[3*i:3*i+2], 16, 8)
		if err != nil {
			panic(err)
		}
		m[i] = byte(v)
	}
	return m
}

// Addresses of the tests' plant.
var (
	hmi     = addr("10.10.1.21")
	hist    = addr("10.10.1.30")
	ews     = addr("10.10.1.10")
	plc     = addr("10.10.2.12")
	plcS7   = addr("10.10.2.11")
	gateway = addr("10.10.1.1")
)

// operational returns a Detector that starts operational and keeps its
// alerts.
func operational(t testing.TB, cfg detect.Config) *detect.Detector {
	t.Helper()
	cfg.Operational, cfg.Keep = true, true
	return detect.New(cfg)
}

// learning returns a Detector that learns for learn from the first input.
func learning(t testing.TB, learn time.Duration) *detect.Detector {
	t.Helper()
	return detect.New(detect.Config{Learn: learn, Keep: true})
}

// syn returns a TCP SYN from src to dst:port at tm.
func syn(tm time.Time, src, dst netip.Addr, port uint16) *decode.Packet {
	return &decode.Packet{Timestamp: tm, Network: decode.NetIPv4, SrcIP: src, DstIP: dst, Transport: decode.ProtoTCP,
		SrcPort: 40000, DstPort: port, TCPFlags: decode.TCPFlagSYN}
}

// echo returns an ICMP echo request from src to dst at tm.
func echo(tm time.Time, src, dst netip.Addr) *decode.Packet {
	return &decode.Packet{Timestamp: tm, Network: decode.NetIPv4, SrcIP: src, DstIP: dst, Transport: decode.ProtoICMP, ICMPType: 8}
}

// modbusRead returns a read of holding registers with a unit id.
func modbusRead(tm time.Time, client, server netip.Addr, unit int) *dissect.Operation {
	return &dissect.Operation{Time: tm, Protocol: "modbus", Transport: "tcp",
		Client: dissect.Endpoint{IP: client, Port: 50000}, Server: dissect.Endpoint{IP: server, Port: 502},
		FunctionCode: 3, FunctionName: "read_holding_registers", Class: dissect.ClassRead, Request: true, Response: true,
		Targets: []dissect.Target{{Kind: "holding_register", Address: 0, Count: 10}},
		Result:  dissect.Result{Status: dissect.StatusOK},
		Attrs:   []dissect.Attr{{Key: "unit_id", Value: strconv.Itoa(unit)}},
		Packets: []dissect.PacketRef{{Flow: 7, Index: 3}}}
}

// modbusWrite returns a Write Single Register (function 6) of value to
// register reg, as the modbus dissector reports it.
func modbusWrite(tm time.Time, client, server netip.Addr, reg uint32, value int) *dissect.Operation {
	return &dissect.Operation{Time: tm, Protocol: "modbus", Transport: "tcp",
		Client: dissect.Endpoint{IP: client, Port: 50000}, Server: dissect.Endpoint{IP: server, Port: 502},
		FunctionCode: 6, FunctionName: "write_single_register", Class: dissect.ClassWrite, Request: true, Response: true,
		Targets: []dissect.Target{{Kind: "holding_register", Address: reg, Count: 1}},
		Result:  dissect.Result{Status: dissect.StatusOK},
		Attrs:   []dissect.Attr{{Key: "unit_id", Value: "1"}, {Key: "value", Value: strconv.Itoa(value)}}}
}

// arpOp returns an ARP operation as the arp dissector reports it: the
// sender as client, the target as server.
func arpOp(tm time.Time, code int, senderMAC dissect.MAC, senderIP netip.Addr, targetMAC dissect.MAC, targetIP netip.Addr) *dissect.Operation {
	op := &dissect.Operation{Time: tm, Protocol: "arp", Transport: "ethernet", FunctionCode: code,
		Client: dissect.Endpoint{MAC: senderMAC, IP: senderIP}, Server: dissect.Endpoint{MAC: targetMAC, IP: targetIP},
		Class: dissect.ClassDiscovery, Result: dissect.Result{Status: dissect.StatusOK}}
	switch {
	case code == 1 && senderIP == targetIP:
		op.FunctionName, op.Request = "gratuitous", true
	case code == 1:
		op.FunctionName, op.Request = "request", true
	case senderIP == targetIP:
		op.FunctionName, op.Response = "gratuitous", true
	default:
		op.FunctionName, op.Response = "reply", true
	}
	return op
}

// ofType returns the alerts of one type.
func ofType(as []*alert.Alert, typ *alert.Type) []*alert.Alert {
	var out []*alert.Alert
	for _, a := range as {
		if a.Type == typ.ID {
			out = append(out, a)
		}
	}
	return out
}

// only checks that the detector raised exactly one alert, of type typ,
// and returns it.
func only(t *testing.T, d *detect.Detector, typ *alert.Type) *alert.Alert {
	t.Helper()
	as := d.Alerts()
	if len(as) != 1 || as[0].Type != typ.ID {
		var got []string
		for _, a := range as {
			got = append(got, a.Type+" "+a.Source.String()+" -> "+a.Destination.String()+" "+a.Title)
		}
		t.Fatalf("alerts %q, want one %s", got, typ.ID)
	}
	return as[0]
}

// none checks that the detector raised no alert.
func none(t *testing.T, d *detect.Detector) {
	t.Helper()
	for _, a := range d.Alerts() {
		t.Errorf("unexpected alert %s %s -> %s: %s", a.Type, a.Source, a.Destination, a.Title)
	}
}
