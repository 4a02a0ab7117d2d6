package simulate

import (
	"container/heap"
	"encoding/binary"
	"math/rand/v2"
	"net"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// node is a simulated host with its live stack state.
type node struct {
	hostSpec
	gw       *node  // the router interface on the host's subnet (nil for the router)
	id       uint16 // next IPv4 id of an idGlobal stack
	flowIDs  map[flowKey]uint16
	nextPort uint16 // next ephemeral port of a Windows stack
}

type flowKey struct {
	dst   netip.Addr
	proto layers.IPProtocol
	sport uint16
	dport uint16
}

// mark annotates a frame with what Summary counts.
type mark uint8

const (
	markNone mark = iota
	markModbusRequest
	markModbusResponse
	markScanSYN
	markDNP3Master     // fc: application function code
	markDNP3Outstation // fc: application function code
	markS7Job          // fc: function code
	markS7AckData      // fc: function code
	markS7UDRequest    // fc: function group, sub: subfunction
	markS7UDResponse   // fc: function group, sub: subfunction
	markENIP           // cmd: encapsulation command; sub: carriesRequest or carriesResponse with fc the service
	markCIPIO          // a class 1 packet on UDP 2222
)

// What an ENIP frame carries after its encapsulation header.
const (
	carriesNone uint8 = iota
	carriesRequest
	carriesResponse
)

// frame is a packet waiting to be serialized at time at.
type frame struct {
	at     time.Duration
	seq    uint64
	src    *node // owner of the IPv4 id counter
	ethSrc net.HardwareAddr
	ethDst net.HardwareAddr
	arp    *layers.ARP
	ip     layers.IPv4
	id     idMode
	tcp    *layers.TCP
	udp    *layers.UDP
	dhcp   *layers.DHCPv4
	pad    int // zero bytes after the DHCP message
	data   []byte
	raw    []byte // a whole Ethernet frame, written as it is (layer-2 protocols)
	mark   mark
	fc     uint8  // function code of a marked frame
	sub    uint8  // second code of a marked frame
	cmd    uint16 // ENIP command of a marked frame
}

type task struct {
	at  time.Duration
	seq uint64
	fn  func()
}

type taskQueue []task

func (q taskQueue) Len() int { return len(q) }
func (q taskQueue) Less(i, j int) bool {
	return q[i].at < q[j].at || q[i].at == q[j].at && q[i].seq < q[j].seq
}
func (q taskQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *taskQueue) Push(x any)   { *q = append(*q, x.(task)) }
func (q *taskQueue) Pop() any {
	old := *q
	t := old[len(old)-1]
	*q = old[:len(old)-1]
	return t
}

type frameQueue []*frame

func (q frameQueue) Len() int { return len(q) }
func (q frameQueue) Less(i, j int) bool {
	return q[i].at < q[j].at || q[i].at == q[j].at && q[i].seq < q[j].seq
}
func (q frameQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *frameQueue) Push(x any)   { *q = append(*q, x.(*frame)) }
func (q *frameQueue) Pop() any {
	old := *q
	f := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return f
}

// sim is a discrete-event simulation: tasks run in time order and emit
// frames at their own time or later; frames are serialized in time order.
type sim struct {
	start time.Time
	end   time.Duration
	now   time.Duration
	seq   uint64
	tasks taskQueue
	out   frameQueue
	rng   *rand.Rand // for IPv4 ids and ports, used in frame order
	buf   gopacket.SerializeBuffer
	write func(ts time.Time, data []byte) error
	err   error
	sum   *Summary
}

var serializeOpts = gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}

// at schedules fn at time t; tasks at or after the end are dropped.
func (s *sim) at(t time.Duration, fn func()) {
	if t >= s.end {
		return
	}
	s.seq++
	heap.Push(&s.tasks, task{at: t, seq: s.seq, fn: fn})
}

// emit queues a frame; a frame at or after the end is dropped.
func (s *sim) emit(f *frame) {
	f.at = max(f.at, s.now)
	if f.at >= s.end {
		return
	}
	s.seq++
	f.seq = s.seq
	heap.Push(&s.out, f)
}

func (s *sim) run() error {
	for s.tasks.Len() > 0 && s.err == nil {
		t := heap.Pop(&s.tasks).(task)
		s.flush(t.at)
		s.now = t.at
		t.fn()
	}
	s.flush(s.end)
	return s.err
}

// flush writes the queued frames earlier than t.
func (s *sim) flush(t time.Duration) {
	for s.out.Len() > 0 && s.out[0].at < t && s.err == nil {
		f := heap.Pop(&s.out).(*frame)
		data, err := s.serialize(f)
		if err != nil {
			s.err = err
			return
		}
		if err := s.write(s.start.Add(f.at), data); err != nil {
			s.err = err
			return
		}
		s.count(f, len(data))
	}
}

