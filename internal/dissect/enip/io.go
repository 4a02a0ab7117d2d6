package enip

import (
	"encoding/binary"

	"github.com/otwatch/otwatch/internal/dissect"
)

// feedIO handles one class 0/1 I/O datagram (Volume 2 section 3-3.2): a
// common packet format with a sequenced address item (connection id,
// encapsulation sequence number) and a connected data item. The first
// datagram of a connection yields an "io" operation; the rest are only
// counted (IOPackets), so cyclic traffic costs no operation and no
// allocation.
func (s *Session) feedIO(dir dissect.Direction, b []byte, ctx *dissect.Context) {
	if len(b) < 2 {
		s.malformed(dir, 0, reasonIO, ctx)
		return
	}
	n := int(binary.LittleEndian.Uint16(b))
	b = b[2:]
	var id uint32
	found := false
	for range n {
		if len(b) < 4 {
			s.malformed(dir, 0, reasonIO, ctx)
			return
		}
		typ := binary.LittleEndian.Uint16(b)
		l := int(binary.LittleEndian.Uint16(b[2:]))
		if len(b) < 4+l {
			s.malformed(dir, 0, reasonIO, ctx)
			return
		}
		if (typ == ItemSequencedAddress && l >= 8 || typ == ItemConnectedAddress && l >= 4) && !found {
			id, found = binary.LittleEndian.Uint32(b[4:]), true
		}
		b = b[4+l:]
	}
	if !found {
		s.malformed(dir, 0, reasonIO, ctx)
		return
	}
	for i := 0; i < s.nconns; i++ {
		if s.conns[i].id == id {
			s.conns[i].packets++
			return
		}
	}
	slot := s.nconns
	if slot < len(s.conns) {
		s.nconns++
	} else {
		slot = s.nextConn
		s.nextConn = (s.nextConn + 1) % len(s.conns)
		s.ioOther += s.conns[slot].packets
	}
	s.conns[slot] = ioConn{id: id, packets: 1}
	op := ctx.Op(protocol)
	op.FunctionName = "io"
	op.Class = dissect.ClassOther
	op.Request = true
	op.Result.Status = dissect.StatusOK
	if dir == dissect.ToClient {
		op.Client, op.Server = op.Server, op.Client
	}
	op.Targets = append(op.Targets, dissect.Target{Kind: "connection", Address: id})
	op.Attrs = append(op.Attrs, dissect.Attr{Key: "connection_id", Value: hex32(id)})
	ctx.Emit(op)
}
