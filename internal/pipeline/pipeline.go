package pipeline

import (
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/otwatch/otwatch/internal/capture"
	"github.com/otwatch/otwatch/internal/decode"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/service"
	"github.com/otwatch/otwatch/internal/flow"
	"github.com/otwatch/otwatch/internal/reassembly"
)

// maxProbes is how many payloads of a flow on an unclaimed port are shown
// to the content probes before the flow is left to the service operation.
const maxProbes = 4

// Observer sees every frame after decoding, before dispatch. p and its
// slices are valid only during the call; err is the decode error, if any.
type Observer interface {
	Packet(p *decode.Packet, err error)
}

// Evidence keeps frames so that alerts can later export the packets around
// their trigger. evidence.Ring implements it. data is valid only during the
// call: an implementation copies what it keeps.
type Evidence interface {
	Add(flow, index uint64, ts time.Time, linkType layers.LinkType, data []byte, wireLen int)
}

// Options configures a Pipeline.
type Options struct {
	Decode     decode.Options
	Flows      flow.Options
	Reassembly reassembly.Options
	// Evidence, if set, keeps the recent packets of every flow.
	Evidence Evidence
	// Emitter receives every operation; nil discards them.
	Emitter dissect.Emitter
	// Observer, if set, sees every decoded frame.
	Observer Observer
	// NoService turns off the per-flow "service" operations.
	NoService bool
}

// DefaultOptions are the defaults of every stage.
var DefaultOptions = Options{
	Decode:     decode.DefaultOptions,
	Flows:      flow.DefaultOptions,
	Reassembly: reassembly.DefaultOptions,
}

// Stats counts the pipeline's work.
type Stats struct {
	Packets    uint64 // frames processed
	Bytes      uint64 // captured bytes processed
	Malformed  uint64 // frames whose headers could not be decoded
	Operations uint64 // operations emitted
	Sessions   uint64 // dissector sessions started
	Probed     uint64 // sessions started by content probe
	Gaps       uint64 // stream gaps reported to sessions
	GapBytes   uint64 // bytes lost in those gaps
	Failed     uint64 // sessions stopped after an error
	Panics     uint64 // dissector panics recovered
	Decode     decode.Stats
	Flows      flow.Stats
}

// Pipeline processes frames one at a time. It is not safe for concurrent
// use.
type Pipeline struct {
	opts  Options
	dec   *decode.Decoder
	pkt   decode.Packet
	flows *flow.Table[*stream]
	ring  Evidence
	ctx   dissect.Context
	frame dissect.Frame
	count countingEmitter
	stats Stats

	lastExpire time.Time
	free       []*stream
	l2index    map[[6]byte]uint64
}

// countingEmitter counts operations on their way to the real emitter.
type countingEmitter struct {
	next dissect.Emitter
	n    uint64
}

func (c *countingEmitter) Emit(op *dissect.Operation) {
	c.n++
	if c.next != nil {
		c.next.Emit(op)
	}
}

// New returns a Pipeline.
func New(opts Options) *Pipeline {
	p := &Pipeline{
		opts:    opts,
		dec:     decode.NewDecoder(opts.Decode),
		ring:    opts.Evidence,
		l2index: make(map[[6]byte]uint64),
	}
	p.count.next = opts.Emitter
	p.ctx.Emitter = &p.count
	fo := opts.Flows
	if fo.ServerPort == nil {
		fo.ServerPort = serverPort
	}
	p.flows = flow.New[*stream](fo)
	p.flows.OnEnd = p.flowEnded
	return p
}

// serverPort says whether port is a service port: one a dissector claims,
// a well-known one, or one with a service name.
func serverPort(proto uint8, port uint16) bool {
	t := dissect.Transport(proto)
	return port < 1024 || dissect.ByPort(dissect.Port{Transport: t, Number: port}) != nil || service.Name(t, port) != ""
}

// Stats returns the pipeline's counters.
func (p *Pipeline) Stats() Stats {
	s := p.stats
	s.Operations = p.count.n
	s.Decode = p.dec.Stats()
	s.Flows = p.flows.Stats()
	return s
}

