package detect

import (
	"unsafe"

	"github.com/otwatch/otwatch/internal/dissect"
)

// Quiet operations. Most of a plant's traffic is a few kinds of operation
// repeated in each conversation (a poll and its response), and some
// engines have nothing to do with the second one of a kind as with the
// first: a function in the baseline, a request paired with its response.
// Such an engine calls Quiet, and the Detector stops handing it
// operations of that kind in that conversation, until the engine calls
// Unquiet or the mode changes. The Detector finds an operation's kind once
// for every engine, with one lookup in a direct-mapped table.
//
// An operation's kind in its conversation (which fixes the parties'
// addresses and the server port) is its protocol, function name, class,
// result status, whether it carries a request and a response, how many
// targets it has (none, one, more) and its target if it has one. Kinds are
// kept in operational time only (see LearningAt).

// kindTableSize is the number of kinds remembered, a power of two.
const kindTableSize = 1 << 12

// kind is one kind of operation in one conversation, and the engines
// quiet on it. Its strings are compared by identity (data and length):
// dissectors name protocols, functions and target kinds with constant or
// interned strings, so the same name comes back at the same address; the
// kind holds them, so their addresses are not reused meanwhile.
type kind struct {
	conv                uint64
	small               uint64 // name lengths, class, status and flags
	target              uint64 // the target's address and count
	protocol, fn, tkind string
	quiet               uint64 // engines quiet on the kind, by position in Detector.ops
	epoch               uint64 // Detector.quietEpoch quiet holds in
}

// Flags of kind.small.
const (
	kindRequest  = 1 << 56
	kindResponse = 1 << 57
	kindTarget   = 1 << 58 // one target
	kindTargets  = 1 << 59 // more than one
)

// same reports whether a and b are the same string by identity. Equal
// strings at different addresses are not the same: their kinds just
// differ.
func same(a, b string) bool {
	return len(a) == len(b) && unsafe.StringData(a) == unsafe.StringData(b)
}

// findKind finds the kind of op, the operation about to be dispatched,
// and returns the engines quiet on it. It leaves in d.kindAt the table slot
// of the kind (-1 for none), in d.kindFound whether the slot holds the
// kind, and if not the kind (without its protocol and function) in
// d.kindKey.
func (d *Detector) findKind(op *dissect.Operation) uint64 {
	d.kindAt, d.kindFound = -1, false
	c := d.conv
	// LearningAt(op.Time), written out.
	if c == nil || d.mode == Learning || !d.learnEnd.IsZero() && !d.cfg.Operational && op.Time.Before(d.learnEnd) {
		return 0
	}
	// The lengths in small only spread kinds over the table; same
	// compares them in full.
	small := uint64(len(op.Protocol)&0xffff) | uint64(len(op.FunctionName)&0xffff)<<16 |
		uint64(op.Class)<<40 | uint64(op.Result.Status)<<48
	if op.Request {
		small |= kindRequest
	}
	if op.Response {
		small |= kindResponse
	}
	var target uint64
	var tkind string
	switch len(op.Targets) {
	case 0:
	case 1:
		t := &op.Targets[0]
		tkind, target = t.Kind, uint64(t.Address)|uint64(t.Count)<<32
		small |= kindTarget | uint64(len(t.Kind)&0xff)<<32
	default:
		small |= kindTargets
	}
	fn := uint64(uintptr(unsafe.Pointer(unsafe.StringData(op.FunctionName))))
	at := int((c.id ^ fn<<7 ^ target ^ small<<11) * 0x9E3779B97F4A7C15 >> 52 & (kindTableSize - 1))
	d.kindAt = at
	if d.kinds != nil {
		k := &d.kinds[at]
		if k.conv == c.id && k.small == small && k.target == target && same(k.fn, op.FunctionName) &&
			same(k.protocol, op.Protocol) && same(k.tkind, tkind) {
			d.kindFound = true
			if k.epoch != d.quietEpoch {
				return 0
			}
			return k.quiet
		}
	}
	d.kindKey.conv, d.kindKey.small, d.kindKey.target, d.kindKey.tkind = c.id, small, target, tkind
	return 0
}

// Quiet tells the Detector that the engine handling the operation being
// dispatched has nothing to do with operations of its kind in its
// conversation (see above). It is for an engine whose handling of such an
// operation depends only on what the kind says of it and on state that
// only the engine changes (then it calls Unquiet), not on time,
// configuration or what the Detector or other engines know. The Detector
// may ignore it.
func (d *Detector) Quiet() {
	if d.kindAt < 0 || d.inOp == nil {
		return // not in operational time, or without a conversation
	}
	if d.kinds == nil {
		d.kinds = new([kindTableSize]kind)
	}
	k := &d.kinds[d.kindAt]
	if !d.kindFound {
		d.kindFound = true
		key := &d.kindKey
		*k = kind{conv: key.conv, small: key.small, target: key.target, tkind: key.tkind,
			protocol: d.inOp.Protocol, fn: d.inOp.FunctionName, epoch: d.quietEpoch}
	}
	if k.epoch != d.quietEpoch {
		k.quiet, k.epoch = 0, d.quietEpoch
	}
	k.quiet |= 1 << d.cur
}

// Unquiet undoes every engine's Quiet: an engine calls it when its state
// changed so that operations it was quiet on may matter to it again.
func (d *Detector) Unquiet() { d.quietEpoch++ }
