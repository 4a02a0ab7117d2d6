package simulate

import (
	"math/rand/v2"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// TCP flags of a segment.
const (
	flagFIN = 1 << iota
	flagSYN
	flagRST
	flagPSH
	flagACK
)

// conn is one TCP connection between a client and a server, with the
// sequence numbers each side will send next.
type conn struct {
	s          *sim
	rng        *rand.Rand
	cli, srv   *node
	cport      uint16
	sport      uint16
	cseq, sseq uint32
}

func newConn(s *sim, rng *rand.Rand, cli, srv *node, sport uint16) *conn {
	return &conn{s: s, rng: rng, cli: cli, srv: srv, cport: cli.ephemeralPort(rng), sport: sport,
		cseq: rng.Uint32(), sseq: rng.Uint32()}
}

// send emits one segment at t from the client (or the server) and advances
// that side's sequence number. The segment acknowledges everything the
// other side has sent.
func (c *conn) send(t time.Duration, fromClient bool, flags int, data []byte, opts []layers.TCPOption) *frame {
	from, to := c.cli, c.srv
	sp, dp := c.cport, c.sport
	seq, ack := &c.cseq, c.sseq
	if !fromClient {
		from, to = c.srv, c.cli
		sp, dp = c.sport, c.cport
		seq, ack = &c.sseq, c.cseq
	}
	t4 := &layers.TCP{
		SrcPort: layers.TCPPort(sp), DstPort: layers.TCPPort(dp),
		Seq: *seq, Window: from.window, Options: opts,
		FIN: flags&flagFIN != 0, SYN: flags&flagSYN != 0, RST: flags&flagRST != 0,
		PSH: flags&flagPSH != 0, ACK: flags&flagACK != 0,
	}
	if t4.ACK {
		t4.Ack = ack
	}
	if t4.SYN {
		t4.Window = from.synWindow
	}
	*seq += uint32(len(data))
	if t4.SYN || t4.FIN {
		*seq++
	}
	f := &frame{at: t, src: from, ethSrc: from.MAC, ethDst: from.nextHop(to),
		ip: from.ipv4(to.IP, layers.IPProtocolTCP), tcp: t4, data: data}
	c.s.emit(f)
	return f
}

// synOptions returns the options of n's SYN, with a timestamp value where
// the stack sends one.
func synOptions(n *node, rng *rand.Rand) []layers.TCPOption {
	opts := make([]layers.TCPOption, len(n.synOpts))
	copy(opts, n.synOpts)
	for i := range opts {
		if opts[i].OptionType == layers.TCPOptionKindTimestamps {
			opts[i] = optTS(rng.Uint32(), 0)
		}
	}
	return opts
}

// handshake emits SYN, SYN-ACK and ACK from t and returns the time of the
// ACK. The servers here send no window scale or timestamp option, so
// neither is in effect afterwards.
func (c *conn) handshake(t time.Duration) time.Duration {
	c.send(t, true, flagSYN, nil, synOptions(c.cli, c.rng))
	t += serverDelay(c.rng, c.srv)
	c.send(t, false, flagSYN|flagACK, nil, synOptions(c.srv, c.rng))
	t += between(c.rng, 60*time.Microsecond, 250*time.Microsecond)
	c.send(t, true, flagACK, nil, nil)
	return t
}

// close emits the client's FIN, the server's FIN-ACK and the last ACK from
// t and returns the time of the last ACK.
func (c *conn) close(t time.Duration) time.Duration {
	c.send(t, true, flagFIN|flagACK, nil, nil)
	t += serverDelay(c.rng, c.srv)
	c.send(t, false, flagFIN|flagACK, nil, nil)
	t += between(c.rng, 60*time.Microsecond, 250*time.Microsecond)
	c.send(t, true, flagACK, nil, nil)
	return t
}

// serverDelay is the time a stack takes to answer a segment, wire included.
func serverDelay(rng *rand.Rand, n *node) time.Duration {
	switch n.stack {
	case stackEmbedded:
		return between(rng, 400*time.Microsecond, 2500*time.Microsecond)
	case stackRouter:
		return between(rng, 200*time.Microsecond, 900*time.Microsecond)
	default:
		return between(rng, 120*time.Microsecond, 400*time.Microsecond)
	}
}

// delayedACK is when a stack acknowledges data it has no reply for.
func delayedACK(rng *rand.Rand, n *node) time.Duration {
	if n.stack == stackLinux {
		return between(rng, 40*time.Millisecond, 44*time.Millisecond)
	}
	return between(rng, 100*time.Millisecond, 200*time.Millisecond)
}
