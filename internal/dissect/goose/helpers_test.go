package goose

import (
	"encoding/binary"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// The encoders below write BER (ITU-T X.690, with dissecttest.BER) by the
// rules, independently of the decoder: INTEGERs in the fewest two's
// complement octets (8.3.2).

func berInt(id byte, v int64) []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(v))
	for len(b) > 1 && ((b[0] == 0 && b[1]&0x80 == 0) || (b[0] == 0xff && b[1]&0x80 != 0)) {
		b = b[1:]
	}
	return dissecttest.BER(id, b)
}

func berStr(id byte, s string) []byte { return dissecttest.BER(id, []byte(s)) }

func berBool(id byte, v bool) []byte {
	if v {
		return dissecttest.BER(id, []byte{1})
	}
	return dissecttest.BER(id, []byte{0})
}

// Data elements (IEC 61850-8-1 Annex A, Data CHOICE).
func encBool(v bool) []byte                 { return berBool(0x83, v) }
func encBits(unused byte, b ...byte) []byte { return dissecttest.BER(0x84, []byte{unused}, b) }
func encInt(v int64) []byte                 { return berInt(0x85, v) }
func encUint(v int64) []byte                { return berInt(0x86, v) }
func encVis(s string) []byte                { return berStr(0x8a, s) }
func encOctets(b ...byte) []byte            { return dissecttest.BER(0x89, b) }
func encStruct(parts ...[]byte) []byte      { return dissecttest.BER(0xa2, parts...) }
func encArray(parts ...[]byte) []byte       { return dissecttest.BER(0xa1, parts...) }

// dFloat encodes a FLOAT32 as 8-1 8.1.3.4 says: exponent width 8, then the
// IEEE 754 single.
func encFloat(f float32) []byte {
	return dissecttest.BER(0x87, []byte{8}, binary.BigEndian.AppendUint32(nil, math.Float32bits(f)))
}

// utc encodes a UtcTime (8-1 8.1.3.7): seconds, 24-bit fraction, quality.
func utc(t time.Time, quality byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(t.Unix()))
	frac := uint32(uint64(t.Nanosecond()) << 24 / 1e9)
	return append(b, byte(frac>>16), byte(frac>>8), byte(frac), quality)
}

// msg is a GOOSE message to encode.
type msg struct {
	appid, res1     uint16
	gocbRef, datSet string
	goID            string // omitted when empty
	ttl, st, sq     int64
	conf            int64
	test, nds       bool
	entries         int // numDatSetEntries; -1: the number of data
	data            [][]byte
}

// base is a typical message: 3 entries, stNum 1, sqNum 0.
func base() msg {
	return msg{appid: 0x0001, gocbRef: "IED1LD0/LLN0$GO$gcb01", datSet: "IED1LD0/LLN0$DS1", goID: "gcb01",
		ttl: 2000, st: 1, sq: 0, conf: 1, entries: -1,
		data: [][]byte{encBool(true), encBits(6, 0x80), encFloat(230.5)}}
}

// pdu encodes the goosePdu (IEC 61850-8-1 Annex A, IECGoosePdu).
func (m msg) pdu() []byte {
	n := m.entries
	if n < 0 {
		n = len(m.data)
	}
	fields := [][]byte{berStr(0x80, m.gocbRef), berInt(0x81, m.ttl), berStr(0x82, m.datSet)}
	if m.goID != "" {
		fields = append(fields, berStr(0x83, m.goID))
	}
	fields = append(fields, dissecttest.BER(0x84, utc(dissecttest.Start, 0x0a)), berInt(0x85, m.st), berInt(0x86, m.sq),
		berBool(0x87, m.test), berInt(0x88, m.conf), berBool(0x89, m.nds), berInt(0x8a, int64(n)),
		dissecttest.BER(0xab, m.data...))
	return dissecttest.BER(0x61, fields...)
}

// frame prefixes an APDU with the 8-octet header (8-1 Annex C).
func frame(appid, res1 uint16, apdu []byte) []byte {
	h := binary.BigEndian.AppendUint16(nil, appid)
	h = binary.BigEndian.AppendUint16(h, uint16(8+len(apdu)))
	h = binary.BigEndian.AppendUint16(h, res1)
	h = binary.BigEndian.AppendUint16(h, 0)
	return append(h, apdu...)
}

func (m msg) frame() []byte { return frame(m.appid, m.res1, m.pdu()) }

var (
	ied1     = dissect.MAC{0x00, 0x09, 0x8e, 0x00, 0x00, 0x01}
	ied2     = dissect.MAC{0x00, 0x09, 0x8e, 0x00, 0x00, 0x02}
	gooseMC  = dissect.MAC{0x01, 0x0c, 0xcd, 0x01, 0x00, 0x01}
	svMC     = dissect.MAC{0x01, 0x0c, 0xcd, 0x04, 0x00, 0x01}
	mergUnit = dissect.MAC{0x00, 0x50, 0xc2, 0x4f, 0x90, 0x01}
)

