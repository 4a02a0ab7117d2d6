package goose

import (
	"sync"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
)

// SVDissector recognises Sampled Values (IEC 61850-9-2) frames. A merging
// unit publishes thousands of frames a second per stream, so it reports
// each stream (source MAC, svID) at most once per svInterval, and at once
// when its confRev or datSet changes. It is safe for concurrent use.
type SVDissector struct {
	mu      sync.Mutex
	opts    Options
	streams table[svStream]
}

// svInterval is the least time between two operations of one stream.
const svInterval = time.Second

// NewSV returns a Sampled Values dissector with its own stream table.
func NewSV(opts Options) *SVDissector {
	if opts.Publishers <= 0 {
		opts.Publishers = DefaultOptions.Publishers
	}
	return &SVDissector{opts: opts}
}

// Name returns "sv".
func (*SVDissector) Name() string { return "sv" }

// Reset forgets every stream.
func (d *SVDissector) Reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.streams = table[svStream]{}
}

// svStream is the remembered state of one SV stream.
type svStream struct {
	last, lastBad time.Time // last operation, last malformed operation
	sent, sentBad bool      // last, lastBad are set
	frames        uint64    // frames since the last operation
	confRev       uint32
	datSet        string
}

// savPDU is the part of a savPdu reported (IEC 61850-9-2 8.5.1): the
// header and the first ASDU.
type savPDU struct {
	noASDU          uint32
	asdus           int
	svID, datSet    []byte
	smpCnt, confRev uint32
	smpRate         uint32
	hasRate         bool
}

// Violations of savPdus.
var (
	errSavPDU   = &violation{code: "unknown_apdu", text: "goose: Sampled Values APDU is not a savPdu (0x60)"}
	errSavField = &violation{code: "missing_field", text: "goose: savPdu without noASDU and seqASDU, or an ASDU without svID, smpCnt, confRev and seqData"}
	errASDU     = &violation{code: "bad_asdu", text: "goose: seqASDU element that is not an ASDU SEQUENCE"}
	errNoASDU   = &violation{code: "asdu_count_mismatch", text: "goose: noASDU differs from the number of ASDUs", soft: true}
)

// parseSV decodes a savPdu:
//
//	SavPdu ::= [APPLICATION 0] SEQUENCE { noASDU [0] INTEGER(0..65535),
//	    security [1] ANY OPTIONAL, seqASDU [2] SEQUENCE OF ASDU }
//	ASDU ::= SEQUENCE { svID [0] VisibleString, datSet [1] OPTIONAL,
//	    smpCnt [2] INTEGER16U, confRev [3] INTEGER32U, refrTm [4] OPTIONAL,
//	    smpSynch [5], smpRate [6] OPTIONAL, seqData [7] OCTET STRING,
//	    smpMod [8] OPTIONAL, gmidData [9] OPTIONAL }
func parseSV(apdu []byte, p *savPDU) error {
	*p = savPDU{}
	e, _, err := next(apdu)
	if err != nil {
		return err
	}
	if e.id != tagSavPDU {
		return errSavPDU
	}
	seen := 0
	for b := e.val; len(b) > 0; {
		f, rest, err := next(b)
		if err != nil {
			return err
		}
		b = rest
		switch {
		case f.context(0) && !f.constructed():
			v, err := unsigned32(f.val)
			if err != nil {
				return err
			}
			p.noASDU = v
			seen |= 1
		case f.context(2) && f.constructed():
			seen |= 2
			for a := f.val; len(a) > 0; {
				asdu, rest, err := next(a)
				if err != nil {
					return err
				}
				a = rest
				if asdu.id != classUniversal|constructed|16 {
					return errASDU
				}
				p.asdus++
				if err := parseASDU(asdu.val, p, p.asdus == 1); err != nil {
					return err
				}
			}
		}
	}
	if seen != 3 {
		return errSavField
	}
	if uint64(p.asdus) != uint64(p.noASDU) {
		return errNoASDU
	}
	return nil
}

