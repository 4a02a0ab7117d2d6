package dissecttest

import (
	"slices"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
)

// Chunk is one datagram or stream chunk of a test flow: its direction, its
// capture time as an offset from Start and its bytes as hex (see Hex).
type Chunk struct {
	Dir dissect.Direction
	At  time.Duration
	Hex string
}

// Run feeds the chunks to a new session of d on a flow of transport to
// port, chunk i as packet i captured at Start plus its At, closes the
// session and returns the operations it emitted. It fails the test when
// the session returns an error.
func Run(t testing.TB, d dissect.Dissector, transport dissect.Transport, port uint16, chunks []Chunk) []*dissect.Operation {
	t.Helper()
	var c Collector
	flow := Flow(transport, port)
	f := &Feeder{Session: d.NewSession(flow), Ctx: Context(flow, &c)}
	for i, ch := range chunks {
		f.Ctx.Packet.Index = uint64(i)
		f.Ctx.Time = Start.Add(ch.At)
		f.Feed(ch.Dir, Hex(t, ch.Hex))
	}
	f.Session.Close(f.Ctx)
	if f.Err != nil {
		t.Fatalf("feed: %v", f.Err)
	}
	return c.Ops
}

// Want is what a test expects of one operation. Attrs lists only the
// attributes to check; nil Targets and Facts and a zero Packets are not
// checked.
type Want struct {
	Fn       string
	Code     int
	Class    dissect.Class
	Req, Rsp bool
	Status   dissect.Status
	RCode    int // Result.Code
	Text     string
	Attrs    map[string]string
	Targets  []dissect.Target
	Facts    []dissect.Fact
	Packets  int
}

// Expect fails the test unless ops are, in order, operations of protocol
// that match wants.
func Expect(t testing.TB, protocol string, ops []*dissect.Operation, wants []Want) {
	t.Helper()
	if len(ops) != len(wants) {
		for _, op := range ops {
			t.Logf("%s %#x %v %q %v", op.FunctionName, op.FunctionCode, op.Result.Status, op.Result.Text, op.Attrs)
		}
		t.Fatalf("%d operations, want %d", len(ops), len(wants))
	}
	for i, w := range wants {
		op := ops[i]
		if op.Protocol != protocol || op.FunctionName != w.Fn || op.FunctionCode != w.Code || op.Class != w.Class {
			t.Errorf("op %d: %s %s (%#x) %v, want %s %s (%#x) %v", i, op.Protocol, op.FunctionName, op.FunctionCode, op.Class, protocol, w.Fn, w.Code, w.Class)
		}
		if op.Request != w.Req || op.Response != w.Rsp {
			t.Errorf("op %d %s: request %v response %v, want %v %v", i, w.Fn, op.Request, op.Response, w.Req, w.Rsp)
		}
		if op.Result.Status != w.Status || op.Result.Code != w.RCode || op.Result.Text != w.Text {
			t.Errorf("op %d %s: result %+v, want %v %#x %q", i, w.Fn, op.Result, w.Status, w.RCode, w.Text)
		}
		for k, v := range w.Attrs {
			if got := op.Attr(k); got != v {
				t.Errorf("op %d %s: attr %s = %q, want %q", i, w.Fn, k, got, v)
			}
		}
		if w.Targets != nil && !slices.Equal(op.Targets, w.Targets) {
			t.Errorf("op %d %s: targets %+v, want %+v", i, w.Fn, op.Targets, w.Targets)
		}
		if w.Facts != nil && !slices.Equal(op.Identity, w.Facts) {
			t.Errorf("op %d %s: identity %+v, want %+v", i, w.Fn, op.Identity, w.Facts)
		}
		if w.Packets != 0 && len(op.Packets) != w.Packets {
			t.Errorf("op %d %s: packets %v, want %d", i, w.Fn, op.Packets, w.Packets)
		}
	}
}
