package inventory

import (
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/decode"
)

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkMemory builds an inventory of 100,000 devices (each announced
// by ARP, with its OUI vendor fact) and 1,000,000 connections (each device
// a client of ten others on one port), and reports the heap bytes per
// device and per connection.
func BenchmarkMemory(b *testing.B) {
	const devices, perDevice = 100000, 10
	b.ReportAllocs()
	for b.Loop() {
		base := heap()
		inv := New(Options{MaxConnections: 2 * devices * perDevice})
		hosts := make([]host, devices)
		for i := range hosts {
			hosts[i] = host{[6]byte{0x00, 0x1b, 0x1b, byte(i >> 16), byte(i >> 8), byte(i)}, netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})}
		}
		at := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
		for _, h := range hosts {
			arp(inv, h, at)
		}
		inv.Flush()
		hosts2 := hosts
		hosts = nil
		afterDev := heap()
		p := decode.Packet{HasMAC: true, HasDstMAC: true, Network: decode.NetIPv4, IPProto: 6, Transport: decode.ProtoTCP,
			SrcPort: 50000, DstPort: 502, Length: 66, TCPFlags: decode.TCPFlagSYN}
		for i := range hosts2 {
			for k := 1; k <= perDevice; k++ {
				a, c := &hosts2[i], &hosts2[(i+k*7919)%devices]
				p.Timestamp = at
				p.SrcMAC, p.DstMAC, p.SrcIP, p.DstIP = a.mac, c.mac, a.ip, c.ip
				inv.Packet(&p, nil)
			}
		}
		inv.Flush()
		end := heap()
		b.ReportMetric(float64(afterDev-base)/devices, "B/device")
		b.ReportMetric(float64(end-afterDev)/(devices*perDevice), "B/connection")
		if len(inv.edges) != devices*perDevice || len(inv.devs) != devices {
			b.Fatalf("%d devices, %d connections", len(inv.devs), len(inv.edges))
		}
		runtime.KeepAlive(inv)
		runtime.KeepAlive(hosts2)
	}
}

// BenchmarkPacket measures the per-frame cost for known devices and
// connections.
func BenchmarkPacket(b *testing.B) {
	inv := New(DefaultOptions)
	x, y := mk(1, "10.0.1.1"), mk(2, "10.0.2.2")
	arp(inv, x, t0)
	arp(inv, y, t0)
	p := decode.Packet{HasMAC: true, HasDstMAC: true, SrcMAC: x.mac, DstMAC: y.mac, Network: decode.NetIPv4,
		SrcIP: x.ip, DstIP: y.ip, IPProto: 6, Transport: decode.ProtoTCP, SrcPort: 50000, DstPort: 502, Length: 72, Payload: make([]byte, 12)}
	at := t0
	b.ReportAllocs()
	for b.Loop() {
		at = at.Add(time.Millisecond)
		p.Timestamp = at
		inv.Packet(&p, nil)
	}
}
