package synphasor

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/internal/itoa"
)

const proto = "synphasor"

// Limits.
const (
	// pairWindow is how long a command that asks for a frame waits for it.
	pairWindow = 30 * time.Second
	// dataInterval is the shortest time between two operations that
	// summarise the data frames of one stream.
	dataInterval = time.Second
	// maxStreams bounds the data streams tracked per direction; the least
	// recently seen is forgotten when a new one needs its slot.
	maxStreams = 8
	// maxBlocks bounds the PMU blocks of a configuration that become
	// identity facts.
	maxBlocks = 16
)

// Malformed reasons (constant strings).
const (
	errSync      = "bytes outside a frame"
	errSize      = "FRAMESIZE below 16"
	errCRC       = "CRC mismatch"
	errTruncated = "FRAMESIZE beyond the datagram"
	errCommand   = "command frame without CMD"
	errConfig    = "configuration beyond the frame"
	errReserved  = "reserved frame type"
)

// Attribute keys.
const (
	attrLayer     = "layer"
	attrViolation = "violation"
	attrFrame     = "frame"
	attrVersion   = "version"
	attrTx        = "transmission"
)

// frameNames names the frame types; functionCodes are the SYNC words with
// the version bits cleared, the function code of frames other than
// commands.
var frameNames = [8]string{
	typeData: "data", typeHeader: "header", typeConfig1: "config_1", typeConfig2: "config_2",
	typeCommand: "command", typeConfig3: "config_3", 6: "reserved_6", 7: "reserved_7",
}

func frameCode(t byte) int { return syncByte<<8 | int(t)<<4 }

// pendingCmd is a command that asks for a frame, awaiting it.
type pendingCmd struct {
	used bool
	dir  dissect.Direction
	time time.Time
	op   dissect.Operation
}

// stream is the rate limit state of one data stream.
type stream struct {
	used   bool
	id     uint16
	last   time.Time
	frames int
}

// Session decodes one C37.118 flow.
type Session struct {
	udp   bool
	quiet [2]bool
	// cmds holds the commands waiting for a header (0) or a configuration
	// frame 1, 2, 3 (1..3).
	cmds    [4]pendingCmd
	streams [2][maxStreams]stream
	// ids are the decimal IDCODEs the flow uses.
	ids      itoa.Cache[[8]itoa.Entry]
	timeBase uint32
}

// Feed decodes the frames of a datagram, or those in a stream's bytes, and
// returns the bytes consumed; an incomplete frame at the end of a stream is
// left for the next call.
func (s *Session) Feed(dir dissect.Direction, data []byte, ctx *dissect.Context) (int, error) {
	dir &= 1
	i := 0
	for i < len(data) {
		b := data[i:]
		if b[0] != syncByte || (len(b) >= 2 && !validSync(b)) {
			if s.udp {
				s.violation(dir, ctx, errSync)
				return len(data), nil
			}
			skip := 1
			if j := bytes.IndexByte(b[1:], syncByte); j >= 0 {
				skip += j
			} else {
				skip = len(b)
			}
			s.framing(dir, errSync, ctx)
			i += skip
			continue
		}
		if len(b) < 4 {
			if s.udp {
				s.violation(dir, ctx, errTruncated)
				return len(data), nil
			}
			break
		}
		n := int(binary.BigEndian.Uint16(b[2:]))
		if n < minFrame {
			if s.udp {
				s.violation(dir, ctx, errSize)
				return len(data), nil
			}
			s.framing(dir, errSize, ctx)
			i++
			continue
		}
		if len(b) < n {
			if s.udp {
				s.violation(dir, ctx, errTruncated)
				return len(data), nil
			}
			break
		}
		if !crcOK(b[:n]) {
			if s.udp {
				s.violation(dir, ctx, errCRC)
				return len(data), nil
			}
			// FRAMESIZE may be what is wrong: resynchronise on the next
			// SYNC rather than skip the frame.
			s.framing(dir, errCRC, ctx)
			i++
			continue
		}
		s.quiet[dir] = false
		s.frame(dir, b[:n], ctx)
		i += n
	}
	return i, nil
}

