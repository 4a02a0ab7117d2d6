package dissecttest

import (
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"

	"github.com/otwatch/otwatch/internal/dissect"
)

// FrameOp is an operation that carries a capture frame, and whether the
// frame is the operation's response.
type FrameOp struct {
	Op       *dissect.Operation
	Response bool
}

// FrameOps maps the capture frame numbers of the operations' packets to
// the operations that carry them, in order. An operation's last packet is
// its response when it has one, unless that packet is also its only
// request.
func FrameOps(ops []*dissect.Operation) map[uint64][]FrameOp {
	out := map[uint64][]FrameOp{}
	for _, op := range ops {
		for i, p := range op.Packets {
			rsp := op.Response && i == len(op.Packets)-1 && (!op.Request || len(op.Packets) > 1)
			out[p.Frame] = append(out[p.Frame], FrameOp{op, rsp})
		}
	}
	return out
}

// Fact returns the value of op's first identity fact with key, or "".
func Fact(op *dissect.Operation, key string) string {
	for _, f := range op.Identity {
		if f.Key == key {
			return f.Value
		}
	}
	return ""
}

// AttrText returns op's attributes as " key=value" each, in order: the
// tail of the one-line summaries table tests compare.
func AttrText(op *dissect.Operation) string {
	var b strings.Builder
	for _, a := range op.Attrs {
		b.WriteString(" " + a.Key + "=" + a.Value)
	}
	return b.String()
}

// FactText returns op's identity facts as " fact:key=value(server=bool)"
// each, in order.
func FactText(op *dissect.Operation) string {
	var b strings.Builder
	for _, f := range op.Identity {
		fmt.Fprintf(&b, " fact:%s=%s(server=%v)", f.Key, f.Value, f.Server)
	}
	return b.String()
}

// HexExchanges returns the request and response of each exchange, given
// in hex as Hex reads it, as a message from the client and its answer.
func HexExchanges(t testing.TB, exchanges [][2]string) []Message {
	t.Helper()
	out := make([]Message, 0, 2*len(exchanges))
	for _, e := range exchanges {
		out = append(out, C2S(string(Hex(t, e[0]))), S2C(string(Hex(t, e[1]))))
	}
	return out
}

// Datagrams returns the conversation's messages as UDP datagrams, one
// each, between its client and server with the given MAC addresses.
func (c Conversation) Datagrams(clientMAC, serverMAC net.HardwareAddr) []Datagram {
	out := make([]Datagram, 0, len(c.Msgs))
	for _, m := range c.Msgs {
		g := Datagram{Src: c.Server, Dst: c.Client, SrcMAC: serverMAC, DstMAC: clientMAC, Payload: gopacket.Payload(m.Data)}
		if m.ToServer {
			g.Src, g.Dst, g.SrcMAC, g.DstMAC = c.Client, c.Server, clientMAC, serverMAC
		}
		out = append(out, g)
	}
	return out
}
