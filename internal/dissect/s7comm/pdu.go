package s7comm

import (
	"bytes"

	"github.com/otwatch/otwatch/internal/dissect"
)

// s7 handles one S7comm PDU (protocol id 0x32). first and multi name the
// first packet of a PDU reassembled from several DT TPDUs.
func (s *session) s7(dir dissect.Direction, b []byte, ctx *dissect.Context, first dissect.PacketRef, multi bool) {
	if len(b) < 10 {
		s.malformed(ctx, ProtoS7comm, reasonS7Header)
		return
	}
	rosctr := b[1]
	ref := be16(b[4:6])
	plen, dlen := int(be16(b[6:8])), int(be16(b[8:10]))
	hl := 10
	var errCode uint16
	if rosctr == rosctrAck || rosctr == rosctrAckData {
		if len(b) < 12 {
			s.malformed(ctx, ProtoS7comm, reasonS7Header)
			return
		}
		hl = 12
		errCode = be16(b[10:12])
	}
	if hl+plen+dlen > len(b) {
		s.malformed(ctx, ProtoS7comm, reasonS7Lengths)
		return
	}
	param, data := b[hl:hl+plen], b[hl+plen:hl+plen+dlen]
	switch rosctr {
	case rosctrJob:
		s.job(dir, ref, param, data, ctx)
	case rosctrAck, rosctrAckData:
		s.ack(dir, ref, errCode, param, data, ctx, first, multi)
	case rosctrUserdata:
		s.userdata(dir, ref, param, data, ctx)
	default:
		s.malformed(ctx, ProtoS7comm, reasonROSCTR)
	}
}

// newPending returns a cleared pending slot for a request, reporting as
// unanswered an older request with the same reference, requests older
// than pairWindow and, when the table is full, the oldest request.
func (s *session) newPending(dir dissect.Direction, userdata bool, ref uint16, ctx *dissect.Context) *pending {
	free, oldest := -1, -1
	for i := range s.pend {
		p := &s.pend[i]
		if p.used && (p.dir == dir && p.userdata == userdata && p.ref == ref || ctx.Time.Sub(p.time) > pairWindow) {
			s.unanswered(p, ctx)
		}
		if !p.used {
			if free < 0 {
				free = i
			}
		} else if oldest < 0 || p.time.Before(s.pend[oldest].time) {
			oldest = i
		}
	}
	if free < 0 {
		s.unanswered(&s.pend[oldest], ctx)
		free = oldest
	}
	p := &s.pend[free]
	*p = pending{used: true, dir: dir, userdata: userdata, ref: ref, time: ctx.Time, pkt: ctx.Packet, pi: -1}
	return p
}

func (s *session) findPending(dir dissect.Direction, userdata bool, ref uint16) *pending {
	for i := range s.pend {
		p := &s.pend[i]
		if p.used && p.dir == dir && p.userdata == userdata && p.ref == ref {
			return p
		}
	}
	return nil
}

// unanswered emits a request that got no answer and frees its slot.
func (s *session) unanswered(p *pending, ctx *dissect.Context) {
	op := ctx.Op(ProtoS7comm)
	op.Time = p.time
	op.Packets[0] = p.pkt
	op.Request = true
	if p.userdata {
		s.fillUserdata(op, p, p.group, p.sub)
	} else {
		s.fillJob(op, p, p.fn)
	}
	p.used = false
	ctx.Emit(op)
}

