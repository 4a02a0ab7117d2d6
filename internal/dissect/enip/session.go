package enip

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/cip"
)

// Sizes of the per-session tables.
const (
	maxPending = 64               // requests awaiting a reply (a multiple service packet takes one per service)
	maxTargets = 6                // targets kept per request
	maxAttrs   = 6                // attributes kept per request
	maxTags    = 256              // interned tag names per session
	window     = 60 * time.Second // pairing window
	protocol   = "enip"
)

// Malformation reasons (constant strings: no allocation per bad PDU).
const (
	reasonHeader      = "bad encapsulation header"
	reasonCPF         = "bad common packet format"
	reasonNoCIP       = "no CIP message in data item"
	reasonCIP         = "truncated CIP message"
	reasonPath        = "bad request path"
	reasonMultiple    = "bad multiple service packet"
	reasonUnconnected = "bad unconnected send"
	reasonIdentity    = "bad identity item"
	reasonIO          = "bad I/O datagram"
)

var errDesync = errors.New("enip: lost encapsulation framing")

// pairing keys: what a reply is matched by.
const (
	kindEncap       = 1 // non-CIP encapsulation command: sender context
	kindUnconnected = 2 // SendRRData: sender context
	kindConnected   = 3 // SendUnitData: CIP sequence count
)

// pending is a request awaiting its reply.
type pending struct {
	used     bool
	kind     uint8
	idx      uint8 // 0: the request itself; i+1: service i of a multiple service packet
	key      uint64
	group    uint64 // seq of the request holding this one (multiple service packet)
	seq      uint64 // arrival order
	time     time.Time
	packet   dissect.PacketRef
	swap     bool // the request travelled to_client
	code     int
	name     string
	class    dissect.Class
	identity bool // Get_Attributes_All on the identity object: parse the reply
	fwdOpen  bool
	targets  [maxTargets]dissect.Target
	nt       uint8
	attrs    [maxAttrs]dissect.Attr
	na       uint8
}

func (p *pending) addTarget(t dissect.Target) {
	if int(p.nt) < maxTargets {
		p.targets[p.nt] = t
		p.nt++
	}
}

func (p *pending) addAttr(k, v string) {
	if int(p.na) < maxAttrs {
		p.attrs[p.na] = dissect.Attr{Key: k, Value: v}
		p.na++
	}
}

// ioConn counts the datagrams of one I/O connection.
type ioConn struct {
	id      uint32
	packets uint64
}

// Session is the state of one EtherNet/IP flow. It is exported so that
// tests and tools can read the I/O counters (IOPackets).
type Session struct {
	flow   *dissect.Flow
	udp    bool
	io     bool
	resync [2]bool
	seq    uint64
	pend   [maxPending]pending
	cur    pending // request being built
	// session handle and its text, formatted once per handle.
	handle    uint32
	handleStr string
	tags      map[string]string
	conns     [32]ioConn
	nconns    int
	nextConn  int
	ioOther   uint64 // I/O datagrams of connections evicted from conns
}

// IOPackets returns the number of I/O datagrams seen for connection id,
// and whether the connection is in the session's table. Cyclic I/O yields
// one "io" operation per connection; the rest are only counted here.
func (s *Session) IOPackets(id uint32) (uint64, bool) {
	for i := 0; i < s.nconns; i++ {
		if s.conns[i].id == id {
			return s.conns[i].packets, true
		}
	}
	return 0, false
}

// Feed consumes whole encapsulation messages (TCP), one datagram (UDP
// 44818) or one I/O datagram (UDP 2222).
func (s *Session) Feed(dir dissect.Direction, data []byte, ctx *dissect.Context) (int, error) {
	if s.io {
		s.feedIO(dir, data, ctx)
		return len(data), nil
	}
	off := 0
	if s.resync[dir] && !s.udp {
		i := findHeader(data)
		if i < 0 {
			if len(data) < HeaderLen {
				return 0, nil
			}
			return len(data) - HeaderLen + 1, nil
		}
		off = i
		s.resync[dir] = false
	}
	for len(data)-off >= HeaderLen {
		h, _ := ParseHeader(data[off:])
		if !h.plausible() {
			s.malformed(dir, 0, reasonHeader, ctx)
			if s.udp {
				return len(data), nil
			}
			return off, errDesync
		}
		end := off + HeaderLen + int(h.Length)
		if end > len(data) {
			if s.udp {
				s.malformed(dir, int(h.Command), reasonHeader, ctx)
				return len(data), nil
			}
			break
		}
		s.message(dir, &h, data[off+HeaderLen:end], ctx)
		off = end
		if s.udp {
			break
		}
	}
	if s.udp {
		return len(data), nil
	}
	return off, nil
}

