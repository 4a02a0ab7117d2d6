package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// pcapng (draft-ietf-opsawg-pcapng) is a sequence of blocks, each in the
// byte order of its section:
//
//	0      4              8                    n-4            n
//	| type | total length | body, 32-bit aligned | total length |
//
// A section header block (SHB) starts every section and carries the
// byte-order magic at offset 8; interface description blocks (IDB) number
// the interfaces of the section from 0; packet blocks name their interface.
const (
	ngSHB = 0x0a0d0d0a // section header block
	ngIDB = 1          // interface description block
	ngOPB = 2          // packet block (obsolete)
	ngSPB = 3          // simple packet block
	ngEPB = 6          // enhanced packet block

	ngByteOrderMagic = 0x1a2b3c4d

	ngOptEnd      = 0  // opt_endofopt
	ngOptTSResol  = 9  // if_tsresol
	ngOptTSOffset = 14 // if_tsoffset

	// ngMaxBlock bounds the length of any block (Wireshark's limit).
	ngMaxBlock = 16 << 20
)

// ngMinLen is the smallest total length of each block type.
func ngMinLen(typ uint32) uint32 {
	switch typ {
	case ngSHB:
		return 28
	case ngIDB:
		return 20
	case ngSPB:
		return 16
	case ngEPB, ngOPB:
		return 32
	}
	return 12
}

// ngIface is what an IDB says about one interface.
type ngIface struct {
	link    layers.LinkType
	snaplen uint32
	binary  bool   // the timestamp unit is 2^-exp seconds, else 10^-exp
	exp     uint8  // if_tsresol exponent
	units   uint64 // 10^exp, for decimal units
	offset  int64  // if_tsoffset, seconds added to every timestamp
}

var pow10 = [20]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// time converts a timestamp in the interface's units to UTC time.
func (f *ngIface) time(ts uint64) time.Time {
	var sec, ns uint64
	if f.binary {
		k := uint(f.exp)
		if k < 64 {
			sec, ts = ts>>k, ts&(1<<k-1)
		}
		hi, lo := bits.Mul64(ts, 1e9) // fraction in units of 2^-k, times 1e9
		switch {
		case k == 0:
			ns = 0
		case k < 64:
			ns = lo>>k | hi<<(64-k)
		case k < 128:
			ns = hi >> (k - 64)
		}
	} else {
		sec, ns = ts/f.units, ts%f.units
		if f.exp <= 9 {
			ns *= pow10[9-f.exp]
		} else {
			ns /= pow10[f.exp-9]
		}
	}
	return time.Unix(int64(sec)+f.offset, int64(ns)).UTC()
}

// pcapngReader reads pcapng files.
type pcapngReader struct {
	stream
	order  binary.ByteOrder
	ifaces []ngIface    // interfaces of the current section
	big    bytes.Buffer // blocks larger than the read buffer
}

func newPcapng(st stream) (*pcapngReader, error) {
	r := &pcapngReader{stream: st}
	if err := r.section(0); err != nil {
		return nil, err
	}
	return r, nil
}

// ReadPacket returns the next packet, reading the blocks before it.
func (r *pcapngReader) ReadPacket() (Packet, error) {
	for r.err == nil {
		p, ok, err := r.next()
		if err != nil {
			return Packet{}, err
		}
		if ok {
			r.stats.Packets++
			r.stats.Bytes += uint64(len(p.Data))
			return p, nil
		}
	}
	return Packet{}, r.err
}

// next reads one block; ok reports whether it was a packet.
func (r *pcapngReader) next() (p Packet, ok bool, err error) {
	start := r.off
	h, err := r.peek(8, start, true)
	if err != nil {
		return p, false, err
	}
	typ := r.order.Uint32(h) // the SHB type reads the same in both orders
	if typ == ngSHB {
		return p, false, r.section(start)
	}
	total := r.order.Uint32(h[4:])
	if err := r.checkLength(typ, total, start); err != nil {
		return p, false, err
	}
	switch typ {
	case ngIDB, ngEPB, ngOPB, ngSPB:
	default: // name resolution, statistics, decryption secrets, custom, …
		return p, false, r.discard(int(total), start)
	}
	b, err := r.block(int(total), start)
	if err != nil {
		return p, false, err
	}
	if typ == ngIDB {
		return p, false, r.iface(b, start)
	}
	p, err = r.packet(typ, b, start)
	return p, err == nil, err
}

func (r *pcapngReader) checkLength(typ, total uint32, start int64) error {
	if total < ngMinLen(typ) || total%4 != 0 || total > ngMaxBlock {
		return r.fail(start, fmt.Errorf("%w: pcapng block type %#x with bad total length %d", ErrFormat, typ, total))
	}
	return nil
}