// job parses a job request and keeps it until its answer.
func (s *session) job(dir dissect.Direction, ref uint16, param, data []byte, ctx *dissect.Context) {
	if len(param) < 1 {
		s.malformed(ctx, ProtoS7comm, reasonNoParam)
		return
	}
	fn := param[0]
	var p *pending
	switch fn {
	case fnReadVar, fnWriteVar:
		if !validItems(param) {
			s.malformed(ctx, ProtoS7comm, reasonItems)
			return
		}
		p = s.newPending(dir, false, ref, ctx)
		p.nitems = parseItems(param, &p.items)
	case fnSetupComm:
		p = s.newPending(dir, false, ref, ctx)
		if len(param) >= 8 {
			p.setup = [3]uint16{be16(param[2:4]), be16(param[4:6]), be16(param[6:8])}
		}
	case fnRequestDownld, fnDownloadBlock, fnDownloadEnded, fnStartUpload:
		p = s.newPending(dir, false, ref, ctx)
		if len(param) >= 9 {
			if n := int(param[8]); 9+n <= len(param) {
				if blk, ok := fileBlock(param[9 : 9+n]); ok {
					p.blocks[0], p.nblocks = blk, 1
				}
			}
		}
	case fnUpload, fnEndUpload:
		p = s.newPending(dir, false, ref, ctx)
		if s.uploadOK {
			p.blocks[0], p.nblocks = s.uploadBlock, 1
		}
	case fnPLCControl:
		p = s.newPending(dir, false, ref, ctx)
		s.parsePI(p, param)
	case fnPLCStop:
		p = s.newPending(dir, false, ref, ctx)
	default:
		p = s.newPending(dir, false, ref, ctx)
	}
	p.fn = fn
	if fn == fnStartUpload {
		s.uploadBlock, s.uploadOK = p.blocks[0], p.nblocks > 0
	}
}

// parsePI reads the block list and service name of a PLC control request:
// function, 7 unknown bytes, parameter block length (2), parameter block,
// service name length (1), service name.
func (s *session) parsePI(p *pending, param []byte) {
	if len(param) < 10 {
		return
	}
	bl := int(be16(param[8:10]))
	if 10+bl+1 > len(param) {
		return
	}
	pb := param[10 : 10+bl]
	nl := int(param[10+bl])
	if 11+bl+nl > len(param) {
		return
	}
	p.pi = findPI(param[11+bl : 11+bl+nl])
	if p.pi < 0 {
		return
	}
	switch piServices[p.pi].wire {
	case "_INSE", "_DELE":
		// Parameter block: number of blocks, a reserved byte, then per
		// block its type (2 chars), number (5 digits) and file system.
		if len(pb) >= 2 {
			for r := pb[2:]; len(r) >= 8 && p.nblocks < maxBlocks; r = r[8:] {
				if blk, ok := blockName(r[:8]); ok {
					p.blocks[p.nblocks] = blk
					p.nblocks++
				}
			}
		}
	case "P_PROGRAM":
		p.coldRun = bytes.HasPrefix(pb, []byte("C "))
	}
}

// fileBlock parses a block file name: "_" or "$", block type (2 chars),
// number (5 digits), destination file system ("_0A00001P").
func fileBlock(f []byte) (block, bool) {
	if len(f) < 9 {
		return block{}, false
	}
	return blockName(f[1:9])
}

// blockName parses type (2 chars), number (5 digits) and a file system
// character.
func blockName(f []byte) (block, bool) {
	typ := blockTypeName(f[0], f[1])
	if typ == "" {
		return block{}, false
	}
	var n uint32
	for _, c := range f[2:7] {
		if c < '0' || c > '9' {
			return block{}, false
		}
		n = n*10 + uint32(c-'0')
	}
	return block{typ, n}, true
}

// validItems checks the item list of a read/write var request: count, then
// items of 0x12, length, syntax id and the specification.
func validItems(param []byte) bool {
	if len(param) < 2 {
		return false
	}
	r := param[2:]
	for i := 0; i < int(param[1]); i++ {
		if len(r) < 2 || r[0] != itemSpecVariable || 2+int(r[1]) > len(r) {
			return false
		}
		r = r[2+int(r[1]):]
	}
	return true
}

// parseItems keeps the S7ANY items of a validated item list.
func parseItems(param []byte, items *[maxItems]item) int {
	n := 0
	r := param[2:]
	for i := 0; i < int(param[1]); i++ {
		l := int(r[1])
		spec := r[2 : 2+l]
		r = r[2+l:]
		if l < 10 || spec[0] != syntaxS7Any || n == maxItems {
			continue
		}
		items[n] = item{
			tsize: spec[1],
			count: be16(spec[2:4]),
			db:    be16(spec[4:6]),
			area:  spec[6],
			addr:  uint32(spec[7])<<16 | uint32(spec[8])<<8 | uint32(spec[9]),
		}
		n++
	}
	return n
}