// Process runs one frame through the pipeline. pkt.Data is not retained.
func (p *Pipeline) Process(pkt capture.Packet) {
	p.stats.Packets++
	p.stats.Bytes += uint64(len(pkt.Data))
	d := &p.pkt
	err := p.dec.Decode(pkt.LinkType, pkt.Data, pkt.Timestamp, d)
	d.Length = max(pkt.Length, len(pkt.Data))
	if p.opts.Observer != nil {
		p.opts.Observer.Packet(d, err)
	}
	if pkt.Timestamp.Sub(p.lastExpire) >= time.Second || pkt.Timestamp.Before(p.lastExpire) {
		p.lastExpire = pkt.Timestamp
		p.flows.Expire(pkt.Timestamp)
	}
	if err == decode.ErrFragmentPending {
		return
	}
	if err != nil {
		p.stats.Malformed++
		if d.Network == decode.NetNone || !d.SrcIP.IsValid() {
			return
		}
		// Count the packet in its flow (addresses decoded); no dispatch.
		p.flows.Update(d)
		return
	}
	if !d.SrcIP.IsValid() {
		p.layer2(pkt)
		return
	}
	f, dir, isNew := p.flows.Update(d)
	index := f.Packets[0] + f.Packets[1] - 1
	if p.ring != nil {
		p.ring.Add(f.ID, index, pkt.Timestamp, pkt.LinkType, pkt.Data, d.Length)
	}
	if d.Transport != decode.ProtoTCP && d.Transport != decode.ProtoUDP {
		return
	}
	if isNew {
		f.State = p.newStream(f)
	}
	s := f.State
	if s == nil {
		return
	}
	p.ctx.Flow = &s.flow
	p.ctx.Time = pkt.Timestamp
	p.ctx.Packet = dissect.PacketRef{Flow: f.ID, Index: index, Frame: p.stats.Packets}
	s.lastFrame = p.stats.Packets
	defer p.recoverDissector(s)
	p.service(s, f, dir, d)
	if s.dead {
		return
	}
	if s.sess == nil {
		if s.probed || len(d.Payload) == 0 {
			return
		}
		// Probe the first few payloads: a capture can start with a short
		// or odd segment that no probe recognises.
		s.probes++
		diss := dissect.Probe(d.Payload)
		if diss != nil {
			p.stats.Probed++
			p.start(s, diss)
		}
		if diss != nil || s.probes >= maxProbes {
			s.probed = true
			p.probeDone(s)
		}
		if diss == nil {
			return
		}
	}
	if d.Transport == decode.ProtoUDP {
		if _, err := s.sess.Feed(dir, d.Payload, &p.ctx); err != nil {
			p.fail(s)
		}
		return
	}
	h := &s.halves[dir]
	h.Segment(d.Seq, d.TCPFlags&decode.TCPFlagSYN != 0, d.TCPFlags&decode.TCPFlagFIN != 0,
		d.TCPFlags&decode.TCPFlagRST != 0, d.Payload, &s.feeders[dir])
}

// layer2 dispatches a frame without IP by EtherType.
func (p *Pipeline) layer2(pkt capture.Packet) {
	d := &p.pkt
	var fd dissect.FrameDissector
	if d.LLC {
		if d.OUI != 0 {
			fd = dissect.BySNAP(d.OUI, d.PID)
		} else if d.DSAP != 0xaa {
			fd = dissect.ByLLC(d.DSAP)
		}
	} else {
		fd = dissect.ByEtherType(d.EtherType)
	}
	var index uint64
	if d.HasMAC {
		index = p.l2index[d.SrcMAC]
		p.l2index[d.SrcMAC] = index + 1
	}
	id := L2FlowID(d.SrcMAC)
	if p.ring != nil && d.HasMAC {
		p.ring.Add(id, index, pkt.Timestamp, pkt.LinkType, pkt.Data, d.Length)
	}
	if fd == nil {
		return
	}
	fr := &p.frame
	*fr = dissect.Frame{
		Time:      pkt.Timestamp,
		SrcMAC:    d.SrcMAC,
		DstMAC:    d.DstMAC,
		EtherType: d.EtherType,
		Payload:   d.Payload,
		Packet:    dissect.PacketRef{Flow: id, Index: index, Frame: p.stats.Packets},
		SNAP:      d.LLC && d.OUI != 0,
		LLC:       d.LLC && d.DSAP != 0xaa,
		DSAP:      d.DSAP,
		SSAP:      d.SSAP,
		OUI:       d.OUI,
		PID:       d.PID,
	}
	if fr.SNAP || fr.LLC {
		fr.EtherType = 0
	}
	if d.NumVLANs > 0 {
		fr.VLAN = d.VLANs[d.NumVLANs-1]
	}
	if d.Network == decode.NetARP {
		// The decoder consumed the ARP header; hand the dissector all of it.
		fr.Payload = arpBytes(pkt.Data, d)
	}
	p.ctx.Flow = nil
	p.ctx.Time = pkt.Timestamp
	p.ctx.Packet = fr.Packet
	defer func() {
		if r := recover(); r != nil {
			p.stats.Panics++
		}
	}()
	fd.Dissect(fr, &p.ctx)
}