// Gap forgets nothing: frames are found again by SYNC and CRC.
func (s *Session) Gap(dissect.Direction, int, *dissect.Context) {}

// Close emits the commands still waiting for their frame.
func (s *Session) Close(ctx *dissect.Context) {
	for i := range s.cmds {
		if s.cmds[i].used {
			s.flush(&s.cmds[i], ctx)
		}
	}
}

// framing reports a stream violation once until the next good frame of
// that direction.
func (s *Session) framing(dir dissect.Direction, reason string, ctx *dissect.Context) {
	if s.quiet[dir] {
		return
	}
	s.quiet[dir] = true
	s.violation(dir, ctx, reason)
}

func (s *Session) violation(dir dissect.Direction, ctx *dissect.Context, reason string) {
	op := ctx.Op(proto)
	op.FunctionName = "malformed"
	op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: reason}
	op.Request = dir == dissect.ToServer
	op.Response = !op.Request
	op.Attrs = append(op.Attrs, dissect.Attr{Key: attrViolation, Value: reason})
	ctx.Emit(op)
}

func (s *Session) flush(p *pendingCmd, ctx *dissect.Context) {
	p.used = false
	ctx.Emit(&p.op)
}

// expire emits the commands older than the pairing window.
func (s *Session) expire(ctx *dissect.Context) {
	for i := range s.cmds {
		if p := &s.cmds[i]; p.used && ctx.Time.Sub(p.time) > pairWindow {
			s.flush(p, ctx)
		}
	}
}

// frame handles one whole frame whose CRC is correct.
func (s *Session) frame(dir dissect.Direction, f []byte, ctx *dissect.Context) {
	typ := f[1] >> 4 & 7
	id := binary.BigEndian.Uint16(f[4:])
	s.expire(ctx)
	if typ == typeData {
		s.data(dir, id, f, ctx)
		return
	}
	if typ == typeCommand {
		s.command(dir, id, f, ctx)
		return
	}
	slot := -1
	switch typ {
	case typeHeader:
		slot = 0
	case typeConfig1, typeConfig2, typeConfig3:
		slot = int(typ) - 1
		if typ == typeConfig3 {
			slot = 3
		}
	}
	var op *dissect.Operation
	var p *pendingCmd
	if slot >= 0 && s.cmds[slot].used && s.cmds[slot].dir != dir {
		p = &s.cmds[slot]
		op = &p.op
		op.Packets = append(op.Packets, ctx.Packet)
	} else {
		op = ctx.Op(proto)
		op.FunctionCode, op.FunctionName, op.Class = frameCode(typ), frameNames[typ], dissect.ClassRead
		op.Targets = append(op.Targets, dissect.Target{Kind: "pmu", Address: uint32(id)})
	}
	op.Response = true
	op.Result = dissect.Result{Status: dissect.StatusOK}
	op.Attrs = append(op.Attrs, dissect.Attr{Key: attrFrame, Value: frameNames[typ]})
	if p == nil {
		op.Attrs = append(op.Attrs,
			dissect.Attr{Key: attrVersion, Value: decimal[f[1]&0x0f]},
			dissect.Attr{Key: "soc", Value: s.soc(f)})
	}
	fromServer := dir == dissect.ToClient
	switch typ {
	case typeHeader:
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "header", Value: text(f[headerLen : len(f)-2])})
		s.address(op, id, fromServer)
	case typeConfig1, typeConfig2, typeConfig3:
		s.config(op, typ, id, f, fromServer)
	default:
		op.Attrs = append(op.Attrs, dissect.Attr{Key: attrViolation, Value: errReserved})
		op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: errReserved}
	}
	if p != nil {
		s.flush(p, ctx)
		return
	}
	ctx.Emit(op)
}

// commands names the CMD values (C37.118.2-2011 clause 6.6, table 15).
var commands = [9]struct {
	name  string
	class dissect.Class
}{
	1: {"turn_off_transmission", dissect.ClassControl},
	2: {"turn_on_transmission", dissect.ClassControl},
	3: {"send_header_frame", dissect.ClassRead},
	4: {"send_config_1", dissect.ClassRead},
	5: {"send_config_2", dissect.ClassRead},
	6: {"send_config_3", dissect.ClassRead},
	8: {"extended_frame", dissect.ClassOther},
}

