package fins

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/internal/pairing"
)

const proto = "fins"

// Pairing limits.
const (
	// pairWindow is how long a command waits for its response (the
	// Ethernet units retry after 2 s by default).
	pairWindow = 30 * time.Second
	// maxTargets bounds the areas, files or bits one operation names.
	maxTargets = 4
)

// Malformed reasons (constant strings).
const (
	errOutside     = "bytes outside a FINS/TCP frame"
	errTCPLength   = "FINS/TCP length outside 8..4096"
	errTCPCommand  = "unknown FINS/TCP command"
	errTCPShort    = "short FINS/TCP node address frame"
	errShortHeader = "frame shorter than the FINS header and command code"
	errShortResp   = "response without an end code"
	errICF         = "reserved ICF bits set"
	errRSV         = "reserved RSV byte not zero"
)

// Attribute keys.
const (
	attrLayer     = "layer"
	attrViolation = "violation"
	attrMode      = "plc_mode"
	attrRunMode   = "run_mode"
	attrStatus    = "status"
	attrBit       = "bit"
	attrItems     = "items"
	attrInitiator = "initiator"
	attrResponse  = "response"
	attrTime      = "time"
)

// cmdKey is what pairs a response with its command.
type cmdKey struct {
	exact uint64 // service ID, command code and source address
	loose uint32 // service ID and command code
}

// pending is a command awaiting its response.
type pending = pairing.Entry[cmdKey]

// nodeRequest is a FINS/TCP client node address request awaiting the
// server's answer.
type nodeRequest struct {
	used bool
	dir  dissect.Direction
	node uint32
	time time.Time
	ref  dissect.PacketRef
}

// Session decodes one FINS flow: datagrams on UDP, FINS/TCP frames on TCP.
type Session struct {
	udp   bool
	quiet [2]bool
	cmds  pairing.Table[cmdKey]
	node  nodeRequest
}

// Feed decodes the FINS frame of a datagram, or the FINS/TCP frames in
// data, and returns the bytes consumed; an incomplete FINS/TCP frame at
// the end is left for the next call.
func (s *Session) Feed(dir dissect.Direction, data []byte, ctx *dissect.Context) (int, error) {
	dir &= 1
	if s.udp {
		s.frame(dir, data, ctx, false)
		return len(data), nil
	}
	i := 0
	for i < len(data) {
		b := data[i:]
		if b[0] != tcpMagic[0] {
			skip := len(b)
			if j := bytes.IndexByte(b, tcpMagic[0]); j >= 0 {
				skip = j
			}
			s.framing(dir, errOutside, ctx)
			i += skip
			continue
		}
		if len(b) < len(tcpMagic) {
			if string(b) != tcpMagic[:len(b)] {
				s.framing(dir, errOutside, ctx)
				i++
				continue
			}
			break
		}
		if string(b[:4]) != tcpMagic {
			s.framing(dir, errOutside, ctx)
			i++
			continue
		}
		if len(b) < 8 {
			break
		}
		n := binary.BigEndian.Uint32(b[4:])
		if n < 8 || n > maxTCPLength {
			s.framing(dir, errTCPLength, ctx)
			i++
			continue
		}
		total := 8 + int(n)
		if len(b) < total {
			break
		}
		s.quiet[dir] = false
		s.tcpFrame(dir, b[:total], ctx)
		i += total
	}
	return i, nil
}

// Gap drops nothing: FINS/TCP frames are resynchronised on their magic.
func (s *Session) Gap(dissect.Direction, int, *dissect.Context) {}

// Close emits the commands still waiting for a response.
func (s *Session) Close(ctx *dissect.Context) {
	s.cmds.Close(ctx)
	if s.node.used {
		s.nodeUnanswered(ctx)
	}
}

// framing reports a FINS/TCP framing violation once until the next good
// frame of that direction.
func (s *Session) framing(dir dissect.Direction, reason string, ctx *dissect.Context) {
	if s.quiet[dir] {
		return
	}
	s.quiet[dir] = true
	s.violation(dir, ctx, "fins_tcp", reason)
}

func (s *Session) violation(dir dissect.Direction, ctx *dissect.Context, layer, reason string) {
	op := ctx.Op(proto)
	op.FunctionName = "malformed"
	op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: reason}
	op.Request = dir == dissect.ToServer
	op.Response = !op.Request
	op.Attrs = append(op.Attrs,
		dissect.Attr{Key: attrLayer, Value: layer},
		dissect.Attr{Key: attrViolation, Value: reason})
	ctx.Emit(op)
}

