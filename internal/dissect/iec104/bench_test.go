package iec104

import (
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// poll is a realistic monitoring burst: the server sends 8 spontaneous
// M_ME_TF_1 ASDUs (measured value, short float with CP56Time2a), each with
// 4 objects, and the client acknowledges them with one S-format APDU.
type poll struct {
	server []byte
	ack    []byte
	ns     uint16
}

const pollASDUs = 8

func newPoll(t testing.TB) *poll {
	one := dissecttest.Hex(t, "68 46 00 00 00 00 24 04 03 00 14 29"+
		"0b 00 00 00 00 80 3f 00 94 41 17 06 04 07 0d"+
		"0c 00 00 00 00 00 40 00 94 41 17 06 04 07 0d"+
		"0d 00 00 00 00 40 40 00 94 41 17 06 04 07 0d"+
		"0e 00 00 00 00 80 40 00 94 41 17 06 04 07 0d")
	p := &poll{ack: dissecttest.Hex(t, "68 04 01 00 00 00")}
	for range pollASDUs {
		p.server = append(p.server, one...)
	}
	return p
}

// next renumbers the burst so that it follows the previous one.
func (p *poll) next() {
	for i := range pollASDUs {
		c := p.server[i*len(p.server)/pollASDUs+2:]
		c[0], c[1] = byte(p.ns<<1), byte(p.ns>>7)
		p.ns = (p.ns + 1) & seqMod
	}
	p.ack[4], p.ack[5] = byte(p.ns<<1), byte(p.ns>>7)
}

func (p *poll) feed(s dissect.Session, ctx *dissect.Context) {
	p.next()
	s.Feed(dissect.ToClient, p.server, ctx)
	s.Feed(dissect.ToServer, p.ack, ctx)
}

func TestPollAllocs(t *testing.T) {
	flow := dissecttest.Flow(dissect.TransportTCP, Port)
	n := 0
	ctx := dissecttest.Context(flow, dissect.EmitterFunc(func(op *dissect.Operation) {
		if op.Result.Status == dissect.StatusMalformed {
			t.Fatalf("malformed: %s", op.Result.Text)
		}
		n++
	}))
	s := Dissector{}.NewSession(flow)
	p := newPoll(t)
	p.feed(s, ctx)
	if n != pollASDUs {
		t.Fatalf("%d operations per burst, want %d", n, pollASDUs)
	}
	if a := testing.AllocsPerRun(200, func() { p.feed(s, ctx) }); a != 0 {
		t.Errorf("%v allocations per burst, want 0", a)
	}
}

func BenchmarkPoll(b *testing.B) {
	flow := dissecttest.Flow(dissect.TransportTCP, Port)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	s := Dissector{}.NewSession(flow)
	p := newPoll(b)
	b.SetBytes(int64(len(p.server) + len(p.ack)))
	b.ReportAllocs()
	for b.Loop() {
		p.feed(s, ctx)
	}
}

func BenchmarkCommand(b *testing.B) {
	flow := dissecttest.Flow(dissect.TransportTCP, Port)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	s := Dissector{}.NewSession(flow)
	act := dissecttest.Hex(b, "68 0e 00 00 00 00 2d 01 06 00 0a 00 02 00 00 01")
	con := dissecttest.Hex(b, "68 0e 00 00 00 00 2d 01 07 00 0a 00 02 00 00 01")
	term := dissecttest.Hex(b, "68 0e 00 00 00 00 2d 01 0a 00 0a 00 02 00 00 01")
	var cs, ss uint16
	set := func(a []byte, ns, nr uint16) {
		a[2], a[3], a[4], a[5] = byte(ns<<1), byte(ns>>7), byte(nr<<1), byte(nr>>7)
	}
	b.ReportAllocs()
	for b.Loop() {
		set(act, cs, ss)
		cs = (cs + 1) & seqMod
		s.Feed(dissect.ToServer, act, ctx)
		set(con, ss, cs)
		ss = (ss + 1) & seqMod
		s.Feed(dissect.ToClient, con, ctx)
		set(term, ss, cs)
		ss = (ss + 1) & seqMod
		s.Feed(dissect.ToClient, term, ctx)
	}
}