// CommandName returns the identifier of a CMD value: "turn_off_transmission",
// ..., "user_defined" (0x0100-0x0fff) or "reserved".
func CommandName(cmd uint16) string {
	switch {
	case int(cmd) < len(commands) && commands[cmd].name != "":
		return commands[cmd].name
	case cmd >= 0x0100 && cmd <= 0x0fff:
		return "user_defined"
	}
	return "reserved"
}

func (s *Session) command(dir dissect.Direction, id uint16, f []byte, ctx *dissect.Context) {
	if len(f) < headerLen+4 {
		s.violation(dir, ctx, errCommand)
		return
	}
	cmd := binary.BigEndian.Uint16(f[headerLen:])
	slot := -1
	if cmd >= 3 && cmd <= 6 {
		slot = int(cmd) - 3
	}
	var op *dissect.Operation
	if slot >= 0 {
		p := &s.cmds[slot]
		if p.used {
			s.flush(p, ctx)
		}
		op = &p.op
		op.Reset()
		op.Time, op.Protocol = ctx.Time, proto
		if ctx.Flow != nil {
			op.Transport = ctx.Flow.Transport.String()
			op.Client, op.Server = ctx.Flow.Client, ctx.Flow.Server
		}
		op.Packets = append(op.Packets, ctx.Packet)
		p.used, p.dir, p.time = true, dir, ctx.Time
	} else {
		op = ctx.Op(proto)
	}
	op.FunctionCode, op.FunctionName = int(cmd), CommandName(cmd)
	if int(cmd) < len(commands) {
		op.Class = commands[cmd].class
	}
	op.Request = true
	op.Targets = append(op.Targets, dissect.Target{Kind: "pmu", Address: uint32(id)})
	op.Attrs = append(op.Attrs, dissect.Attr{Key: attrVersion, Value: decimal[f[1]&0x0f]})
	switch cmd {
	case 1:
		op.Attrs = append(op.Attrs, dissect.Attr{Key: attrTx, Value: "off"})
		op.Detail = "PMU data transmission turned off"
	case 2:
		op.Attrs = append(op.Attrs, dissect.Attr{Key: attrTx, Value: "on"})
		op.Detail = "PMU data transmission turned on"
	}
	op.Attrs = append(op.Attrs, dissect.Attr{Key: "soc", Value: s.soc(f)})
	// The IDCODE of a command names the device it is sent to.
	s.address(op, id, dir == dissect.ToServer)
	if slot < 0 {
		ctx.Emit(op)
	}
}

// data summarises the data frames of a stream: the first frame of each
// dataInterval becomes an operation with the STAT flags of its first PMU
// block and the number of frames since the previous one.
func (s *Session) data(dir dissect.Direction, id uint16, f []byte, ctx *dissect.Context) {
	st := s.stream(dir, id, ctx.Time)
	st.frames++
	if !st.last.IsZero() && ctx.Time.Sub(st.last) < dataInterval {
		return
	}
	frames := st.frames
	st.last, st.frames = ctx.Time, 0
	op := ctx.Op(proto)
	op.FunctionCode, op.FunctionName, op.Class = frameCode(typeData), frameNames[typeData], dissect.ClassRead
	op.Response = true
	op.Result = dissect.Result{Status: dissect.StatusOK}
	op.Targets = append(op.Targets, dissect.Target{Kind: "pmu", Address: uint32(id)})
	n := "255+"
	if frames < len(decimal) {
		n = decimal[frames]
	}
	op.Attrs = append(op.Attrs, dissect.Attr{Key: "frames", Value: n})
	if len(f) >= headerLen+4 {
		stat := binary.BigEndian.Uint16(f[headerLen:])
		if e := stat >> 14; e != 0 {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "data_error", Value: dataErrors[e]})
		}
		if stat&0x2000 != 0 {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "time_sync", Value: "lost"})
		}
		if stat&0x0800 != 0 {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "trigger", Value: "true"})
		}
		if stat&0x0400 != 0 {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "config_change", Value: "true"})
		}
		if stat&0x0200 != 0 {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "data_modified", Value: "true"})
		}
	}
	s.address(op, id, dir == dissect.ToClient)
	ctx.Emit(op)
}