// ack handles an ack or ack_data answering a job.
func (s *session) ack(dir dissect.Direction, ref, errCode uint16, param, data []byte, ctx *dissect.Context, first dissect.PacketRef, multi bool) {
	op := ctx.Op(ProtoS7comm)
	if multi && first != ctx.Packet {
		op.Packets = append(op.Packets, first)
	}
	op.Response = true
	p := s.findPending(1-dir, false, ref)
	fn := byte(0)
	if len(param) > 0 {
		fn = param[0]
		if p != nil && p.fn != fn {
			p = nil // not the answer to that request: a reused reference
		}
	}
	if p != nil {
		op.Request = true
		op.Packets = append(op.Packets, p.pkt)
		fn = p.fn
		s.fillJob(op, p, fn)
		p.used = false
	} else {
		s.fillJob(op, nil, fn)
	}
	op.Result.Status = dissect.StatusOK
	if len(param) == 0 {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "ack", Value: "true"})
	}
	switch {
	case errCode != 0:
		op.Result = dissect.Result{Status: dissect.StatusError, Code: int(errCode), Text: errorText(errCode)}
	case fn == fnReadVar && len(param) >= 2 && param[0] == fnReadVar:
		s.readResult(op, int(param[1]), data)
	case fn == fnWriteVar && len(param) >= 2 && param[0] == fnWriteVar:
		n := int(param[1])
		if n > len(data) {
			n = len(data)
		}
		for _, rc := range data[:n] {
			if rc != 0xff {
				op.Result = dissect.Result{Status: dissect.StatusError, Code: int(rc), Text: returnCode(rc)}
				break
			}
		}
	case fn == fnSetupComm && len(param) >= 8 && p == nil:
		op.Attrs = append(op.Attrs,
			dissect.Attr{Key: "amq_calling", Value: itoa(uint32(be16(param[2:4])))},
			dissect.Attr{Key: "amq_called", Value: itoa(uint32(be16(param[4:6])))},
			dissect.Attr{Key: "pdu_size", Value: itoa(uint32(be16(param[6:8])))})
	}
	if fn == fnSetupComm && len(param) >= 8 && p != nil {
		// The negotiated values replace the proposed ones.
		setAttr(op, "amq_calling", itoa(uint32(be16(param[2:4]))))
		setAttr(op, "amq_called", itoa(uint32(be16(param[4:6]))))
		setAttr(op, "pdu_size", itoa(uint32(be16(param[6:8]))))
	}
	ctx.Emit(op)
}

func setAttr(op *dissect.Operation, key, value string) {
	for i := range op.Attrs {
		if op.Attrs[i].Key == key {
			op.Attrs[i].Value = value
			return
		}
	}
	op.Attrs = append(op.Attrs, dissect.Attr{Key: key, Value: value})
}

// readResult checks the data items of a read var answer: return code,
// transport size, length, data padded to an even length.
func (s *session) readResult(op *dissect.Operation, n int, data []byte) {
	for i := 0; i < n; i++ {
		if len(data) < 1 {
			op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: reasonItems}
			return
		}
		rc := data[0]
		if rc != 0xff && op.Result.Status == dissect.StatusOK {
			op.Result = dissect.Result{Status: dissect.StatusError, Code: int(rc), Text: returnCode(rc)}
		}
		if len(data) < 4 {
			if rc == 0xff {
				op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: reasonItems}
			}
			return
		}
		if rc != 0xff {
			// A failed item carries no data, whatever its length says.
			data = data[4:]
			continue
		}
		l := int(be16(data[2:4]))
		switch data[1] {
		case 0x03, 0x04, 0x05:
			l = (l + 7) / 8 // length in bits
		}
		if 4+l > len(data) {
			op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: reasonItems}
			return
		}
		if l%2 == 1 && i < n-1 {
			l++
		}
		if 4+l > len(data) {
			l = len(data) - 4
		}
		data = data[4+l:]
	}
}