// findHeader returns the offset of the first plausible header in b, or -1.
func findHeader(b []byte) int {
	for i := 0; i+HeaderLen <= len(b); i++ {
		if h, _ := ParseHeader(b[i:]); h.plausible() {
			return i
		}
	}
	return -1
}

// Gap drops framing for dir: the next Feed searches for a header.
func (s *Session) Gap(dir dissect.Direction, lost int, ctx *dissect.Context) {
	s.resync[dir] = true
}

// Close emits the requests that were never answered.
func (s *Session) Close(ctx *dissect.Context) {
	for {
		i := s.oldest()
		if i < 0 {
			return
		}
		s.emitPending(&s.pend[i], ctx)
	}
}

func (s *Session) oldest() int {
	best := -1
	for i := range s.pend {
		if s.pend[i].used && (best < 0 || s.pend[i].seq < s.pend[best].seq) {
			best = i
		}
	}
	return best
}

// malformed emits a malformed operation.
func (s *Session) malformed(dir dissect.Direction, code int, reason string, ctx *dissect.Context) {
	op := ctx.Op(protocol)
	op.FunctionCode = code
	op.FunctionName = "malformed"
	op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: reason}
	op.Request = dir == dissect.ToServer
	op.Response = dir == dissect.ToClient
	ctx.Emit(op)
}

func (s *Session) sessionAttr(h uint32) string {
	if h == 0 {
		return ""
	}
	if h != s.handle || s.handleStr == "" {
		s.handle = h
		s.handleStr = hex32(h)
	}
	return s.handleStr
}

func hex32(v uint32) string {
	b := []byte("0x00000000")
	const digits = "0123456789abcdef"
	for i := 9; i >= 2; i-- {
		b[i] = digits[v&15]
		v >>= 4
	}
	return string(b)
}

// message handles one encapsulation message.
func (s *Session) message(dir dissect.Direction, h *Header, body []byte, ctx *dissect.Context) {
	switch h.Command {
	case CmdSendRRData, CmdSendUnitData:
		s.sendData(dir, h, body, ctx)
	case CmdListIdentity, CmdListServices, CmdListInterfaces, CmdRegisterSession:
		reply := len(body) > 0 && h.Command != CmdRegisterSession ||
			h.Command == CmdRegisterSession && (h.Session != 0 || h.Status != 0)
		if h.Status != 0 {
			reply = true
		}
		if !reply {
			p := s.begin(dir, kindEncap, h.Context, ctx)
			p.code = int(h.Command)
			p.name = CommandName(h.Command)
			p.class = encapClass(h.Command)
			s.commit(ctx)
			return
		}
		s.encapReply(dir, h, body, ctx)
	default: // NOP, UnRegisterSession, IndicateStatus, Cancel: no reply
		op := ctx.Op(protocol)
		op.FunctionCode = int(h.Command)
		op.FunctionName = CommandName(h.Command)
		op.Class = dissect.ClassOther
		op.Request = true
		op.Result.Status = dissect.StatusOK
		if v := s.sessionAttr(h.Session); v != "" {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "session", Value: v})
		}
		ctx.Emit(op)
	}
}

func encapClass(cmd uint16) dissect.Class {
	switch cmd {
	case CmdListIdentity, CmdListServices, CmdListInterfaces:
		return dissect.ClassDiscovery
	}
	return dissect.ClassOther
}

// begin returns the request under construction, cleared.
func (s *Session) begin(dir dissect.Direction, kind uint8, key uint64, ctx *dissect.Context) *pending {
	s.cur = pending{kind: kind, key: key, time: ctx.Time, packet: ctx.Packet, swap: dir == dissect.ToClient}
	return &s.cur
}

// commit stores the request under construction, making room if needed.
func (s *Session) commit(ctx *dissect.Context) {
	s.store(&s.cur, ctx)
}

func (s *Session) store(p *pending, ctx *dissect.Context) *pending {
	free := -1
	for i := range s.pend {
		q := &s.pend[i]
		if q.used && ctx.Time.Sub(q.time) > window {
			s.emitPending(q, ctx)
		}
		if !q.used && free < 0 {
			free = i
		}
	}
	if free < 0 {
		free = s.oldest()
		s.emitPending(&s.pend[free], ctx)
	}
	s.seq++
	q := &s.pend[free]
	*q = *p
	q.used = true
	q.seq = s.seq
	if q.group == 0 {
		q.group = q.seq
	}
	return q
}

// find returns the oldest pending request matching kind, key and idx
// (and group when non-zero), or nil.
func (s *Session) find(kind uint8, key uint64, idx uint8, group uint64) *pending {
	var best *pending
	for i := range s.pend {
		q := &s.pend[i]
		if !q.used || q.kind != kind || q.key != key || q.idx != idx || (group != 0 && q.group != group) {
			continue
		}
		if best == nil || q.seq < best.seq {
			best = q
		}
	}
	return best
}

