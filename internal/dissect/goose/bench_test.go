package goose

import (
	"strings"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// BenchmarkRetransmission is the steady path of a substation: a publisher
// repeating its state with sqNum counting up (four-octet sqNums, so the
// decimal strings are made one block of 64 at a time).
func BenchmarkRetransmission(b *testing.B) {
	d := New(DefaultOptions)
	m := base()
	m.st, m.sq = 7, 0x01000000
	payload := m.frame()
	i := strings.Index(string(payload), "\x86\x04\x01\x00\x00\x00")
	sq := payload[i+2 : i+6]
	ctx := &dissect.Context{Emitter: dissecttest.Discard, Time: dissecttest.Start}
	f := &dissect.Frame{SrcMAC: ied1, DstMAC: gooseMC, EtherType: EtherTypeGOOSE, Payload: payload}
	n := uint32(0x01000000)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		sq[0], sq[1], sq[2], sq[3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
		n++
		d.Dissect(f, ctx)
	}
}

// BenchmarkStateChange alternates between two states: every frame is a
// state change whose data summary is made again.
func BenchmarkStateChange(b *testing.B) {
	d := New(DefaultOptions)
	var frames [2][]byte
	for i := range frames {
		m := base()
		m.data[0] = encBool(i == 0)
		m.st = 0x01000000 + int64(i)
		frames[i] = m.frame()
	}
	ctx := &dissect.Context{Emitter: dissecttest.Discard, Time: dissecttest.Start}
	f := &dissect.Frame{SrcMAC: ied1, DstMAC: gooseMC, EtherType: EtherTypeGOOSE}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		f.Payload = frames[i&1]
		i++
		d.Dissect(f, ctx)
	}
}

// BenchmarkSV is a merging unit's stream at 4000 frames a second: one
// operation a second, the other frames only counted.
func BenchmarkSV(b *testing.B) {
	d := NewSV(DefaultOptions)
	payload := svFrame(0x4000, 0, -1, asdu{svID: "MU01", datSet: "MU01MU/LLN0$PhsMeas1", conf: 1, rate: 4000})
	ctx := &dissect.Context{Emitter: dissecttest.Discard}
	f := &dissect.Frame{SrcMAC: mergUnit, DstMAC: svMC, EtherType: EtherTypeSV, Payload: payload}
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		f.Time = dissecttest.Start.Add(time.Duration(i) * 250 * time.Microsecond)
		i++
		d.Dissect(f, ctx)
	}
}
