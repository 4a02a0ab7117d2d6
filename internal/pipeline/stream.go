package pipeline

import (
	"github.com/otwatch/otwatch/internal/decode"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/service"
	"github.com/otwatch/otwatch/internal/flow"
	"github.com/otwatch/otwatch/internal/reassembly"
)

// stream is the pipeline's state for one TCP or UDP flow.
type stream struct {
	flow     dissect.Flow
	diss     dissect.Dissector
	sess     dissect.Session
	probed   bool  // content probe done (or given up)
	probes   uint8 // payloads probed so far
	dead     bool  // session failed; no more feeding
	reported bool  // service operation emitted
	answered bool  // the server answered (or refused) before the protocol was known
	answer   dissect.Status
	refusal  string
	// answerRef is the packet that answered; lastFrame the newest frame.
	answerRef dissect.PacketRef
	lastFrame uint64
	halves    [2]reassembly.Half
	feeders   [2]feeder
	p         *Pipeline
}

// feeder hands one direction's reassembled bytes to the session.
type feeder struct {
	s   *stream
	dir dissect.Direction
}

// Data feeds ordered bytes to the session.
func (fd *feeder) Data(data []byte) int {
	s := fd.s
	if s.dead || s.sess == nil {
		return len(data)
	}
	n, err := s.sess.Feed(fd.dir, data, &s.p.ctx)
	if err != nil {
		s.p.fail(s)
		return len(data)
	}
	if n < 0 || n > len(data) {
		n = len(data)
	}
	return n
}

// Gap tells the session about lost bytes.
func (fd *feeder) Gap(lost int) {
	s := fd.s
	s.p.stats.Gaps++
	s.p.stats.GapBytes += uint64(lost)
	if s.dead || s.sess == nil {
		return
	}
	s.sess.Gap(fd.dir, lost, &s.p.ctx)
}

// newStream prepares the state of a new TCP/UDP flow and starts the
// dissector that claims its server port, if any.
func (p *Pipeline) newStream(f *flow.Flow[*stream]) *stream {
	var s *stream
	if n := len(p.free); n > 0 {
		s = p.free[n-1]
		p.free = p.free[:n-1]
	} else {
		s = &stream{p: p}
		s.feeders[0] = feeder{s: s, dir: dissect.ToServer}
		s.feeders[1] = feeder{s: s, dir: dissect.ToClient}
	}
	cip, cport := f.Client()
	sip, sport := f.Server()
	t := dissect.Transport(f.Key.Proto)
	s.flow = dissect.Flow{ID: f.ID, Transport: t, Client: endpoint(cip, cport), Server: endpoint(sip, sport)}
	s.flow.Start = lastSeen(f)
	if d := &p.pkt; d.HasMAC {
		// MACs as seen on the first packet.
		if d.SrcIP == cip {
			s.flow.Client.MAC, s.flow.Server.MAC = d.SrcMAC, d.DstMAC
		} else {
			s.flow.Client.MAC, s.flow.Server.MAC = d.DstMAC, d.SrcMAC
		}
	}
	if diss := dissect.ByPort(dissect.Port{Transport: t, Number: sport}); diss != nil {
		p.start(s, diss)
	}
	return s
}

// start creates the session of dissector diss for s.
func (p *Pipeline) start(s *stream, diss dissect.Dissector) {
	p.stats.Sessions++
	s.diss = diss
	s.sess = diss.NewSession(&s.flow)
	if s.flow.Transport == dissect.TransportTCP {
		s.halves[0].Init(&p.opts.Reassembly)
		s.halves[1].Init(&p.opts.Reassembly)
	}
}

// release returns a stream's memory for reuse.
func (p *Pipeline) release(s *stream) {
	h := s.halves
	*s = stream{p: p, feeders: s.feeders, halves: h}
	if len(p.free) < 4096 {
		p.free = append(p.free, s)
	}
}

// service emits the flow's service operation once the server's answer (or
// refusal) is seen. On a port no dissector claims, it waits for the first
// payload, so that a protocol found by content probe names the service.
func (p *Pipeline) service(s *stream, f *flow.Flow[*stream], dir dissect.Direction, d *decode.Packet) {
	if p.opts.NoService || s.reported {
		return
	}
	if dir == dissect.ToClient && !s.answered {
		if _, ok := s.sess.(serviceNamer); ok && len(d.Payload) == 0 && d.TCPFlags&decode.TCPFlagRST == 0 {
			return // the service's name is known once it answers with data
		}
		s.answered, s.answer = true, dissect.StatusOK
		s.answerRef = p.ctx.Packet
		if d.Transport == decode.ProtoTCP && d.TCPFlags&decode.TCPFlagRST != 0 && f.Packets[dissect.ToClient] == 1 {
			s.answer, s.refusal = dissect.StatusError, "refused"
		}
	}
	if !s.answered {
		return
	}
	if s.sess == nil && !s.probed && d.Transport == decode.ProtoTCP && s.answer == dissect.StatusOK {
		return // the protocol may still be found by probe
	}
	p.emitService(s, s.answer, s.refusal)
}

// probeDone emits a service operation held back for the content probe.
func (p *Pipeline) probeDone(s *stream) {
	if !p.opts.NoService && !s.reported && s.answered {
		p.emitService(s, s.answer, s.refusal)
	}
}

// serviceNamer is a session whose protocol is known only from its data: a
// front end on a shared port (TCP 102 carries S7comm and MMS) names the
// service it found.
type serviceNamer interface {
	ServiceName() string
}

func (p *Pipeline) emitService(s *stream, st dissect.Status, text string) {
	s.reported = true
	op := p.ctx.Op("service")
	if s.answered {
		op.Packets[0] = s.answerRef
	}
	port := s.flow.Server.Port
	name := service.Name(s.flow.Transport, port)
	if s.diss != nil {
		name = s.diss.Name()
	}
	if n, ok := s.sess.(serviceNamer); ok {
		name = n.ServiceName()
	}
	if name == "" {
		name = "unknown"
	}
	op.FunctionCode = int(port)
	op.FunctionName = name
	op.Class = dissect.ClassOther
	op.Targets = append(op.Targets, dissect.Target{Kind: "port", Address: uint32(port)})
	op.Result = dissect.Result{Status: st, Text: text}
	p.ctx.Emit(op)
}