// opFrom fills a new operation from request p (nil for a reply whose
// request was not seen).
func (s *Session) opFrom(p *pending, ctx *dissect.Context) *dissect.Operation {
	op := ctx.Op(protocol)
	if p == nil {
		return op
	}
	op.FunctionCode = p.code
	op.FunctionName = p.name
	op.Class = p.class
	op.Request = true
	op.Targets = append(op.Targets, p.targets[:p.nt]...)
	op.Attrs = append(op.Attrs, p.attrs[:p.na]...)
	if p.swap {
		op.Client, op.Server = op.Server, op.Client
	}
	return op
}

// emitPending emits request p unanswered and frees its slot.
func (s *Session) emitPending(p *pending, ctx *dissect.Context) {
	op := s.opFrom(p, ctx)
	op.Time = p.time
	op.Packets = append(op.Packets[:0], p.packet)
	p.used = false
	ctx.Emit(op)
}

// answered finishes op with the reply's packet after the request's.
func answered(op *dissect.Operation, p *pending, ctx *dissect.Context, dir dissect.Direction) {
	op.Response = true
	if p != nil {
		op.Packets = append(op.Packets[:0], p.packet, ctx.Packet)
		p.used = false
	} else if dir == dissect.ToServer {
		// A reply travelling to the flow's server: its sender is the server.
		op.Client, op.Server = op.Server, op.Client
	}
}

// encapReply handles the reply to a non-CIP encapsulation command.
func (s *Session) encapReply(dir dissect.Direction, h *Header, body []byte, ctx *dissect.Context) {
	p := s.find(kindEncap, h.Context, 0, 0)
	if p != nil && p.code != int(h.Command) {
		p = nil
	}
	op := s.opFrom(p, ctx)
	op.FunctionCode = int(h.Command)
	op.FunctionName = CommandName(h.Command)
	op.Class = encapClass(h.Command)
	answered(op, p, ctx, dir)
	op.Result.Status = dissect.StatusOK
	if h.Status != 0 {
		op.Result = dissect.Result{Status: dissect.StatusError, Code: int(h.Status), Text: StatusName(h.Status)}
	}
	switch h.Command {
	case CmdRegisterSession:
		if v := s.sessionAttr(h.Session); v != "" {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "session", Value: v})
		}
	case CmdListIdentity:
		if h.Status == 0 && !listIdentity(op, body) {
			op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: reasonIdentity}
		}
	}
	ctx.Emit(op)
}

// listIdentity adds the identity facts of a List Identity reply's CIP
// Identity item (Volume 2 section 2-4.3.2).
func listIdentity(op *dissect.Operation, body []byte) bool {
	if len(body) < 2 {
		return false
	}
	n := int(binary.LittleEndian.Uint16(body))
	b := body[2:]
	for range n {
		if len(b) < 4 {
			return false
		}
		typ := binary.LittleEndian.Uint16(b)
		l := int(binary.LittleEndian.Uint16(b[2:]))
		if len(b) < 4+l {
			return false
		}
		item := b[4 : 4+l]
		b = b[4+l:]
		if typ != ItemListIdentity {
			continue
		}
		if len(item) < 18 {
			return false
		}
		id, err := cip.ParseIdentity(item[18:])
		if err != nil {
			return false
		}
		identityFacts(op, &id, true)
		if ip := netip.AddrFrom4([4]byte(item[6:10])); !ip.IsUnspecified() {
			op.Identity = append(op.Identity, dissect.Fact{Key: dissect.FactIP, Value: ip.String(), Server: true})
		}
	}
	return true
}

// identityFacts adds the identity object's attributes as facts about the
// operation's server. Formats follow tshark's: serial in hex with 8
// digits; the revision as major.minor.
func identityFacts(op *dissect.Operation, id *cip.Identity, state bool) {
	add := func(k, v string) {
		op.Identity = append(op.Identity, dissect.Fact{Key: k, Value: v, Server: true})
	}
	if name := cip.VendorName(id.VendorID); name != "" {
		add(dissect.FactVendor, name)
	}
	add(dissect.FactVendorID, strconv.Itoa(int(id.VendorID)))
	if name := cip.DeviceTypeName(id.DeviceType); name != "" {
		add(dissect.FactDeviceType, name)
	} else {
		add(dissect.FactDeviceType, strconv.Itoa(int(id.DeviceType)))
	}
	add(dissect.FactProductCode, strconv.Itoa(int(id.ProductCode)))
	add(dissect.FactFirmware, strconv.Itoa(int(id.Major))+"."+strconv.Itoa(int(id.Minor)))
	add(dissect.FactSerial, hex32(id.Serial))
	if len(id.ProductName) > 0 {
		add(dissect.FactProduct, string(id.ProductName))
	}
	if state && id.HasState {
		add("state", cip.HexByte(id.State))
	}
}
