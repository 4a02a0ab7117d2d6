package profinet

import (
	"encoding/binary"
	"errors"
	"sync"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
)

// EtherType is the PROFINET real-time EtherType (IEC 61158-6-10).
const EtherType = 0x8892

// CMPort is the UDP port of the PROFINET IO context manager (the DCE/RPC
// endpoint mapper port assigned to PROFINET).
const CMPort = 34964

// Default is the frame dissector registered for EtherType 0x8892. The
// inventory reads the cyclic relation counters through Default.Relations.
var Default = &Dissector{}

func init() {
	dissect.RegisterEtherType(Default, EtherType)
	dissect.Register(CMDissector{}, dissect.UDP(CMPort))
}

// Frame kinds by FrameID (IEC 61158-6-10, "FrameID" table; the same
// ranges are used by Wireshark's pn_rt dissector).
type frameKind uint8

const (
	kindReserved frameKind = iota
	kindPTCPSync
	kindRTC3
	kindRTC2
	kindRTC1
	kindAlarmHigh
	kindAlarmLow
	kindDCPHello
	kindDCPGetSet
	kindDCPIdentReq
	kindDCPIdentRes
	kindPTCPAnnounce
	kindPTCPFollowUp
	kindPTCPDelay
	kindFragment
)

// classify returns the kind of frame a FrameID denotes.
func classify(id uint16) frameKind {
	switch {
	case id <= 0x00ff:
		return kindPTCPSync // 0x0020, 0x0080: RTSync PDUs; the rest reserved for PTCP
	case id <= 0x0fff:
		return kindRTC3
	case id <= 0x7fff:
		return kindReserved
	case id <= 0xbfff:
		return kindRTC2
	case id <= 0xfbff:
		return kindRTC1
	case id == 0xfc01:
		return kindAlarmHigh
	case id == 0xfe01:
		return kindAlarmLow
	case id == 0xfefc:
		return kindDCPHello
	case id == 0xfefd:
		return kindDCPGetSet
	case id == 0xfefe:
		return kindDCPIdentReq
	case id == 0xfeff:
		return kindDCPIdentRes
	case id == 0xff00 || id == 0xff01:
		return kindPTCPAnnounce
	case id == 0xff20 || id == 0xff21:
		return kindPTCPFollowUp
	case id >= 0xff40 && id <= 0xff43:
		return kindPTCPDelay
	case id >= 0xff80 && id <= 0xff8f:
		return kindFragment
	}
	return kindReserved
}

// kindInfo is what the first frame of a counted relation is announced as.
var kindInfo = [...]struct {
	name  string
	class dissect.Class
	rt    string
}{
	kindReserved:     {"reserved_frame", dissect.ClassOther, "reserved"},
	kindPTCPSync:     {"ptcp_sync", dissect.ClassTime, "ptcp"},
	kindRTC3:         {"cyclic_data", dissect.ClassRead, "rt_class_3"},
	kindRTC2:         {"cyclic_data", dissect.ClassRead, "rt_class_2"},
	kindRTC1:         {"cyclic_data", dissect.ClassRead, "rt_class_1"},
	kindAlarmHigh:    {"alarm", dissect.ClassOther, "alarm_high"},
	kindAlarmLow:     {"alarm", dissect.ClassOther, "alarm_low"},
	kindDCPHello:     {"hello", dissect.ClassDiscovery, "dcp"},
	kindDCPGetSet:    {"get_set", dissect.ClassOther, "dcp"},
	kindDCPIdentReq:  {"identify", dissect.ClassDiscovery, "dcp"},
	kindDCPIdentRes:  {"identify", dissect.ClassDiscovery, "dcp"},
	kindPTCPAnnounce: {"ptcp_announce", dissect.ClassTime, "ptcp"},
	kindPTCPFollowUp: {"ptcp_follow_up", dissect.ClassTime, "ptcp"},
	kindPTCPDelay:    {"ptcp_delay", dissect.ClassTime, "ptcp"},
	kindFragment:     {"fragment", dissect.ClassOther, "fragment"},
}