// tcpFrame handles one whole FINS/TCP frame.
func (s *Session) tcpFrame(dir dissect.Direction, b []byte, ctx *dissect.Context) {
	cmd := binary.BigEndian.Uint32(b[8:])
	code := binary.BigEndian.Uint32(b[12:])
	switch cmd {
	case 0:
		if len(b) < 20 {
			s.violation(dir, ctx, "fins_tcp", errTCPShort)
			return
		}
		if s.node.used {
			s.nodeUnanswered(ctx)
		}
		s.node = nodeRequest{used: true, dir: dir, node: binary.BigEndian.Uint32(b[16:]), time: ctx.Time, ref: ctx.Packet}
	case 1:
		if len(b) < 24 {
			s.violation(dir, ctx, "fins_tcp", errTCPShort)
			return
		}
		op := ctx.Op(proto)
		op.FunctionCode = 0
		op.FunctionName = tcpCommands[0]
		op.Response = true
		if s.node.used && s.node.dir != dir {
			op.Request = true
			op.Time = s.node.time
			if s.node.ref != ctx.Packet {
				op.Packets = append(op.Packets[:0], s.node.ref, ctx.Packet)
			}
			s.node.used = false
		}
		client, server := binary.BigEndian.Uint32(b[16:]), binary.BigEndian.Uint32(b[20:])
		op.Attrs = append(op.Attrs,
			dissect.Attr{Key: attrLayer, Value: "fins_tcp"},
			dissect.Attr{Key: "client_node", Value: nodeString(client)},
			dissect.Attr{Key: "server_node", Value: nodeString(server)})
		tcpResult(op, code)
		if code == 0 && server != 0 {
			op.Identity = append(op.Identity, dissect.Fact{Key: dissect.FactAddress, Value: nodeString(server), Server: dir == dissect.ToClient})
		}
		ctx.Emit(op)
	case 2:
		if code != 0 {
			// A frame sent with an error code set carries no command.
			op := ctx.Op(proto)
			op.FunctionCode = int(cmd)
			op.FunctionName = tcpCommands[cmd]
			op.Request = dir == dissect.ToServer
			op.Response = !op.Request
			op.Attrs = append(op.Attrs, dissect.Attr{Key: attrLayer, Value: "fins_tcp"})
			tcpResult(op, code)
			ctx.Emit(op)
			return
		}
		s.frame(dir, b[tcpHeaderLen:], ctx, true)
	case 3, 6:
		op := ctx.Op(proto)
		op.FunctionCode = int(cmd)
		op.FunctionName = tcpCommands[cmd]
		op.Request = dir == dissect.ToServer
		op.Response = !op.Request
		op.Attrs = append(op.Attrs, dissect.Attr{Key: attrLayer, Value: "fins_tcp"})
		tcpResult(op, code)
		if cmd == 3 && code == 0 {
			op.Result = dissect.Result{Status: dissect.StatusError, Text: "frame_send_error"}
		}
		ctx.Emit(op)
	default:
		s.violation(dir, ctx, "fins_tcp", errTCPCommand)
	}
}

func tcpResult(op *dissect.Operation, code uint32) {
	if code == 0 {
		op.Result.Status = dissect.StatusOK
		return
	}
	op.Result = dissect.Result{Status: dissect.StatusError, Code: int(code), Text: tcpErrorName(code)}
}

func nodeString(n uint32) string {
	if n < uint32(len(decimal)) {
		return decimal[n]
	}
	return strconv.FormatUint(uint64(n), 10)
}

// nodeUnanswered emits a client node address request that got no answer.
func (s *Session) nodeUnanswered(ctx *dissect.Context) {
	op := ctx.Op(proto)
	op.Time = s.node.time
	op.Packets[0] = s.node.ref
	op.FunctionName = tcpCommands[0]
	op.Request = true
	op.Attrs = append(op.Attrs,
		dissect.Attr{Key: attrLayer, Value: "fins_tcp"},
		dissect.Attr{Key: "client_node", Value: nodeString(s.node.node)})
	s.node.used = false
	ctx.Emit(op)
}