// fillJob sets function, class, targets and attributes of a job
// operation from its request (p may be nil).
func (s *session) fillJob(op *dissect.Operation, p *pending, fn byte) {
	jf := jobFunc(fn)
	op.FunctionCode = int(fn)
	op.FunctionName = jf.name
	op.Class = jf.class
	op.Attrs = append(op.Attrs, dissect.Attr{Key: "rosctr", Value: "job"})
	if jf.direction != "" {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "direction", Value: jf.direction})
	}
	switch fn {
	case fnPLCStop:
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "plc_state", Value: "stop"})
	case fnSetupComm:
		s.tsapAttrs(op)
	}
	if p == nil {
		return
	}
	if fn == fnSetupComm && p.setup != [3]uint16{} {
		op.Attrs = append(op.Attrs,
			dissect.Attr{Key: "amq_calling", Value: itoa(uint32(p.setup[0]))},
			dissect.Attr{Key: "amq_called", Value: itoa(uint32(p.setup[1]))},
			dissect.Attr{Key: "pdu_size", Value: itoa(uint32(p.setup[2]))})
	}
	if p.pi >= 0 {
		pi := &piServices[p.pi]
		op.FunctionName, op.Class = pi.name, pi.class
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "pi_service", Value: pi.wire})
		if pi.state != "" {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "plc_state", Value: pi.state})
			mode := "warm"
			if p.coldRun {
				mode = "cold"
			}
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "start_mode", Value: mode})
		}
	}
	if fn == fnReadVar || fn == fnWriteVar {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "items", Value: decimal[p.nitems&0xff]})
		for i := 0; i < p.nitems; i++ {
			it := &p.items[i]
			op.Targets = append(op.Targets, dissect.Target{
				Kind:    areaName(it.area),
				Name:    s.itemName(it),
				Address: it.addr >> 3,
				Count:   uint32(it.count),
			})
		}
	}
	for i := 0; i < p.nblocks; i++ {
		b := p.blocks[i]
		op.Targets = append(op.Targets, dissect.Target{Kind: "block", Name: s.blockLabel(b), Address: b.num, Count: 1})
	}
}

// itemName names a variable item: "DB5" for data blocks, and the S7
// absolute address of a bit ("M10.3", "DB5.DBX2.1"). Names are cached so
// that polling the same items allocates nothing.
func (s *session) itemName(it *item) string {
	isDB := it.area == 0x84 || it.area == 0x85
	bit := it.tsize == 1
	if !bit {
		if !isDB {
			return ""
		}
		if int(it.db) < len(dbNames) && it.area == 0x84 {
			return dbNames[it.db]
		}
	}
	key := uint64(it.area)<<56 | uint64(it.db)<<40 | uint64(it.addr)<<8 | uint64(it.tsize)
	for i := range s.names {
		if s.names[i].s != "" && s.names[i].key == key {
			return s.names[i].s
		}
	}
	var name string
	prefix := "DB"
	if it.area == 0x85 {
		prefix = "DI"
	}
	switch {
	case isDB && bit:
		name = prefix + itoa(uint32(it.db)) + ".DBX" + itoa(it.addr>>3) + "." + decimal[it.addr&7]
	case isDB:
		name = prefix + itoa(uint32(it.db))
	default:
		name = areaLetter(it.area) + itoa(it.addr>>3) + "." + decimal[it.addr&7]
	}
	s.names[s.nextN] = nameEntry{key, name}
	s.nextN = (s.nextN + 1) % len(s.names)
	return name
}

func areaLetter(a byte) string {
	switch a {
	case 0x80:
		return "P"
	case 0x81:
		return "I"
	case 0x82:
		return "Q"
	case 0x83:
		return "M"
	case 0x86:
		return "L"
	case 0x87:
		return "V"
	}
	return "X"
}

// blockLabel returns "DB1", "OB35": cold path, program operations only.
func (s *session) blockLabel(b block) string {
	if b.typ == "DB" && int(b.num) < len(dbNames) {
		return dbNames[b.num]
	}
	return b.typ + itoa(b.num)
}