// dataErrors names STAT bits 15-14 (C37.118.2-2011 clause 6.3, data
// frame STAT word).
var dataErrors = [4]string{"", "pmu_error", "test_mode", "pmu_error_no_values"}

// stream returns the rate limit state of stream id in direction dir,
// replacing the least recently seen one when all slots are taken.
func (s *Session) stream(dir dissect.Direction, id uint16, now time.Time) *stream {
	t := &s.streams[dir]
	var free, lru *stream
	for i := range t {
		st := &t[i]
		switch {
		case st.used && st.id == id:
			return st
		case !st.used:
			if free == nil {
				free = st
			}
		case lru == nil || st.last.Before(lru.last):
			lru = st
		}
	}
	if free == nil {
		free = lru
	}
	*free = stream{used: true, id: id}
	return free
}

// address adds the IDCODE as an address fact.
func (s *Session) address(op *dissect.Operation, id uint16, server bool) {
	op.Identity = append(op.Identity, dissect.Fact{Key: dissect.FactAddress, Value: s.ids.String(id), Server: server})
}

// config decodes a configuration frame (C37.118.2-2011 clause 6.4): the
// PMU blocks' station names and IDCODEs become identity facts, the
// sender's data rate and nominal frequency attributes.
func (s *Session) config(op *dissect.Operation, typ byte, stream uint16, f []byte, fromServer bool) {
	d := f[headerLen : len(f)-2]
	bad := func() {
		op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: errConfig}
		op.Attrs = append(op.Attrs, dissect.Attr{Key: attrViolation, Value: errConfig})
	}
	s.address(op, stream, fromServer)
	if typ == typeConfig3 {
		if len(d) < 2 {
			bad()
			return
		}
		if binary.BigEndian.Uint16(d) != 0 {
			// A continuation fragment: the PMU blocks are split over
			// frames (clause 6.4.2).
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "continuation", Value: strconv.Itoa(int(binary.BigEndian.Uint16(d)))})
			return
		}
		d = d[2:]
	}
	if len(d) < 6 {
		bad()
		return
	}
	s.timeBase = binary.BigEndian.Uint32(d) & 0xffffff
	npmu := int(binary.BigEndian.Uint16(d[4:]))
	d = d[6:]
	type block struct {
		name string
		id   uint16
		fnom string
	}
	var blocks []block
	for i := 0; i < npmu; i++ {
		var b block
		var ok bool
		if typ == typeConfig3 {
			d, b.name, b.id, b.fnom, ok = config3Block(d)
		} else {
			d, b.name, b.id, b.fnom, ok = config12Block(d)
		}
		if !ok {
			bad()
			return
		}
		if len(blocks) < maxBlocks {
			blocks = append(blocks, b)
		}
	}
	if len(d) < 2 {
		bad()
		return
	}
	rate := int(int16(binary.BigEndian.Uint16(d)))
	op.Attrs = append(op.Attrs,
		dissect.Attr{Key: "pmus", Value: strconv.Itoa(npmu)},
		dissect.Attr{Key: "data_rate", Value: strconv.Itoa(rate)})
	if len(blocks) > 0 {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "nominal_frequency", Value: blocks[0].fnom})
	}
	for _, b := range blocks {
		op.Targets = append(op.Targets, dissect.Target{Kind: "pmu", Name: b.name, Address: uint32(b.id)})
	}
	switch {
	case npmu == 1 && blocks[0].name != "":
		op.Identity = append(op.Identity, dissect.Fact{Key: dissect.FactHostname, Value: blocks[0].name, Server: fromServer})
	case npmu > 1:
		// A PDC: the blocks are the PMUs whose data it forwards.
		for _, b := range blocks {
			if b.name != "" {
				op.Identity = append(op.Identity, dissect.Fact{Key: dissect.FactModule, Value: b.name, Server: fromServer})
			}
		}
	}
}

