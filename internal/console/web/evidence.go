package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/otwatch/otwatch/internal/capture"
	"github.com/otwatch/otwatch/internal/decode"
	"github.com/otwatch/otwatch/internal/dissect"
	_ "github.com/otwatch/otwatch/internal/dissect/all" // every dissector, to decode evidence
	"github.com/otwatch/otwatch/internal/dissect/service"
	"github.com/otwatch/otwatch/internal/pipeline"
)

// maxEvidencePackets bounds the packets of an evidence file decoded for a
// page.
const maxEvidencePackets = 5000

// packetRow is one evidence packet, decoded.
type packetRow struct {
	No       int
	Time     time.Time
	Delta    string // since the first packet
	Src, Dst string
	Protocol string
	Length   int
	Info     string
	Fields   []kv // the fields of the operation the packet carried
	Trigger  bool // part of the operation that triggered the alert
}

// frameInfo is what the decoder says about one frame.
type frameInfo struct {
	ts        time.Time
	length    int
	network   decode.Network
	src, dst  string
	transport uint8
	sport     uint16
	dport     uint16
	flags     uint8
	seq, ack  uint32
	payload   int
	arp       decode.ARP
	etherType uint16
	icmpType  uint8
	icmpCode  uint8
	malformed bool
}

// collector observes the pipeline: the frames as decoded, and the
// operations with the frames that carried them.
type collector struct {
	frames []frameInfo
	ops    []*dissect.Operation
}

// Packet implements pipeline.Observer.
func (c *collector) Packet(p *decode.Packet, err error) {
	fi := frameInfo{ts: p.Timestamp, length: p.Length, network: p.Network, transport: p.Transport, sport: p.SrcPort, dport: p.DstPort,
		flags: p.TCPFlags, seq: p.Seq, ack: p.Ack, payload: len(p.Payload), arp: p.ARP, etherType: p.EtherType,
		icmpType: p.ICMPType, icmpCode: p.ICMPCode, malformed: err != nil}
	switch {
	case p.SrcIP.IsValid():
		fi.src, fi.dst = p.SrcIP.String(), p.DstIP.String()
	case p.HasMAC:
		fi.src, fi.dst = macText(p.SrcMAC), macText(p.DstMAC)
	}
	c.frames = append(c.frames, fi)
}

// Emit implements dissect.Emitter: it keeps a copy of the operation.
func (c *collector) Emit(op *dissect.Operation) {
	o := *op
	o.Targets = slices.Clone(op.Targets)
	o.Identity = slices.Clone(op.Identity)
	o.Attrs = slices.Clone(op.Attrs)
	o.Packets = slices.Clone(op.Packets)
	c.ops = append(c.ops, &o)
}

func macText(m [6]byte) string { return dissect.MAC(m).String() }

// decodeEvidence decodes a capture file (pcapng or pcap) of an alert's
// evidence: each packet's time, addresses and protocol, and the fields of
// the operation it carried, marking the packets of the operation that
// matches trigger (the alert's triggering operation, nil if none). It
// returns the packets read before an error in the file along with it.
func decodeEvidence(b []byte, trigger *dissect.Operation) ([]packetRow, error) {
	src, err := capture.NewReader(bytes.NewReader(b), "evidence")
	if err != nil {
		return nil, fmt.Errorf("web: reading evidence: %w", err)
	}
	defer src.Close()
	c := &collector{}
	opts := pipeline.DefaultOptions
	opts.Observer, opts.Emitter, opts.NoService = c, c, true
	p := pipeline.New(opts)
	var readErr error
	for n := 0; n < maxEvidencePackets; n++ {
		pkt, err := src.ReadPacket()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			readErr = err
			break
		}
		p.Process(pkt)
	}
	p.Close()

	byFrame := make(map[int]*dissect.Operation)
	for _, op := range c.ops {
		for _, ref := range op.Packets {
			if ref.Frame > 0 && byFrame[int(ref.Frame)] == nil {
				byFrame[int(ref.Frame)] = op
			}
		}
	}
	trig := triggerOp(c.ops, trigger)
	rows := make([]packetRow, len(c.frames))
	var first time.Time
	for i, f := range c.frames {
		if i == 0 {
			first = f.ts
		}
		row := packetRow{No: i + 1, Time: f.ts, Delta: fmt.Sprintf("%.6f", f.ts.Sub(first).Seconds()), Src: f.src, Dst: f.dst, Length: f.length}
		if f.sport != 0 || f.dport != 0 {
			row.Src += ":" + strconv.Itoa(int(f.sport))
			row.Dst += ":" + strconv.Itoa(int(f.dport))
		}
		row.Protocol, row.Info = frameSummary(&f)
		if op := byFrame[i+1]; op != nil {
			row.Protocol = op.Protocol
			row.Info = opInfo(op)
			row.Fields = operationFields(op)
			row.Trigger = op == trig
		}
		rows[i] = row
	}
	if readErr != nil {
		return rows, readErr
	}
	return rows, nil
}

