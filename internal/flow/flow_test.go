package flow

import (
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/decode"
	"github.com/otwatch/otwatch/internal/dissect"
)

var t0 = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)

func pkt(src, dst string, sport, dport uint16, flags uint8, at time.Duration) *decode.Packet {
	return &decode.Packet{
		Timestamp: t0.Add(at), Length: 60, Network: decode.NetIPv4,
		SrcIP: netip.MustParseAddr(src), DstIP: netip.MustParseAddr(dst),
		Transport: decode.ProtoTCP, IPProto: decode.ProtoTCP, SrcPort: sport, DstPort: dport, TCPFlags: flags,
	}
}

// other returns a UDP or ICMP packet; typ is the ICMP type.
func other(proto uint8, src, dst string, sport, dport uint16, typ uint8) *decode.Packet {
	p := pkt(src, dst, sport, dport, 0, 0)
	p.Transport, p.IPProto, p.ICMPType = proto, proto, typ
	return p
}

func TestHandshakeAndDirections(t *testing.T) {
	tb := New[int](DefaultOptions)
	const (
		S  = decode.TCPFlagSYN
		SA = decode.TCPFlagSYN | decode.TCPFlagACK
		A  = decode.TCPFlagACK
		FA = decode.TCPFlagFIN | decode.TCPFlagACK
	)
	// The client has the higher address: the key puts it on side B.
	steps := []struct {
		p     *decode.Packet
		dir   dissect.Direction
		isNew bool
		state TCPState
	}{
		{pkt("10.0.0.9", "10.0.0.2", 50000, 502, S, 0), dissect.ToServer, true, TCPSynSent},
		{pkt("10.0.0.2", "10.0.0.9", 502, 50000, SA, time.Millisecond), dissect.ToClient, false, TCPSynReceived},
		{pkt("10.0.0.9", "10.0.0.2", 50000, 502, A, 2*time.Millisecond), dissect.ToServer, false, TCPEstablished},
		{pkt("10.0.0.9", "10.0.0.2", 50000, 502, FA, 3*time.Millisecond), dissect.ToServer, false, TCPClosing},
		{pkt("10.0.0.2", "10.0.0.9", 502, 50000, FA, 4*time.Millisecond), dissect.ToClient, false, TCPClosed},
	}
	var id uint64
	for i, s := range steps {
		f, dir, isNew := tb.Update(s.p)
		if dir != s.dir || isNew != s.isNew || f.TCP != s.state {
			t.Fatalf("step %d: dir %v new %v state %v; want %v %v %v", i, dir, isNew, f.TCP, s.dir, s.isNew, s.state)
		}
		if i == 0 {
			id = f.ID
		} else if f.ID != id {
			t.Fatalf("step %d: flow id changed %d → %d", i, id, f.ID)
		}
	}
	f, _, _ := tb.Update(pkt("10.0.0.9", "10.0.0.2", 50000, 502, A, 5*time.Millisecond))
	if f.Packets != [2]uint64{4, 2} || f.Bytes != [2]uint64{240, 120} {
		t.Errorf("counters %v %v, want [4 2] [240 120]", f.Packets, f.Bytes)
	}
	if ip, port := f.Client(); ip != netip.MustParseAddr("10.0.0.9") || port != 50000 {
		t.Errorf("client %v:%d", ip, port)
	}
	if ip, port := f.Server(); ip != netip.MustParseAddr("10.0.0.2") || port != 502 {
		t.Errorf("server %v:%d", ip, port)
	}
}

