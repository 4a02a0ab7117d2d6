package goose

import (
	"math"
	"strconv"
	"sync"

	"github.com/otwatch/otwatch/internal/dissect"
)

// EtherTypes of IEC 61850 layer-2 messages (IEC 61850-8-1 Annex C,
// IEC 61850-9-2 Annex C).
const (
	EtherTypeGOOSE = 0x88b8 // GOOSE
	EtherTypeGSE   = 0x88b9 // GSE management
	EtherTypeSV    = 0x88ba // Sampled Values
)

// Options sizes a dissector.
type Options struct {
	// Publishers is how many streams (GOOSE control blocks of a source
	// MAC, or SV streams) the dissector remembers; when it is full, the
	// least recently seen stream of a table set is forgotten.
	Publishers int
}

// DefaultOptions are the options of Default and DefaultSV.
var DefaultOptions = Options{Publishers: 4096}

// Default is the frame dissector registered for GOOSE and GSE management.
var Default = New(DefaultOptions)

// DefaultSV is the frame dissector registered for Sampled Values.
var DefaultSV = NewSV(DefaultOptions)

func init() {
	dissect.RegisterEtherType(Default, EtherTypeGOOSE, EtherTypeGSE)
	dissect.RegisterEtherType(DefaultSV, EtherTypeSV)
}

// Dissector decodes GOOSE and GSE management frames. It keeps the last
// state of each publisher's control block and is safe for concurrent use.
type Dissector struct {
	mu      sync.Mutex
	opts    Options
	pubs    table[publisher]
	scratch []byte
}

// New returns a GOOSE dissector with its own publisher table.
func New(opts Options) *Dissector {
	if opts.Publishers <= 0 {
		opts.Publishers = DefaultOptions.Publishers
	}
	return &Dissector{opts: opts}
}

// Name returns "goose".
func (*Dissector) Name() string { return "goose" }

// Reset forgets every publisher.
func (d *Dissector) Reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pubs = table[publisher]{}
}

// publisher is the remembered state of one GOOSE control block.
type publisher struct {
	datSet, goID                   string
	stNum, sqNum, confRev, entries uint32
	dataHash                       uint64 // FNV-1a of the allData contents
	detail                         string // summary of stNum and allData
	appid                          hexCache
	st, ttl, conf, ent             numCache
	sq                             seqStrings
}

// seqFlags are the sequence findings of a frame against the previous
// frame of its control block.
type seqFlags uint8

// Sequence findings (IEC 61850-7-2 18.2.3: stNum goes up by one on each
// change of a data set member, sqNum by one on each retransmission and
// back to 0 with a new stNum; both roll over after 4294967295).
const (
	seqStNumJump      seqFlags = 1 << iota // stNum went up by more than one
	seqStNumReset                          // stNum went down (restart, replay)
	seqSqNumGap                            // sqNum skipped values
	seqSqNumBackwards                      // sqNum went down with the same stNum
	seqConfRevChange                       // confRev changed
	seqDatasetChange                       // datSet or numDatSetEntries changed
	seqGoIDChange                          // goID changed
	seqDataChange                          // allData changed with the same stNum
)

var seqFlagNames = [...]string{"stnum_jump", "stnum_reset", "sqnum_gap", "sqnum_backwards",
	"confrev_change", "dataset_change", "goid_change", "data_change_without_stnum"}

// seqNames is the "sequence" attribute of each combination of findings:
// their names joined by commas, in seqFlagNames order.
var seqNames [256]string

func init() {
	for f := 1; f < len(seqNames); f++ {
		s := ""
		for i, n := range seqFlagNames {
			if f&(1<<i) != 0 {
				if s != "" {
					s += ","
				}
				s += n
			}
		}
		seqNames[f] = s
	}
}

// Dissect decodes one frame of EtherType 0x88B8 or 0x88B9 and emits one
// operation.
//
// GOOSE: function "publish" (class other) for a retransmission or the
// first frame seen of a control block, "state_change" (class control) when
// stNum differs from the previous frame of the same source MAC and
// gocbRef. Client: the publisher's MAC; server: the destination. Target:
// the data set ("dataset", name datSet, count numDatSetEntries).
// Attributes: gocbRef, datSet, goID (when present), appid, stNum, sqNum,
// ttl, confRev, entries, test and simulation and ndsCom ("true" only when
// set), vlan (when tagged), sequence (findings, comma-separated) and
// violation. Detail summarises stNum and the data set values.
func (d *Dissector) Dissect(f *dissect.Frame, ctx *dissect.Context) {
	op := ctx.Op("goose")
	op.Transport = "ethernet"
	op.Client.MAC = f.SrcMAC
	op.Server.MAC = f.DstMAC
	op.Request = true
	op.FunctionName = "publish"
	h, apdu, err := parseHeader(f.Payload)
	if err == nil && len(apdu) > 0 && apdu[0] == tagGSEMngtPDU {
		management(f, apdu, op)
		ctx.Emit(op)
		return
	}
	if err != nil && f.EtherType == EtherTypeGSE {
		op.FunctionName = "gse_management"
		op.Class = dissect.ClassRead
	}
	var p goosePDU
	if err == nil {
		err = parseGoose(apdu, &p)
	}
	sim := h.reserved1&simBit != 0
	if err == nil && sim && !p.test {
		err = errSimulation
	}
	v, _ := err.(*violation)
	if v != nil && !v.soft {
		if err != errShortHeader {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "appid", Value: hex16(h.appid)})
		}
		if p.gocbRef != nil {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "gocbRef", Value: dissect.Intern(p.gocbRef)})
		}
		malformed(op, v)
		ctx.Emit(op)
		return
	}
	d.mu.Lock()
	d.publish(f, &h, &p, op)
	d.mu.Unlock()
	if v != nil {
		malformed(op, v)
	}
	ctx.Emit(op)
}