// frame handles one FINS frame (a datagram, or the payload of a FINS/TCP
// frame send).
func (s *Session) frame(dir dissect.Direction, f []byte, ctx *dissect.Context, tcp bool) {
	switch {
	case len(f) < commandLen:
		s.violation(dir, ctx, "fins", errShortHeader)
		return
	case f[0]&icfReserved != 0:
		s.violation(dir, ctx, "fins", errICF)
		return
	case f[1] != 0:
		s.violation(dir, ctx, "fins", errRSV)
		return
	}
	s.cmds.Expire(pairWindow, ctx)
	if f[0]&icfResponse == 0 {
		s.command(dir, f, ctx, tcp)
		return
	}
	if len(f) < responseLen {
		s.violation(dir, ctx, "fins", errShortResp)
		return
	}
	s.response(dir, f, ctx, tcp)
}

// keys returns the pairing keys of a frame: the service ID and command
// code, and those with the address of the command's source (a command's
// SNA/SA1/SA2, a response's DNA/DA1/DA2).
func keys(f []byte, response bool) (exact uint64, loose uint32) {
	loose = uint32(f[9]) | uint32(f[10])<<8 | uint32(f[11])<<16
	a := f[6:9]
	if response {
		a = f[3:6]
	}
	exact = uint64(loose) | uint64(a[0])<<24 | uint64(a[1])<<32 | uint64(a[2])<<40
	return exact, loose
}

func (s *Session) command(dir dissect.Direction, f []byte, ctx *dissect.Context, tcp bool) {
	code := binary.BigEndian.Uint16(f[10:])
	noResponse := f[0]&icfNoResponse != 0
	var op *dissect.Operation
	if noResponse {
		op = ctx.Op(proto)
	} else {
		exact, loose := keys(f, false)
		op = &s.cmds.Start(dir, cmdKey{exact, loose}, proto, ctx).Op
	}
	c := lookup(code)
	op.FunctionCode, op.FunctionName, op.Class = int(code), c.name, c.class
	op.Request = true
	if tcp {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: attrLayer, Value: "fins_tcp"})
	}
	if dir == dissect.ToClient {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: attrInitiator, Value: "server"})
	}
	commandData(op, code, f[commandLen:])
	if noResponse {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: attrResponse, Value: "not_required"})
		ctx.Emit(op)
	}
}

func (s *Session) response(dir dissect.Direction, f []byte, ctx *dissect.Context, tcp bool) {
	code := binary.BigEndian.Uint16(f[10:])
	exact, loose := keys(f, true)
	p := s.find(dir, exact, loose)
	var op *dissect.Operation
	if p != nil {
		p.AddPacket(ctx.Packet)
		op = &p.Op
	} else {
		op = ctx.Op(proto)
		c := lookup(code)
		op.FunctionCode, op.FunctionName, op.Class = int(code), c.name, c.class
		if tcp {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: attrLayer, Value: "fins_tcp"})
		}
	}
	op.Response = true
	end := binary.BigEndian.Uint16(f[12:])
	if main := end & endCodeMask; main == 0 {
		op.Result = dissect.Result{Status: dissect.StatusOK}
	} else {
		op.Result = dissect.Result{Status: dissect.StatusError, Code: int(main), Text: EndCodeName(main)}
	}
	if f[12]&0x80 != 0 {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "relay_error", Value: "true"})
	}
	if f[13]&0x80 != 0 {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "plc_fatal_error", Value: "true"})
	}
	if f[13]&0x40 != 0 {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "plc_non_fatal_error", Value: "true"})
	}
	if op.Result.Status == dissect.StatusOK {
		responseData(op, code, f[responseLen:], dir == dissect.ToClient)
	}
	if p != nil {
		s.cmds.Emit(p, ctx)
		return
	}
	ctx.Emit(op)
}

// find returns the oldest command sent the other way that the response
// with these keys answers: one with the same source address if any, else
// one with the same service ID and command code.
func (s *Session) find(dir dissect.Direction, exact uint64, loose uint32) *pending {
	var best, fallback *pending
	for i := range s.cmds.Entries {
		p := &s.cmds.Entries[i]
		if !p.Used || p.Dir == dir || p.Key.loose != loose {
			continue
		}
		if p.Key.exact == exact && (best == nil || p.Order < best.Order) {
			best = p
		}
		if fallback == nil || p.Order < fallback.Order {
			fallback = p
		}
	}
	if best != nil {
		return best
	}
	return fallback
}