// Malformed-frame reasons.
var (
	errShort    = errors.New("profinet: frame shorter than its header")
	errDCPLen   = errors.New("profinet: DCP data length past the end of the frame")
	errBlock    = errors.New("profinet: DCP block runs past the DCP data")
	errBlockLen = errors.New("profinet: DCP block too short for its option")
	errAlarm    = errors.New("profinet: alarm PDU shorter than its header")
)

// relSize is the capacity of the relation table; relations beyond it are
// counted in Dropped only.
const relSize = 1024

// Relation is the traffic of one real-time relation: the frames with one
// FrameID from one source MAC to one destination MAC.
type Relation struct {
	Src, Dst dissect.MAC
	FrameID  uint16
	VLAN     uint16 // VLAN id of the first frame, 0 if untagged
	Frames   uint64
	First    time.Time
	Last     time.Time
}

// Kind names the relation's frames: "rt_class_1", "rt_class_2",
// "rt_class_3", "ptcp", "fragment", "dcp", "alarm_high", "alarm_low" or
// "reserved".
func (r *Relation) Kind() string { return kindInfo[classify(r.FrameID)].rt }

// Dissector is the PROFINET real-time frame dissector. Every frame is
// counted in its relation; cyclic and PTCP frames emit one operation when
// their relation is first seen, DCP and alarm frames an operation per
// exchange. It is safe for concurrent use.
type Dissector struct {
	mu      sync.Mutex
	rel     [relSize]Relation
	used    [relSize]bool
	n       int
	dropped uint64
	pend    [pendSize]dcpPending
}

// Name returns "profinet".
func (*Dissector) Name() string { return "profinet" }

// Relations appends a copy of every relation counted so far to dst and
// returns it, in table order. Operations are emitted while the table is
// locked: an Emitter fed by this dissector must not call Relations.
func (d *Dissector) Relations(dst []Relation) []Relation {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range d.rel {
		if d.used[i] {
			dst = append(dst, d.rel[i])
		}
	}
	return dst
}

// Dropped returns the number of frames not counted because the relation
// table was full.
func (d *Dissector) Dropped() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dropped
}

// Reset forgets every relation and every pending DCP request.
func (d *Dissector) Reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.rel = [relSize]Relation{}
	d.used = [relSize]bool{}
	d.n = 0
	d.dropped = 0
	d.pend = [pendSize]dcpPending{}
}

// count adds a frame to its relation and reports whether the relation is
// new. The caller holds d.mu.
func (d *Dissector) count(f *dissect.Frame, id uint16) bool {
	h := uint32(2166136261)
	for _, b := range f.SrcMAC {
		h = (h ^ uint32(b)) * 16777619
	}
	for _, b := range f.DstMAC {
		h = (h ^ uint32(b)) * 16777619
	}
	h = (h ^ uint32(id>>8)) * 16777619
	h = (h ^ uint32(id&0xff)) * 16777619
	for i := range uint32(relSize) {
		j := (h + i) % relSize
		r := &d.rel[j]
		if !d.used[j] {
			if d.n >= relSize*3/4 {
				d.dropped++
				return false
			}
			d.used[j] = true
			d.n++
			*r = Relation{Src: f.SrcMAC, Dst: f.DstMAC, FrameID: id, VLAN: f.VLAN, Frames: 1, First: f.Time, Last: f.Time}
			return true
		}
		if r.FrameID == id && r.Src == f.SrcMAC && r.Dst == f.DstMAC {
			r.Frames++
			r.Last = f.Time
			return false
		}
	}
	d.dropped++
	return false
}

// Dissect decodes one PROFINET frame (Payload starts at the FrameID).
func (d *Dissector) Dissect(f *dissect.Frame, ctx *dissect.Context) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(f.Payload) < 2 {
		op := frameOp(f, ctx)
		op.FunctionName = "frame"
		op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: errShort.Error()}
		ctx.Emit(op)
		return
	}
	id := binary.BigEndian.Uint16(f.Payload)
	isNew := d.count(f, id)
	k := classify(id)
	switch k {
	case kindDCPHello, kindDCPGetSet, kindDCPIdentReq, kindDCPIdentRes:
		d.dcp(f, ctx)
		return
	case kindAlarmHigh, kindAlarmLow:
		alarm(f, k, ctx)
		return
	}
	if !isNew {
		return
	}
	info := &kindInfo[k]
	op := frameOp(f, ctx)
	op.FunctionCode = int(id)
	op.FunctionName = info.name
	op.Class = info.class
	op.Request = true
	op.Result.Status = dissect.StatusOK
	op.Attrs = append(op.Attrs, dissect.Attr{Key: "frame_kind", Value: info.rt})
	ctx.Emit(op)
}

