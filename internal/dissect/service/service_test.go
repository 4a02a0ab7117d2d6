package service

import (
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
)

// Expected names follow the IANA Service Name and Transport Protocol Port
// Number Registry (mbap 502, iso-tsap 102, dnp 20000, EtherNet-IP-2 44818,
// iec-104 2404, opcua-tcp 4840, bacnet 47808), shortened to the protocol
// names otwatch uses.
func TestName(t *testing.T) {
	tests := []struct {
		tr   dissect.Transport
		port uint16
		want string
		ics  bool
	}{
		{dissect.TransportTCP, 502, "modbus", true},
		{dissect.TransportTCP, 102, "iso-tsap", true},
		{dissect.TransportUDP, 20000, "dnp3", true},
		{dissect.TransportTCP, 44818, "enip", true},
		{dissect.TransportUDP, 2222, "enip-io", true},
		{dissect.TransportTCP, 2404, "iec104", true},
		{dissect.TransportTCP, 4840, "opcua", true},
		{dissect.TransportUDP, 47808, "bacnet", true},
		{dissect.TransportTCP, 22, "ssh", false},
		{dissect.TransportUDP, 22, "", false},
		{dissect.TransportUDP, 67, "dhcp", false},
		{dissect.TransportTCP, 31337, "", false},
	}
	for _, tt := range tests {
		if got := Name(tt.tr, tt.port); got != tt.want || Industrial(got) != tt.ics {
			t.Errorf("Name(%v, %d) = %q (industrial %v), want %q (%v)", tt.tr, tt.port, got, Industrial(got), tt.want, tt.ics)
		}
	}
}