// target adds an area target for the area code, word address and bit.
func target(op *dissect.Operation, code byte, word uint16, bit byte, count uint32) {
	if len(op.Targets) == maxTargets {
		return
	}
	a := &areas[code]
	op.Targets = append(op.Targets, dissect.Target{Kind: a.kind, Name: a.bank, Address: uint32(word), Count: count})
	if a.bit && len(op.Targets) == 1 {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: attrBit, Value: decimal[bit]})
	}
}

// commandData decodes what a command says it acts on (W342, FINS command reference).
func commandData(op *dissect.Operation, code uint16, d []byte) {
	be16 := binary.BigEndian.Uint16
	switch code {
	case 0x0101, 0x0102, 0x0103:
		// Memory area code, beginning address (word, bit), number of items.
		if len(d) >= 6 {
			target(op, d[0], be16(d[1:]), d[3], uint32(be16(d[4:])))
		}
	case 0x0104:
		n := 0
		for ; len(d) >= 4; d = d[4:] {
			target(op, d[0], be16(d[1:]), d[3], 1)
			n++
		}
		if n > 1 {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: attrItems, Value: count(n)})
		}
	case 0x0105:
		// Source area and address, destination area and address, items.
		if len(d) >= 10 {
			n := uint32(be16(d[8:]))
			target(op, d[0], be16(d[1:]), d[3], n)
			target(op, d[4], be16(d[5:]), d[7], n)
		}
	case 0x0201, 0x0202, 0x0203:
		// Parameter area code, beginning word, number of words.
		if len(d) >= 6 {
			op.Targets = append(op.Targets, dissect.Target{Kind: "parameter_area", Name: paramArea(be16(d)),
				Address: uint32(be16(d[2:])), Count: uint32(be16(d[4:]) & 0x7fff)})
		}
	case 0x0306, 0x0307:
		// Program number, beginning word (4 bytes), number of bytes.
		if len(d) >= 8 {
			op.Targets = append(op.Targets, dissect.Target{Kind: "program", Address: binary.BigEndian.Uint32(d[2:]),
				Count: uint32(be16(d[6:]) & 0x7fff)})
		}
	case 0x0304, 0x0305, 0x0308:
		op.Targets = append(op.Targets, dissect.Target{Kind: "program"})
	case 0x0401:
		// Program number and optional mode code (monitor when absent).
		op.Attrs = append(op.Attrs, dissect.Attr{Key: attrMode, Value: "run"})
		mode := "monitor"
		if len(d) >= 3 {
			mode = modeName(d[2])
		}
		op.Attrs = append(op.Attrs, dissect.Attr{Key: attrRunMode, Value: mode})
		op.Detail = "PLC RUN (" + mode + " mode)"
	case 0x0402:
		op.Attrs = append(op.Attrs, dissect.Attr{Key: attrMode, Value: "stop"})
		op.Detail = "PLC STOP (program mode)"
	case 0x0403:
		op.Detail = "PLC reset"
	case 0x0702:
		// Year, month, day, hour, minute [, second [, day of week]], BCD.
		if len(d) >= 5 {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: attrTime, Value: clock(d)})
		}
	case 0x2202:
		// Disk number, file name (12), position, length.
		if len(d) >= 14 {
			fileTarget(op, d[2:14])
		}
	case 0x2203:
		// Disk number, parameter code, file name (12), position, length.
		if len(d) >= 16 {
			fileTarget(op, d[4:16])
		}
	case 0x2205:
		// Disk number, number of files, file names.
		if len(d) >= 4 {
			for d = d[4:]; len(d) >= 12; d = d[12:] {
				fileTarget(op, d[:12])
			}
		}
	case 0x2208:
		// Disk number, old file name, new file name.
		if len(d) >= 26 {
			fileTarget(op, d[2:14])
			fileTarget(op, d[14:26])
		}
	case 0x2301:
		// Number of bits, then per bit: set/reset specification, area
		// code, bit address (word, bit).
		n := 0
		for d = d[min(len(d), 2):]; len(d) >= 6; d = d[6:] {
			if n == 0 {
				op.Attrs = append(op.Attrs, dissect.Attr{Key: "force", Value: forceName(be16(d))})
			}
			target(op, d[2], be16(d[3:]), d[5], 1)
			n++
		}
	case 0x2601:
		if len(d) > 0 {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "name", Value: text(d)})
		}
	}
}