func (s *sim) count(f *frame, n int) {
	s.sum.Packets++
	s.sum.Bytes += int64(n)
	switch f.mark {
	case markModbusRequest:
		s.sum.Modbus.Requests[f.fc]++
	case markModbusResponse:
		s.sum.Modbus.Responses[f.fc&0x7f]++
		if f.fc&0x80 != 0 {
			s.sum.Modbus.Exceptions++
		}
	case markScanSYN:
		s.sum.ScanSYNs++
	case markDNP3Master:
		s.sum.DNP3.FromMaster[f.fc]++
	case markDNP3Outstation:
		s.sum.DNP3.FromOutstation[f.fc]++
	case markS7Job:
		s.sum.S7.Jobs[f.fc]++
	case markS7AckData:
		s.sum.S7.AckData[f.fc]++
	case markS7UDRequest:
		s.sum.S7.UserdataRequests[S7Userdata{Group: f.fc, Subfunction: f.sub}]++
	case markS7UDResponse:
		s.sum.S7.UserdataResponses[S7Userdata{Group: f.fc, Subfunction: f.sub}]++
	case markENIP:
		s.sum.ENIP.Commands[f.cmd]++
		switch f.sub {
		case carriesRequest:
			s.sum.ENIP.CIPRequests[f.fc&0x7f]++
		case carriesResponse:
			s.sum.ENIP.CIPResponses[f.fc&0x7f]++
		}
	case markCIPIO:
		s.sum.ENIP.IOPackets++
	default:
		s.cellCount(f)
	}
}

func (s *sim) serialize(f *frame) ([]byte, error) {
	if f.raw != nil {
		return f.raw, nil
	}
	eth := layers.Ethernet{SrcMAC: f.ethSrc, DstMAC: f.ethDst}
	ls := make([]gopacket.SerializableLayer, 0, 4)
	ls = append(ls, &eth)
	if f.arp != nil {
		eth.EthernetType = layers.EthernetTypeARP
		ls = append(ls, f.arp)
	} else {
		eth.EthernetType = layers.EthernetTypeIPv4
		ip := f.ip
		ip.Version = 4
		ip.Id = s.ipID(f)
		ls = append(ls, &ip)
		switch {
		case f.tcp != nil:
			if err := f.tcp.SetNetworkLayerForChecksum(&ip); err != nil {
				return nil, err
			}
			ls = append(ls, f.tcp)
		case f.udp != nil:
			if err := f.udp.SetNetworkLayerForChecksum(&ip); err != nil {
				return nil, err
			}
			ls = append(ls, f.udp)
			if f.dhcp != nil {
				ls = append(ls, f.dhcp)
			}
		}
		if f.pad > 0 {
			ls = append(ls, gopacket.Payload(make([]byte, f.pad)))
		}
		if len(f.data) > 0 {
			ls = append(ls, gopacket.Payload(f.data))
		}
	}
	if err := s.buf.Clear(); err != nil {
		return nil, err
	}
	if err := gopacket.SerializeLayers(s.buf, serializeOpts, ls...); err != nil {
		return nil, err
	}
	return s.buf.Bytes(), nil
}

// ipID returns the IPv4 identification of f as its sender's stack picks it.
func (s *sim) ipID(f *frame) uint16 {
	n := f.src
	switch f.id {
	case idZero:
		return 0
	case idRandom:
		return uint16(s.rng.Uint32())
	}
	if n.stack == stackLinux && f.tcp != nil && f.ip.Flags&layers.IPv4DontFragment != 0 {
		k := flowKey{dst: addr(f.ip.DstIP), proto: f.ip.Protocol, sport: uint16(f.tcp.SrcPort), dport: uint16(f.tcp.DstPort)}
		v, ok := n.flowIDs[k]
		if !ok {
			v = uint16(s.rng.Uint32())
		}
		n.flowIDs[k] = v + 1
		return v
	}
	v := n.id
	n.id++
	return v
}

func addr(b net.IP) netip.Addr {
	a, _ := netip.AddrFromSlice(b.To4())
	return a
}

// ipv4 returns the IPv4 header of a packet from n to dst.
func (n *node) ipv4(dst netip.Addr, proto layers.IPProtocol) layers.IPv4 {
	h := layers.IPv4{
		TTL:      n.TTL,
		Protocol: proto,
		SrcIP:    n.IP.AsSlice(),
		DstIP:    dst.AsSlice(),
	}
	if n.df {
		h.Flags = layers.IPv4DontFragment
	}
	return h
}

// nextHop returns the MAC a frame from n to dst is addressed to: the peer's
// on the same subnet, the router's otherwise.
func (n *node) nextHop(dst *node) net.HardwareAddr {
	if n.Subnet.Contains(dst.IP) || n.gw == nil {
		return dst.MAC
	}
	return n.gw.MAC
}

// ephemeralPort returns a client port as the host's stack picks it.
func (n *node) ephemeralPort(rng *rand.Rand) uint16 {
	if n.stack == stackWindows {
		p := n.nextPort
		n.nextPort++
		if n.nextPort < 49152 {
			n.nextPort = 49152
		}
		return p
	}
	return uint16(32768 + rng.IntN(60999-32768))
}

// jitter returns d plus or minus up to spread, uniformly.
func jitter(rng *rand.Rand, d, spread time.Duration) time.Duration {
	if spread <= 0 {
		return d
	}
	return d - spread + time.Duration(rng.Int64N(int64(2*spread)+1))
}

// between returns a uniform duration in [lo, hi].
func between(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	return lo + time.Duration(rng.Int64N(int64(hi-lo)+1))
}

func be16(b []byte, v uint16) []byte { return binary.BigEndian.AppendUint16(b, v) }

func le16(b []byte, v uint16) []byte { return binary.LittleEndian.AppendUint16(b, v) }

func le32(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }

func be32(b []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(b, v) }