// malformed marks op as a protocol violation.
func malformed(op *dissect.Operation, v *violation) {
	op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: v.text}
	op.Attrs = append(op.Attrs, dissect.Attr{Key: "violation", Value: v.code})
}

// publish compares a decoded goosePdu with its control block's previous
// frame, remembers it and fills op. The caller holds d.mu.
func (d *Dissector) publish(f *dissect.Frame, h *header, p *goosePDU, op *dissect.Operation) {
	if d.pubs.slots == nil {
		d.pubs.init(d.opts.Publishers)
		d.scratch = make([]byte, 0, 1024)
	}
	sim := h.reserved1&simBit != 0
	s, found := d.pubs.lookup(f.SrcMAC, sim || p.test, p.gocbRef)
	e := &s.v
	dh := uint64(14695981039346656037)
	for _, c := range p.allData {
		dh = (dh ^ uint64(c)) * 1099511628211
	}
	var flags seqFlags
	change := false
	if found {
		flags, change = sequence(e, p, dh)
	}
	if !found || e.datSet != string(p.datSet) {
		e.datSet = dissect.Intern(p.datSet)
	}
	if !found || e.goID != string(p.goID) {
		e.goID = dissect.Intern(p.goID)
	}
	if e.detail == "" || e.stNum != p.stNum || e.dataHash != dh {
		b := append(d.scratch[:0], "stNum "...)
		b = strconv.AppendUint(b, uint64(p.stNum), 10)
		b = append(b, ", "...)
		b = strconv.AppendUint(b, uint64(p.count), 10)
		b = append(b, " entries: "...)
		b = appendData(b, p.allData, 0)
		e.detail = string(b)
		d.scratch = b[:0]
	}
	e.stNum, e.sqNum, e.confRev, e.entries, e.dataHash = p.stNum, p.sqNum, p.confRev, p.entries, dh

	if change {
		op.FunctionName = "state_change"
		op.Class = dissect.ClassControl
	}
	op.Result.Status = dissect.StatusOK
	op.Targets = append(op.Targets, dissect.Target{Kind: "dataset", Name: e.datSet, Count: p.entries})
	op.Attrs = append(op.Attrs,
		dissect.Attr{Key: "gocbRef", Value: s.name},
		dissect.Attr{Key: "datSet", Value: e.datSet})
	if p.seen&(1<<fGoID) != 0 {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "goID", Value: e.goID})
	}
	op.Attrs = append(op.Attrs,
		dissect.Attr{Key: "appid", Value: e.appid.get(h.appid)},
		dissect.Attr{Key: "stNum", Value: e.st.get(p.stNum)},
		dissect.Attr{Key: "sqNum", Value: e.sq.get(p.sqNum, d.scratch)},
		dissect.Attr{Key: "ttl", Value: e.ttl.get(p.ttl)},
		dissect.Attr{Key: "confRev", Value: e.conf.get(p.confRev)},
		dissect.Attr{Key: "entries", Value: e.ent.get(p.entries)})
	if p.test {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "test", Value: "true"})
	}
	if sim {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "simulation", Value: "true"})
	}
	if p.ndsCom {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "ndsCom", Value: "true"})
	}
	if f.VLAN != 0 {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "vlan", Value: decimal(uint32(f.VLAN))})
	}
	if flags != 0 {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "sequence", Value: seqNames[flags]})
	}
	op.Detail = e.detail
}

// sequence compares a frame with the previous state of its control block
// and reports the findings and whether the state changed (stNum differs).
func sequence(e *publisher, p *goosePDU, dataHash uint64) (flags seqFlags, change bool) {
	if p.stNum == e.stNum {
		switch {
		case p.sqNum == e.sqNum:
			// The same frame again (a duplicate path, PRP).
		case p.sqNum == e.sqNum+1, e.sqNum == math.MaxUint32 && p.sqNum <= 1:
		case p.sqNum > e.sqNum:
			flags |= seqSqNumGap
		default:
			flags |= seqSqNumBackwards
		}
		if dataHash != e.dataHash {
			flags |= seqDataChange
		}
	} else {
		change = true
		switch {
		case p.stNum == e.stNum+1, e.stNum == math.MaxUint32 && p.stNum <= 1:
		case p.stNum > e.stNum:
			flags |= seqStNumJump
		default:
			flags |= seqStNumReset
		}
		// The first frame of a new state has sqNum 0 (Ed.1) or 1 (after
		// a rollover to 1 in Ed.2): a higher one means frames were missed.
		if p.sqNum > 1 {
			flags |= seqSqNumGap
		}
	}
	if p.confRev != e.confRev {
		flags |= seqConfRevChange
	}
	if e.datSet != string(p.datSet) || p.entries != e.entries {
		flags |= seqDatasetChange
	}
	if e.goID != string(p.goID) {
		flags |= seqGoIDChange
	}
	return flags, change
}