// in is one frame handed to a dissector.
type in struct {
	src     dissect.MAC
	payload []byte
	vlan    uint16
	at      time.Duration // after dissecttest.Start
	et      uint16        // 0: GOOSE
}

// run dissects frames with fd and returns copies of the operations.
func run(t testing.TB, fd dissect.FrameDissector, frames ...in) []*dissect.Operation {
	t.Helper()
	var c dissecttest.Collector
	for i, f := range frames {
		et := f.et
		if et == 0 {
			et = EtherTypeGOOSE
		}
		dst := gooseMC
		if et == EtherTypeSV {
			dst = svMC
		}
		ctx := &dissect.Context{Emitter: &c, Time: dissecttest.Start.Add(f.at), Packet: dissect.PacketRef{Frame: uint64(i + 1)}}
		fd.Dissect(&dissect.Frame{Time: ctx.Time, SrcMAC: f.src, DstMAC: dst, EtherType: et, VLAN: f.vlan,
			Payload: f.payload, Packet: ctx.Packet}, ctx)
	}
	return c.Ops
}

// attrs renders every attribute as "key=value" joined by spaces.
func attrs(op *dissect.Operation) string {
	var parts []string
	for _, a := range op.Attrs {
		parts = append(parts, a.Key+"="+a.Value)
	}
	return strings.Join(parts, " ")
}

// unsafeData returns the address of a string's bytes.
func unsafeData(s string) *byte { return unsafe.StringData(s) }

// mallocsPerRun is testing.AllocsPerRun without its rounding down to an
// integer: the exact mean number of allocations per call of f.
func mallocsPerRun(runs int, f func()) float64 {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	f()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		f()
	}
	runtime.ReadMemStats(&after)
	return float64(after.Mallocs-before.Mallocs) / float64(runs)
}

// asdu is one Sampled Values ASDU to encode (IEC 61850-9-2 8.5.2, with the
// fixed-size smpCnt and confRev of 9-2 LE).
type asdu struct {
	svID, datSet string // datSet omitted when empty
	smpCnt       uint16
	conf         uint32
	rate         int64 // smpRate, omitted when 0
}

func (a asdu) enc() []byte {
	fields := [][]byte{berStr(0x80, a.svID)}
	if a.datSet != "" {
		fields = append(fields, berStr(0x81, a.datSet))
	}
	fields = append(fields, dissecttest.BER(0x82, []byte{byte(a.smpCnt >> 8), byte(a.smpCnt)}),
		dissecttest.BER(0x83, binary.BigEndian.AppendUint32(nil, a.conf)), dissecttest.BER(0x85, []byte{2}))
	if a.rate != 0 {
		fields = append(fields, berInt(0x86, a.rate))
	}
	// seqData: 8 channels of INT32 value and quality.
	fields = append(fields, dissecttest.BER(0x87, make([]byte, 64)))
	return dissecttest.BER(0x30, fields...)
}

// svFrame encodes a savPdu with noASDU n (-1: the number of ASDUs).
func svFrame(appid, res1 uint16, n int, asdus ...asdu) []byte {
	if n < 0 {
		n = len(asdus)
	}
	var seq [][]byte
	for _, a := range asdus {
		seq = append(seq, a.enc())
	}
	return frame(appid, res1, dissecttest.BER(0x60, berInt(0x80, int64(n)), dissecttest.BER(0xa2, seq...)))
}

// GSE management PDUs (IEC 61850-8-1 Annex A, GSEMngtPdu).
func mngtRequest(stateID int64, service byte, ident string, offsets ...int64) []byte {
	var list [][]byte
	for _, o := range offsets {
		list = append(list, berInt(0x02, o))
	}
	return frame(0, 0, dissecttest.BER(0x60, berInt(0x80, stateID), dissecttest.BER(0xa1, dissecttest.BER(0xa0|service, berStr(0x80, ident), dissecttest.BER(0xa1, list...)))))
}

func mngtResponse(stateID int64, service byte, ident string, conf int64, datSet string, offsets ...int64) []byte {
	var list [][]byte
	for _, o := range offsets {
		list = append(list, berInt(0x80, o))
	}
	return frame(0, 0, dissecttest.BER(0x60, berInt(0x80, stateID), dissecttest.BER(0xa2, dissecttest.BER(0xa0|service, berStr(0x80, ident), berInt(0x81, conf),
		dissecttest.BER(0xa2, berStr(0x80, datSet), dissecttest.BER(0xa1, list...))))))
}

func mngtNegative(stateID int64, service byte, ident string, code int64) []byte {
	return frame(0, 0, dissecttest.BER(0x60, berInt(0x80, stateID), dissecttest.BER(0xa2, dissecttest.BER(0xa0|service, berStr(0x80, ident), berInt(0x83, code)))))
}