// L2FlowID is the evidence flow id under which the frames without IP of one
// source MAC are kept (ARP, Profinet DCP, LLDP, GOOSE). It has the top bit
// set, so it never collides with the flow table's ids.
func L2FlowID(mac [6]byte) uint64 {
	return 1<<63 | uint64(mac[0])<<40 | uint64(mac[1])<<32 | uint64(mac[2])<<24 | uint64(mac[3])<<16 | uint64(mac[4])<<8 | uint64(mac[5])
}

// arpBytes returns the ARP packet of a decoded frame: the bytes from the
// ARP header to the end of the frame.
func arpBytes(data []byte, d *decode.Packet) []byte {
	n := len(d.Payload) + 8
	if d.ARP.SenderIP.IsValid() {
		n += 20
	}
	if n > len(data) {
		return nil
	}
	return data[len(data)-n:]
}

// Close ends every flow (closing sessions and flushing streams) and lets
// layer-2 dissectors report what they still hold.
func (p *Pipeline) Close() {
	p.flows.Flush()
	p.ctx.Flow = nil
	p.ctx.Packet = dissect.PacketRef{}
	for _, fd := range dissect.FrameDissectors() {
		if f, ok := fd.(interface{ Flush(*dissect.Context) }); ok {
			func() {
				defer func() {
					if r := recover(); r != nil {
						p.stats.Panics++
					}
				}()
				f.Flush(&p.ctx)
			}()
		}
	}
}

func (p *Pipeline) recoverDissector(s *stream) {
	if r := recover(); r != nil {
		p.stats.Panics++
		s.dead = true
	}
}

func (p *Pipeline) fail(s *stream) {
	p.stats.Failed++
	s.dead = true
}

// lastSeen returns the flow's last-seen capture time.
func lastSeen(f *flow.Flow[*stream]) time.Time { return time.Unix(0, f.Last).UTC() }

// flowEnded closes a flow's session and reports an unanswered service.
func (p *Pipeline) flowEnded(f *flow.Flow[*stream], _ flow.EndReason) {
	s := f.State
	if s == nil {
		return
	}
	p.ctx.Flow = &s.flow
	p.ctx.Time = lastSeen(f)
	p.ctx.Packet = dissect.PacketRef{Flow: f.ID, Index: f.Packets[0] + f.Packets[1] - 1, Frame: s.lastFrame}
	func() {
		defer p.recoverDissector(s)
		if s.sess != nil && !s.dead && s.flow.Transport == dissect.TransportTCP {
			s.halves[0].Flush(&s.feeders[0])
			s.halves[1].Flush(&s.feeders[1])
		}
		if s.sess != nil && !s.dead {
			s.sess.Close(&p.ctx)
		}
	}()
	if !p.opts.NoService && !s.reported {
		switch {
		case s.answered:
			p.emitService(s, s.answer, s.refusal)
		case f.Packets[dissect.ToServer] > 0:
			p.emitService(s, dissect.StatusUnknown, "no answer")
		}
	}
	p.release(s)
}

// endpoint makes an Endpoint from an address and port.
func endpoint(a netip.Addr, port uint16) dissect.Endpoint {
	return dissect.Endpoint{IP: a, Port: port}
}
