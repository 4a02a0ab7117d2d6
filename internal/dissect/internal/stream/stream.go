package stream

import "github.com/otwatch/otwatch/internal/dissect"

// Roles says which side of a flow is the protocol's client. A flow is
// reversed when its client (the side that opened the connection) is the
// protocol's server, so requests travel towards the flow's client.
type Roles struct {
	reversed bool
	settled  bool
}

// NewRoles returns the roles of flow f for a protocol served on port: the
// flow is reversed when only its client side uses port. A nil flow is
// not reversed.
func NewRoles(f *dissect.Flow, port uint16) Roles {
	return Roles{reversed: f != nil && f.Client.Port == port && f.Server.Port != port}
}

// Reversed reports whether the flow's client is the protocol's server.
func (r *Roles) Reversed() bool { return r.reversed }

// FromClient reports whether bytes travelling in direction dir were sent
// by the protocol's client.
func (r *Roles) FromClient(dir dissect.Direction) bool {
	return (dir == dissect.ToServer) != r.reversed
}

// Settle fixes the roles from a message that only the protocol's client
// (fromClient true) or only its server sends, seen in direction dir. Only
// the first call counts.
func (r *Roles) Settle(dir dissect.Direction, fromClient bool) {
	if !r.settled {
		r.reversed = fromClient != (dir == dissect.ToServer)
		r.settled = true
	}
}

// Settled reports whether Settle has fixed the roles.
func (r *Roles) Settled() bool { return r.settled }

// Op returns the context's scratch operation of protocol with the
// protocol's client and server as endpoints.
func (r *Roles) Op(ctx *dissect.Context, protocol string) *dissect.Operation {
	op := ctx.Op(protocol)
	if r.reversed {
		op.Client, op.Server = op.Server, op.Client
	}
	return op
}

// Resync marks the directions of a flow that lost bytes: their next bytes
// start at an unknown offset, so the session looks for a plausible header
// before it frames again. Its zero value has both directions in step.
type Resync [2]bool

// Lost marks direction dir as out of step. Directions other than
// ToServer and ToClient are ignored.
func (r *Resync) Lost(dir dissect.Direction) {
	if dir <= dissect.ToClient {
		r[dir] = true
	}
}

// Find returns where framing resumes in data of direction dir, starting
// at from. A direction in step resumes at from. Otherwise find (which
// returns the offset of the first plausible header in its argument, or
// -1) looks from from on; when it finds none, Find returns the offset up
// to which data may be consumed, keeping its last keep bytes for a header
// that may be cut, and false.
func (r *Resync) Find(dir dissect.Direction, data []byte, from int, find func([]byte) int, keep int) (int, bool) {
	if !r[dir] {
		return from, true
	}
	i := find(data[from:])
	if i < 0 {
		return max(from, len(data)-keep), false
	}
	r[dir] = false
	return from + i, true
}