func TestClientGuess(t *testing.T) {
	tests := []struct {
		name   string
		p      *decode.Packet
		client string
	}{
		{"syn sender", pkt("10.0.0.1", "10.0.0.2", 40000, 40001, decode.TCPFlagSYN, 0), "10.0.0.1"},
		{"syn-ack receiver", pkt("10.0.0.1", "10.0.0.2", 502, 40001, decode.TCPFlagSYN|decode.TCPFlagACK, 0), "10.0.0.2"},
		{"mid-stream from well-known port", pkt("10.0.0.1", "10.0.0.2", 502, 40001, decode.TCPFlagACK, 0), "10.0.0.2"},
		{"mid-stream to well-known port", pkt("10.0.0.3", "10.0.0.2", 40001, 102, decode.TCPFlagACK, 0), "10.0.0.3"},
		{"mid-stream two high ports: lower is service", pkt("10.0.0.1", "10.0.0.2", 20000, 49000, decode.TCPFlagACK, 0), "10.0.0.2"},
		{"udp to well-known port", other(decode.ProtoUDP, "10.0.0.9", "10.0.0.2", 50000, 53, 0), "10.0.0.9"},
		{"udp from well-known port", other(decode.ProtoUDP, "10.0.0.2", "10.0.0.9", 161, 50000, 0), "10.0.0.9"},
		// RFC 792: type 8 is an echo request, 0 an echo reply, 3 an error.
		{"icmp echo request", other(decode.ProtoICMP, "10.0.0.9", "10.0.0.2", 0, 0, 8), "10.0.0.9"},
		{"icmp echo reply", other(decode.ProtoICMP, "10.0.0.2", "10.0.0.9", 0, 0, 0), "10.0.0.9"},
		{"icmp unreachable", other(decode.ProtoICMP, "10.0.0.2", "10.0.0.9", 0, 0, 3), "10.0.0.9"},
		// RFC 4443: type 128 is an echo request, 129 an echo reply.
		{"icmpv6 echo request", other(decode.ProtoICMPv6, "fd00::9", "fd00::2", 0, 0, 128), "fd00::9"},
		{"icmpv6 echo reply", other(decode.ProtoICMPv6, "fd00::2", "fd00::9", 0, 0, 129), "fd00::9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := New[int](DefaultOptions)
			f, _, _ := tb.Update(tt.p)
			if ip, _ := f.Client(); ip.String() != tt.client {
				t.Errorf("client %v, want %s", ip, tt.client)
			}
		})
	}
}

func TestExpireAndEvict(t *testing.T) {
	opts := DefaultOptions
	opts.MaxFlows = 100
	tb := New[int](opts)
	var ended []EndReason
	tb.OnEnd = func(f *Flow[int], why EndReason) { ended = append(ended, why) }
	for i := range 100 {
		tb.Update(pkt("10.0.0.1", "10.0.1.1", uint16(40000+i), 502, decode.TCPFlagSYN, time.Duration(i)*time.Millisecond))
	}
	if tb.Len() != 100 {
		t.Fatalf("len %d", tb.Len())
	}
	// Touch the oldest flow; the next new flow must evict the second oldest.
	tb.Update(pkt("10.0.0.1", "10.0.1.1", 40000, 502, decode.TCPFlagACK, time.Second))
	tb.Update(pkt("10.0.0.1", "10.0.1.1", 60000, 502, decode.TCPFlagSYN, time.Second))
	if st := tb.Stats(); st.Evicted != 1 || st.Active != 100 {
		t.Fatalf("stats %+v, want 1 evicted, 100 active", st)
	}
	found := false
	tb.Each(func(f *Flow[int]) {
		if _, p := f.Client(); p == 40001 {
			found = true
		}
	})
	if found {
		t.Error("flow from port 40001 (the longest idle) should have been evicted")
	}
	// A closed flow expires after TCPClosedTimeout; open ones after TCPTimeout.
	tb.Update(pkt("10.0.0.1", "10.0.1.1", 40002, 502, decode.TCPFlagRST, 2*time.Second))
	if n := tb.Expire(t0.Add(2*time.Second + opts.TCPClosedTimeout + time.Second)); n != 1 {
		t.Errorf("expired %d after closed timeout, want 1", n)
	}
	if n := tb.Expire(t0.Add(time.Hour)); n != 99 {
		t.Errorf("expired %d after an hour, want 99", n)
	}
	if tb.Len() != 0 || len(ended) != 101 || ended[0] != EndEvicted || ended[1] != EndIdle {
		t.Errorf("len %d, ended %d %v", tb.Len(), len(ended), ended[:2])
	}
	// Slots are reused: a new flow after expiry allocates no new chunk.
	chunks := len(tb.chunks)
	tb.Update(pkt("10.0.0.5", "10.0.1.1", 1234, 502, decode.TCPFlagSYN, time.Hour))
	if len(tb.chunks) != chunks {
		t.Errorf("chunks grew from %d to %d", chunks, len(tb.chunks))
	}
}