// frameOp returns ctx's scratch operation with the frame's sender as
// client and its destination as server.
func frameOp(f *dissect.Frame, ctx *dissect.Context) *dissect.Operation {
	op := ctx.Op("profinet")
	op.Transport = "ethernet"
	op.Client.MAC = f.SrcMAC
	op.Server.MAC = f.DstMAC
	return op
}

// RTA PDU types (IEC 61158-6-10, "PDUType" of the RTA-PDU).
var rtaPDUNames = [...]string{1: "alarm_notification", 2: "alarm_nack", 3: "alarm_ack", 4: "alarm_error", 5: "alarm_free_error"}

// alarmTypeNames are the AlarmType values (IEC 61158-6-10, "AlarmType").
var alarmTypeNames = [...]string{
	0x01: "diagnosis", 0x02: "process", 0x03: "pull", 0x04: "plug", 0x05: "status",
	0x06: "update", 0x07: "media_redundancy", 0x08: "controlled_by_supervisor",
	0x09: "released", 0x0a: "plug_wrong_submodule", 0x0b: "return_of_submodule",
	0x0c: "diagnosis_disappears", 0x0d: "multicast_communication_mismatch",
	0x0e: "port_data_change_notification", 0x0f: "sync_data_changed_notification",
	0x10: "isochronous_mode_problem_notification", 0x11: "network_component_problem_notification",
	0x12: "time_data_changed_notification", 0x13: "dynamic_frame_packing_problem_notification",
	0x14: "mrpd_problem_notification", 0x16: "multiple_interface_mismatch_notification",
	0x1e: "upload_and_retrieval_notification", 0x1f: "pull_module",
}

// alarm decodes an RTA PDU (IEC 61158-6-10, "RTA-PDU"): AlarmDstEndpoint,
// AlarmSrcEndpoint, PDUType, AddFlags, SendSeqNum, AckSeqNum, VarPartLen,
// then for DATA an AlarmNotification block (BlockType, BlockLength,
// BlockVersion, AlarmType, API, SlotNumber, SubslotNumber, ...) and for
// ERR a PNIOStatus.
func alarm(f *dissect.Frame, k frameKind, ctx *dissect.Context) {
	p := f.Payload
	op := frameOp(f, ctx)
	op.FunctionCode = int(binary.BigEndian.Uint16(p))
	op.FunctionName = "alarm"
	op.Class = dissect.ClassOther
	op.Request = true
	op.Attrs = append(op.Attrs, dissect.Attr{Key: "alarm_priority", Value: kindInfo[k].rt})
	if len(p) < 14 {
		op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: errAlarm.Error()}
		ctx.Emit(op)
		return
	}
	op.Result.Status = dissect.StatusOK
	typ := p[6] & 0x0f
	if int(typ) < len(rtaPDUNames) && rtaPDUNames[typ] != "" {
		op.FunctionName = rtaPDUNames[typ]
	}
	varLen := int(binary.BigEndian.Uint16(p[12:]))
	body := p[14:]
	if varLen < len(body) {
		body = body[:varLen]
	}
	switch typ {
	case 1: // DATA-RTA-PDU
		if len(body) >= 18 {
			at := binary.BigEndian.Uint16(body[6:])
			name := "unknown"
			if int(at) < len(alarmTypeNames) && alarmTypeNames[at] != "" {
				name = alarmTypeNames[at]
			}
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "alarm_type", Value: name})
			op.Targets = append(op.Targets,
				dissect.Target{Kind: "slot", Address: uint32(binary.BigEndian.Uint16(body[12:]))},
				dissect.Target{Kind: "subslot", Address: uint32(binary.BigEndian.Uint16(body[14:]))})
		}
	case 4: // ERR-RTA-PDU: PNIOStatus
		if len(body) >= 4 {
			op.Result = pnioStatus(body)
		}
	}
	ctx.Emit(op)
}