// triggerOp returns the decoded operation that is the alert's trigger:
// same protocol, function and endpoints' addresses, closest in time.
func triggerOp(ops []*dissect.Operation, trigger *dissect.Operation) *dissect.Operation {
	if trigger == nil {
		return nil
	}
	var best *dissect.Operation
	var bestD time.Duration
	for _, op := range ops {
		if op.Protocol != trigger.Protocol || op.FunctionCode != trigger.FunctionCode || op.FunctionName != trigger.FunctionName ||
			op.Client.IP != trigger.Client.IP || op.Server.IP != trigger.Server.IP {
			continue
		}
		d := op.Time.Sub(trigger.Time).Abs()
		if best == nil || d < bestD {
			best, bestD = op, d
		}
	}
	return best
}

// opInfo is the one-line summary of an operation in the packet list.
func opInfo(op *dissect.Operation) string {
	var b strings.Builder
	fn := op.FunctionName
	if fn == "" {
		fn = "function " + strconv.Itoa(op.FunctionCode)
	}
	b.WriteString(fn)
	for i, t := range op.Targets {
		if i == 3 {
			fmt.Fprintf(&b, " and %d more", len(op.Targets)-3)
			break
		}
		b.WriteString(", " + targetText(t))
	}
	if op.Result.Status != dissect.StatusUnknown {
		b.WriteString(" → " + op.Result.Status.String())
		if op.Result.Text != "" {
			b.WriteString(" (" + op.Result.Text + ")")
		}
	}
	for i, a := range op.Attrs {
		if i == 4 {
			b.WriteString(" …")
			break
		}
		b.WriteString(" " + a.Key + "=" + a.Value)
	}
	return b.String()
}

// tcpFlagNames name the TCP flag bits, in the order tools print them.
var tcpFlagNames = []struct {
	bit  uint8
	name string
}{
	{decode.TCPFlagSYN, "SYN"}, {decode.TCPFlagFIN, "FIN"}, {decode.TCPFlagRST, "RST"}, {decode.TCPFlagPSH, "PSH"},
	{decode.TCPFlagACK, "ACK"}, {decode.TCPFlagURG, "URG"},
}

// frameSummary names a frame's protocol and sums up its headers, for
// frames that carried no operation.
func frameSummary(f *frameInfo) (string, string) {
	if f.malformed && f.network == decode.NetNone {
		return "?", "malformed frame"
	}
	switch f.transport {
	case decode.ProtoTCP:
		var flags []string
		for _, fl := range tcpFlagNames {
			if f.flags&fl.bit != 0 {
				flags = append(flags, fl.name)
			}
		}
		proto := "TCP"
		if n := portName(dissect.TransportTCP, f.sport, f.dport); n != "" && f.payload > 0 {
			proto = n
		}
		return proto, fmt.Sprintf("%d → %d [%s] Seq=%d Ack=%d Len=%d", f.sport, f.dport, strings.Join(flags, ", "), f.seq, f.ack, f.payload)
	case decode.ProtoUDP:
		proto := "UDP"
		if n := portName(dissect.TransportUDP, f.sport, f.dport); n != "" {
			proto = n
		}
		return proto, fmt.Sprintf("%d → %d Len=%d", f.sport, f.dport, f.payload)
	case decode.ProtoICMP, decode.ProtoICMPv6:
		name := "ICMP"
		if f.transport == decode.ProtoICMPv6 {
			name = "ICMPv6"
		}
		return name, fmt.Sprintf("type %d code %d", f.icmpType, f.icmpCode)
	}
	switch f.network {
	case decode.NetARP:
		if f.arp.Operation == 1 {
			return "ARP", fmt.Sprintf("Who has %s? Tell %s", f.arp.TargetIP, f.arp.SenderIP)
		}
		return "ARP", fmt.Sprintf("%s is at %s", f.arp.SenderIP, macText(f.arp.SenderMAC))
	case decode.NetIPv4:
		return "IPv4", "protocol " + strconv.Itoa(int(f.transport))
	case decode.NetIPv6:
		return "IPv6", "next header " + strconv.Itoa(int(f.transport))
	}
	return fmt.Sprintf("0x%04x", f.etherType), "layer 2 frame"
}

// portName names the service of the lower well-known port of a flow.
func portName(t dissect.Transport, a, b uint16) string {
	for _, p := range []uint16{min(a, b), max(a, b)} {
		if n := service.Name(t, p); n != "" {
			return n
		}
	}
	return ""
}