func TestUpdateAllocs(t *testing.T) {
	tb := New[int](DefaultOptions)
	ps := make([]*decode.Packet, 1000)
	for i := range ps {
		ps[i] = pkt("10.0.0.1", "10.0.1.1", uint16(30000+i), 502, decode.TCPFlagACK, time.Duration(i))
		tb.Update(ps[i])
	}
	if a := testing.AllocsPerRun(100, func() {
		for _, p := range ps {
			tb.Update(p)
		}
	}); a != 0 {
		t.Errorf("Update of existing flows allocates %.1f per round", a)
	}
	// Churn at the cap: eviction and reuse allocate nothing either.
	opts := DefaultOptions
	opts.MaxFlows = 500
	small := New[int](opts)
	for _, p := range ps {
		small.Update(p)
	}
	if a := testing.AllocsPerRun(20, func() {
		for _, p := range ps {
			small.Update(p)
		}
	}); a != 0 {
		t.Errorf("Update with eviction allocates %.1f per round", a)
	}
}

func BenchmarkUpdate(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		b.Run(strconv.Itoa(n)+"flows", func(b *testing.B) {
			tb := New[int](DefaultOptions)
			ps := make([]decode.Packet, n)
			for i := range ps {
				a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
				ps[i] = *pkt("10.200.0.1", "10.0.0.1", uint16(40000+i%20000), 502, decode.TCPFlagACK, 0)
				ps[i].DstIP = a
				tb.Update(&ps[i])
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				tb.Update(&ps[i])
				i++
				if i == n {
					i = 0
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
		})
	}
}

// TestReusedTuple: a SYN on the 5-tuple of a connection closed by RST (or
// by FIN both ways) starts a new flow, as clients that reuse a source port
// do; a SYN retransmitted on an open connection does not.
func TestReusedTuple(t *testing.T) {
	tb := New[int](DefaultOptions)
	var ended []EndReason
	tb.OnEnd = func(f *Flow[int], why EndReason) { ended = append(ended, why) }
	f, _, _ := tb.Update(pkt("10.0.0.1", "10.0.0.2", 1054, 80, decode.TCPFlagSYN, 0))
	// The slot is reused later: keep the id, not the pointer.
	firstID := f.ID
	// A retransmitted SYN stays in the flow.
	tb.Update(pkt("10.0.0.1", "10.0.0.2", 1054, 80, decode.TCPFlagSYN, time.Millisecond))
	if tb.Len() != 1 {
		t.Fatalf("retransmitted SYN made a new flow")
	}
	tb.Update(pkt("10.0.0.2", "10.0.0.1", 80, 1054, decode.TCPFlagRST|decode.TCPFlagACK, 2*time.Millisecond))
	second, _, isNew := tb.Update(pkt("10.0.0.1", "10.0.0.2", 1054, 80, decode.TCPFlagSYN, 3*time.Millisecond))
	if !isNew || second.ID == firstID || second.TCP != TCPSynSent {
		t.Errorf("SYN after RST: new %v, id %d (first %d), state %v", isNew, second.ID, firstID, second.TCP)
	}
	if len(ended) != 1 || ended[0] != EndReused || tb.Stats().Reused != 1 {
		t.Errorf("ended %v, stats %+v", ended, tb.Stats())
	}
}
