package capture

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Classic pcap file header, 24 bytes, in the writer's byte order:
//
//	0       4     6     8          12        16        20         24
//	| magic | maj | min | thiszone | sigfigs | snaplen | linktype |
//
// Record header, 16 bytes, followed by incl_len bytes of packet data:
//
//	0        4                 8          12         16
//	| ts_sec | ts_usec/ts_nsec | incl_len | orig_len |
const (
	pcapHeaderLen = 24
	pcapRecordLen = 16

	pcapMagicMicro = 0xa1b2c3d4
	pcapMagicNano  = 0xa1b23c4d
)

func isPcapMagic(m []byte) bool {
	be, le := binary.BigEndian.Uint32(m), binary.LittleEndian.Uint32(m)
	return be == pcapMagicMicro || be == pcapMagicNano || le == pcapMagicMicro || le == pcapMagicNano
}

// pcapReader reads classic libpcap files.
type pcapReader struct {
	stream
	order   binary.ByteOrder
	fracNs  int64 // nanoseconds per unit of the fractional timestamp
	snaplen uint32
	link    layers.LinkType
}

func newPcap(st stream) (*pcapReader, error) {
	r := &pcapReader{stream: st}
	h, err := r.peek(pcapHeaderLen, 0, false)
	if err != nil {
		return nil, err
	}
	switch m := binary.LittleEndian.Uint32(h); m {
	case pcapMagicMicro, pcapMagicNano:
		r.order = binary.LittleEndian
	default:
		r.order = binary.BigEndian
	}
	r.fracNs = 1000
	if r.order.Uint32(h) == pcapMagicNano {
		r.fracNs = 1
	}
	if major := r.order.Uint16(h[4:]); major < 2 {
		return nil, r.fail(0, fmt.Errorf("%w: pcap major version %d", ErrFormat, major))
	}
	r.snaplen = r.order.Uint32(h[16:])
	if r.snaplen == 0 || r.snaplen > MaxPacket {
		r.snaplen = MaxPacket
	}
	r.link = linkType(r.order.Uint32(h[20:]))
	if err := r.discard(pcapHeaderLen, 0); err != nil {
		return nil, err
	}
	return r, nil
}

// ReadPacket returns the next record.
func (r *pcapReader) ReadPacket() (Packet, error) {
	if r.err != nil {
		return Packet{}, r.err
	}
	start := r.off
	h, err := r.peek(pcapRecordLen, start, true)
	if err != nil {
		return Packet{}, err
	}
	sec := r.order.Uint32(h)
	frac := r.order.Uint32(h[4:])
	incl := r.order.Uint32(h[8:])
	orig := r.order.Uint32(h[12:])
	if incl > r.snaplen {
		return Packet{}, r.fail(start, fmt.Errorf("%w: record of %d bytes exceeds the snapshot length %d", ErrFormat, incl, r.snaplen))
	}
	n := pcapRecordLen + int(incl)
	b, err := r.peek(n, start, false)
	if err != nil {
		return Packet{}, err
	}
	if err := r.discard(n, start); err != nil {
		return Packet{}, err
	}
	p := Packet{
		Data:      b[pcapRecordLen:n:n],
		Timestamp: time.Unix(int64(sec), int64(frac)*r.fracNs).UTC(),
		Length:    max(int(orig), int(incl)),
		LinkType:  r.link,
	}
	r.stats.Packets++
	r.stats.Bytes += uint64(incl)
	return p, nil
}