// block consumes a whole block of n bytes and returns it. The bytes are
// valid until the next read.
func (r *pcapngReader) block(n int, start int64) ([]byte, error) {
	var b []byte
	if n <= r.br.Size() {
		pb, err := r.peek(n, start, false)
		if err != nil {
			return nil, err
		}
		if err := r.discard(n, start); err != nil {
			return nil, err
		}
		b = pb
	} else {
		r.big.Reset()
		m, err := io.CopyN(&r.big, r.br, int64(n))
		r.off += m
		if err != nil {
			return nil, r.fail(start, classify(err))
		}
		b = r.big.Bytes()
	}
	if t := r.order.Uint32(b[n-4:]); t != uint32(n) {
		return nil, r.fail(start, fmt.Errorf("%w: pcapng block length %d does not match its trailer %d", ErrFormat, n, t))
	}
	return b, nil
}

// section reads a section header block, which sets the byte order and
// forgets the interfaces of the previous section.
func (r *pcapngReader) section(start int64) error {
	h, err := r.peek(12, start, false)
	if err != nil {
		return err
	}
	switch binary.LittleEndian.Uint32(h[8:]) {
	case ngByteOrderMagic:
		r.order = binary.LittleEndian
	case bits.ReverseBytes32(ngByteOrderMagic):
		r.order = binary.BigEndian
	default:
		return r.fail(start, fmt.Errorf("%w: pcapng byte-order magic % x", ErrFormat, h[8:12]))
	}
	total := r.order.Uint32(h[4:])
	if err := r.checkLength(ngSHB, total, start); err != nil {
		return err
	}
	b, err := r.block(int(total), start)
	if err != nil {
		return err
	}
	if major := r.order.Uint16(b[12:]); major != 1 {
		return r.fail(start, fmt.Errorf("%w: pcapng major version %d", ErrFormat, major))
	}
	r.ifaces = r.ifaces[:0]
	return nil
}

// iface reads an interface description block.
func (r *pcapngReader) iface(b []byte, start int64) error {
	f := ngIface{
		link:    linkType(uint32(r.order.Uint16(b[8:]))),
		snaplen: r.order.Uint32(b[12:]),
		exp:     6,
		units:   1e6,
	}
	for opts := b[16 : len(b)-4]; len(opts) >= 4; {
		code, n := r.order.Uint16(opts), int(r.order.Uint16(opts[2:]))
		if code == ngOptEnd {
			break
		}
		if 4+n > len(opts) {
			return r.fail(start, fmt.Errorf("%w: pcapng option %d of %d bytes overruns its block", ErrFormat, code, n))
		}
		v := opts[4 : 4+n]
		switch {
		case code == ngOptTSResol && n >= 1:
			f.binary, f.exp = v[0]&0x80 != 0, v[0]&0x7f
			if !f.binary {
				if int(f.exp) >= len(pow10) {
					return r.fail(start, fmt.Errorf("%w: pcapng if_tsresol 10^-%d", ErrFormat, f.exp))
				}
				f.units = pow10[f.exp]
			}
		case code == ngOptTSOffset && n == 8:
			f.offset = int64(r.order.Uint64(v))
		}
		opts = opts[min(len(opts), 4+(n+3)&^3):]
	}
	r.ifaces = append(r.ifaces, f)
	return nil
}

// packet decodes an enhanced, simple or obsolete packet block.
func (r *pcapngReader) packet(typ uint32, b []byte, start int64) (Packet, error) {
	var (
		id         uint32
		ts         uint64
		caplen     uint32
		orig       uint32
		dataOff    = 28
		hasTS      = true
		avail      = uint32(len(b) - 32) // room for data and options
		simpleData = false
	)
	switch typ {
	case ngEPB:
		id = r.order.Uint32(b[8:])
	case ngOPB:
		id = uint32(r.order.Uint16(b[8:]))
	case ngSPB:
		dataOff, hasTS, simpleData = 12, false, true
		avail = uint32(len(b) - 16)
	}
	if id >= uint32(len(r.ifaces)) {
		return Packet{}, r.fail(start, fmt.Errorf("%w: pcapng packet for undeclared interface %d", ErrFormat, id))
	}
	f := &r.ifaces[id]
	if simpleData {
		orig = r.order.Uint32(b[8:])
		caplen = orig
		if f.snaplen != 0 && caplen > f.snaplen {
			caplen = f.snaplen
		}
	} else {
		ts = uint64(r.order.Uint32(b[12:]))<<32 | uint64(r.order.Uint32(b[16:]))
		caplen = r.order.Uint32(b[20:])
		orig = r.order.Uint32(b[24:])
	}
	if caplen > MaxPacket || caplen > avail {
		return Packet{}, r.fail(start, fmt.Errorf("%w: pcapng packet of %d bytes in a block of %d", ErrFormat, caplen, len(b)))
	}
	p := Packet{
		Data:      b[dataOff : dataOff+int(caplen) : dataOff+int(caplen)],
		Timestamp: time.Unix(0, 0).UTC(),
		Length:    max(int(orig), int(caplen)),
		LinkType:  f.link,
		Interface: int(id),
	}
	if hasTS {
		p.Timestamp = f.time(ts)
	}
	return p, nil
}