// config12Block decodes one PMU block of a CFG-1 or CFG-2 frame (clause 6.4):
// STN (16), IDCODE, FORMAT, PHNMR, ANNMR, DGNMR, CHNAM (16 each),
// PHUNIT, ANUNIT, DIGUNIT (4 each), FNOM, CFGCNT.
func config12Block(d []byte) (rest []byte, name string, id uint16, fnom string, ok bool) {
	if len(d) < 26 {
		return d, "", 0, "", false
	}
	name = text(d[:16])
	id = binary.BigEndian.Uint16(d[16:])
	ph, an, dg := int(binary.BigEndian.Uint16(d[20:])), int(binary.BigEndian.Uint16(d[22:])), int(binary.BigEndian.Uint16(d[24:]))
	n := 26 + 16*(ph+an+16*dg) + 4*(ph+an+dg)
	if len(d) < n+4 {
		return d, "", 0, "", false
	}
	return d[n+4:], name, id, nominal(d[n:]), true
}

// config3Block decodes one PMU block of a CFG-3 frame (clause 6.4): STN
// (length-prefixed), IDCODE, G_PMU_ID (16), FORMAT, PHNMR, ANNMR, DGNMR,
// CHNAM (length-prefixed), PHSCALE (12 each), ANSCALE (8 each), DIGUNIT
// (4 each), PMU_LAT, PMU_LON, PMU_ELEV, SVC_CLASS, WINDOW, GRP_DLY, FNOM,
// CFGCNT.
func config3Block(d []byte) (rest []byte, name string, id uint16, fnom string, ok bool) {
	if len(d) < 1 || len(d) < 1+int(d[0])+26 {
		return d, "", 0, "", false
	}
	name = text(d[1 : 1+int(d[0])])
	d = d[1+int(d[0]):]
	id = binary.BigEndian.Uint16(d)
	ph, an, dg := int(binary.BigEndian.Uint16(d[20:])), int(binary.BigEndian.Uint16(d[22:])), int(binary.BigEndian.Uint16(d[24:]))
	d = d[26:]
	for range ph + an + 16*dg {
		if len(d) < 1 || len(d) < 1+int(d[0]) {
			return d, "", 0, "", false
		}
		d = d[1+int(d[0]):]
	}
	n := 12*ph + 8*an + 4*dg + 12 + 1 + 4 + 4
	if len(d) < n+4 {
		return d, "", 0, "", false
	}
	return d[n+4:], name, id, nominal(d[n:]), true
}

// nominal names FNOM bit 0 (1: 50 Hz, 0: 60 Hz).
func nominal(b []byte) string {
	if b[1]&1 != 0 {
		return "50"
	}
	return "60"
}

// soc formats a frame's SOC and FRACSEC as UTC with the fraction of
// second the last configuration's TIME_BASE gives (microseconds), or the
// raw FRACSEC count when no configuration was seen.
func (s *Session) soc(f []byte) string {
	sec := int64(binary.BigEndian.Uint32(f[6:]))
	frac := binary.BigEndian.Uint32(f[10:]) & 0xffffff
	t := time.Unix(sec, 0).UTC()
	if s.timeBase == 0 {
		return t.Format("2006-01-02T15:04:05Z") + "+" + strconv.Itoa(int(frac))
	}
	ns := int64(frac) * int64(time.Second) / int64(s.timeBase)
	return t.Add(time.Duration(ns)).Format("2006-01-02T15:04:05.000000Z")
}

// text returns the printable ASCII of b up to the first NUL, trimmed of
// spaces; other bytes become '?'.
func text(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	b = bytes.TrimSpace(b)
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			out := bytes.Clone(b)
			for i, c := range out {
				if c < 0x20 || c > 0x7e {
					out[i] = '?'
				}
			}
			return string(out)
		}
	}
	return dissect.Intern(b)
}

// decimal holds the decimal strings of 0..255.
var decimal [256]string

func init() {
	for i := range decimal {
		decimal[i] = strconv.Itoa(i)
	}
}