// responseData takes identity and state from a successful response's
// data; fromServer says whether the flow's server sent it.
func responseData(op *dissect.Operation, code uint16, d []byte, fromServer bool) {
	fact := func(k, v string) {
		if v != "" {
			op.Identity = append(op.Identity, dissect.Fact{Key: k, Value: v, Server: fromServer})
		}
	}
	switch code {
	case 0x0501:
		// Controller model (20 bytes) and version (20 bytes) lead every
		// answer that carries them (W342 "CONTROLLER DATA READ").
		if len(d) >= 40 {
			model := text(d[:20])
			if vendorModel(model) {
				fact(dissect.FactVendor, "OMRON")
			}
			fact(dissect.FactModel, model)
			fact(dissect.FactFirmware, text(d[20:40]))
		}
	case 0x0502:
		// Number of units, then unit address and 20-byte model each.
		if len(d) >= 1 {
			for d = d[1:]; len(d) >= 21 && len(op.Identity) < 16; d = d[21:] {
				fact(dissect.FactModule, text(d[1:21]))
			}
		}
	case 0x0601:
		// Status, mode, fatal and non-fatal error data, ...
		if len(d) >= 2 {
			st := "0x" + hex2(d[0])
			switch d[0] {
			case 0x00:
				st = "stop"
			case 0x01:
				st = "run"
			case 0x80:
				st = "standby"
			}
			op.Attrs = append(op.Attrs,
				dissect.Attr{Key: attrStatus, Value: st},
				dissect.Attr{Key: "mode", Value: modeName(d[1])})
		}
	case 0x0701:
		if len(d) >= 5 {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "clock", Value: clock(d)})
		}
	case 0x2603:
		if len(d) > 0 {
			fact(dissect.FactHostname, text(d[:min(len(d), 16)]))
		}
	}
}

// vendorModel reports whether a controller model names an Omron series.
func vendorModel(m string) bool {
	for _, p := range [...]string{"CJ", "CS", "CP", "CV", "C200", "CQM", "CPM", "NJ", "NX", "NY", "NSJ", "FQM"} {
		if len(m) >= len(p) && m[:len(p)] == p {
			return true
		}
	}
	return false
}

func fileTarget(op *dissect.Operation, name []byte) {
	if len(op.Targets) < maxTargets {
		op.Targets = append(op.Targets, dissect.Target{Kind: "file", Name: text(name)})
	}
}

// text returns the printable ASCII of b up to the first NUL, trimmed of
// spaces; other bytes become '?'.
func text(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	b = bytes.TrimSpace(b)
	clean := true
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			clean = false
		}
	}
	if clean {
		return dissect.Intern(b)
	}
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			c = '?'
		}
		out[i] = c
	}
	return string(out)
}

// clock formats a BCD clock (year, month, day, hour, minute [, second]).
func clock(d []byte) string {
	bcd := func(b byte) string { return string([]byte{'0' + b>>4&0xf, '0' + b&0xf}) }
	year := "20"
	if d[0] >= 0x70 && d[0] <= 0x99 {
		year = "19"
	}
	t := year + bcd(d[0]) + "-" + bcd(d[1]) + "-" + bcd(d[2]) + "T" + bcd(d[3]) + ":" + bcd(d[4])
	if len(d) >= 6 {
		t += ":" + bcd(d[5])
	}
	return t
}

func count(n int) string {
	if n < len(decimal) {
		return decimal[n]
	}
	return strconv.Itoa(n)
}

func paramArea(c uint16) string {
	switch c {
	case 0x8010:
		return "pc_setup"
	case 0x8011:
		return "peripheral_device_settings"
	case 0x8012:
		return "io_table"
	case 0x8013:
		return "routing_tables"
	case 0x8002:
		return "cpu_bus_unit_settings"
	}
	return ""
}

func forceName(spec uint16) string {
	switch spec {
	case 0x0000:
		return "reset"
	case 0x0001:
		return "set"
	case 0x8000:
		return "release_off"
	case 0x8001:
		return "release_on"
	case 0xffff:
		return "release"
	}
	return "unknown"
}