// parseASDU checks one ASDU, keeping its fields in p when first is set.
func parseASDU(b []byte, p *savPDU, first bool) error {
	seen := 0
	for len(b) > 0 {
		f, rest, err := next(b)
		if err != nil {
			return err
		}
		b = rest
		if f.class() != classContext {
			return errFieldClass
		}
		if f.constructed() {
			return errEncoding
		}
		if f.tag < 16 {
			seen |= 1 << f.tag
		}
		if !first {
			continue
		}
		switch f.tag {
		case 0:
			p.svID = f.val
		case 1:
			p.datSet = f.val
		case 2, 3, 6:
			v, err := unsigned32(f.val)
			if err != nil {
				return err
			}
			switch f.tag {
			case 2:
				p.smpCnt = v
			case 3:
				p.confRev = v
			default:
				p.smpRate, p.hasRate = v, true
			}
		}
	}
	const need = 1<<0 | 1<<2 | 1<<3 | 1<<7
	if seen&need != need {
		return errSavField
	}
	return nil
}

// Dissect decodes one Sampled Values frame. It emits "sv_publish" (class
// other, client the merging unit, server the destination) for the first
// frame of a stream, then at most once a second, and at once when confRev
// or datSet change ("sequence" confrev_change, dataset_change). Target: the
// data set when the ASDU names it. Attributes: svID, datSet, appid,
// smpCnt, confRev, smpRate, asdus (noASDU), frames (since the previous
// operation of the stream), simulation ("true" only when set), vlan,
// sequence. Malformed frames are reported at most once a second per
// stream too.
func (d *SVDissector) Dissect(f *dissect.Frame, ctx *dissect.Context) {
	h, apdu, err := parseHeader(f.Payload)
	var p savPDU
	if err == nil {
		err = parseSV(apdu, &p)
	}
	sim := h.reserved1&simBit != 0
	v, _ := err.(*violation)
	hard := v != nil && !v.soft

	d.mu.Lock()
	if d.streams.slots == nil {
		d.streams.init(d.opts.Publishers)
	}
	s, found := d.streams.lookup(f.SrcMAC, sim, p.svID)
	e := &s.v
	e.frames++
	var flags seqFlags
	if !hard && found {
		if p.confRev != e.confRev {
			flags |= seqConfRevChange
		}
		if e.datSet != string(p.datSet) {
			flags |= seqDatasetChange
		}
	}
	last, sent := &e.last, &e.sent
	if v != nil {
		last, sent = &e.lastBad, &e.sentBad
	}
	if flags == 0 && *sent && f.Time.Sub(*last) < svInterval && !f.Time.Before(*last) {
		d.mu.Unlock()
		return
	}
	*last, *sent = f.Time, true
	frames := e.frames
	e.frames = 0
	if !hard {
		e.confRev = p.confRev
		if e.datSet != string(p.datSet) {
			e.datSet = dissect.Intern(p.datSet)
		}
	}
	datSet := e.datSet
	d.mu.Unlock()

	op := ctx.Op("sv")
	op.Transport = "ethernet"
	op.Client.MAC = f.SrcMAC
	op.Server.MAC = f.DstMAC
	op.Request = true
	op.FunctionName = "sv_publish"
	op.Result.Status = dissect.StatusOK
	if err != errShortHeader {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "appid", Value: hex16(h.appid)})
	}
	if p.svID != nil {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "svID", Value: s.name})
	}
	if !hard {
		if p.datSet != nil {
			op.Targets = append(op.Targets, dissect.Target{Kind: "dataset", Name: datSet})
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "datSet", Value: datSet})
		}
		op.Attrs = append(op.Attrs,
			dissect.Attr{Key: "smpCnt", Value: decimal(p.smpCnt)},
			dissect.Attr{Key: "confRev", Value: decimal(p.confRev)},
			dissect.Attr{Key: "asdus", Value: decimal(p.noASDU)})
		if p.hasRate {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "smpRate", Value: decimal(p.smpRate)})
		}
	}
	op.Attrs = append(op.Attrs, dissect.Attr{Key: "frames", Value: decimal(uint32(min(frames, 1<<32-1)))})
	if sim {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "simulation", Value: "true"})
	}
	if f.VLAN != 0 {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "vlan", Value: decimal(uint32(f.VLAN))})
	}
	if flags != 0 {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "sequence", Value: seqNames[flags]})
	}
	if v != nil {
		malformed(op, v)
	}
	ctx.Emit(op)
}
