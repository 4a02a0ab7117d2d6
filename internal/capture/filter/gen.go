package filter

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// node is a boolean expression over atoms.
type node interface{ isNode() }

type andNode struct{ a, b node }
type orNode struct{ a, b node }
type notNode struct{ a node }

// atom loads a value into A (possibly through X) and tests it.
type atom struct {
	load []bpf.Instruction
	test bpf.JumpTest // jeq, jgt, jge or jset
	val  uint32
}

func (*andNode) isNode() {}
func (*orNode) isNode()  {}
func (*notNode) isNode() {}
func (*atom) isNode()    {}

const (
	jeq  = bpf.JumpEqual
	jgt  = bpf.JumpGreaterThan
	jge  = bpf.JumpGreaterOrEqual
	jset = bpf.JumpBitsSet
)

func abs(off uint32, size int) []bpf.Instruction {
	return []bpf.Instruction{bpf.LoadAbsolute{Off: off, Size: size}}
}

func absMasked(off uint32, size int, mask uint32) []bpf.Instruction {
	return []bpf.Instruction{bpf.LoadAbsolute{Off: off, Size: size}, bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: mask}}
}

func loadLen() []bpf.Instruction {
	return []bpf.Instruction{bpf.LoadExtension{Num: bpf.ExtLen}}
}

// ipv4Transport loads the 16-bit word at off bytes into the IPv4 payload,
// finding the payload from the header length (IHL) like libpcap does.
func ipv4Transport(l3, off uint32) []bpf.Instruction {
	return []bpf.Instruction{bpf.LoadMemShift{Off: l3}, bpf.LoadIndirect{Off: l3 + off, Size: 2}}
}

func and(ns ...node) node {
	n := ns[0]
	for _, m := range ns[1:] {
		n = &andNode{n, m}
	}
	return n
}

func or(ns ...node) node {
	n := ns[0]
	for _, m := range ns[1:] {
		n = &orNode{n, m}
	}
	return n
}

// ethType tests the EtherType of the frame; l3 is the offset of the link
// payload, so the type field sits just before it.
func ethType(l3, typ uint32) node {
	return &atom{load: abs(l3-2, 2), test: jeq, val: typ}
}

// etherProto is "ether proto N": values up to 1500 are 802.2 LLC SAPs,
// matched on the DSAP of a length-framed frame as libpcap does.
func etherProto(l3, v uint32) node {
	if v <= 1500 {
		return and(&notNode{&atom{load: abs(l3-2, 2), test: jgt, val: 1500}}, &atom{load: abs(l3, 1), test: jeq, val: v})
	}
	return ethType(l3, v)
}

func ipProto(l3, p uint32) node {
	return and(ethType(l3, 0x0800), &atom{load: abs(l3+9, 1), test: jeq, val: p})
}

// ip6Proto matches the next-header field of the fixed IPv6 header, or of a
// fragment header right after it (as libpcap does).
func ip6Proto(l3, p uint32) node {
	direct := &atom{load: abs(l3+6, 1), test: jeq, val: p}
	frag := and(&atom{load: abs(l3+6, 1), test: jeq, val: 44}, &atom{load: abs(l3+40, 1), test: jeq, val: p})
	return and(ethType(l3, 0x86dd), or(direct, frag))
}

// dirNode combines the source and destination tests per the direction.
func dirNode(d dirQ, src, dst func() node) node {
	switch d {
	case dirSrc:
		return src()
	case dirDst:
		return dst()
	case dirSrcAndDst:
		return and(src(), dst())
	}
	return or(src(), dst())
}

func portTest(load []bpf.Instruction, lo, hi uint32) node {
	if lo == hi {
		return &atom{load: load, test: jeq, val: lo}
	}
	return and(&atom{load: load, test: jge, val: lo}, &notNode{&atom{load: load, test: jgt, val: hi}})
}

// portNode is "[tcp|udp|sctp] [dir] port N" or "portrange A-B".
func portNode(l3 uint32, pq protoQ, d dirQ, lo, hi uint32) node {
	protos := []uint32{6, 17, 132}
	switch pq {
	case protoTCP:
		protos = []uint32{6}
	case protoUDP:
		protos = []uint32{17}
	case protoSCTP:
		protos = []uint32{132}
	}
	v4 := make([]node, 0, len(protos))
	v6 := make([]node, 0, len(protos))
	for _, pr := range protos {
		// IPv4: the protocol, the first fragment only (fragment offset 0),
		// then the ports behind a header of variable length.
		v4 = append(v4, and(
			&atom{load: abs(l3+9, 1), test: jeq, val: pr},
			&notNode{&atom{load: abs(l3+6, 2), test: jset, val: 0x1fff}},
			dirNode(d,
				func() node { return portTest(ipv4Transport(l3, 0), lo, hi) },
				func() node { return portTest(ipv4Transport(l3, 2), lo, hi) }),
		))
		v6 = append(v6, and(
			&atom{load: abs(l3+6, 1), test: jeq, val: pr},
			dirNode(d,
				func() node { return portTest(abs(l3+40, 2), lo, hi) },
				func() node { return portTest(abs(l3+42, 2), lo, hi) }),
		))
	}
	return or(and(ethType(l3, 0x0800), or(v4...)), and(ethType(l3, 0x86dd), or(v6...)))
}

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// addrTest compares the bytes at off with a under mask m, word by word.
func addrTest(off uint32, a, m []byte) node {
	var ns []node
	for i := 0; i+4 <= len(a); i += 4 {
		mv := be32(m[i:])
		if mv == 0 {
			continue
		}
		load := abs(off+uint32(i), 4)
		if mv != 0xffffffff {
			load = absMasked(off+uint32(i), 4, mv)
		}
		ns = append(ns, &atom{load: load, test: jeq, val: be32(a[i:]) & mv})
	}
	if len(ns) == 0 {
		// A zero-length prefix matches every address.
		return nil
	}
	return and(ns...)
}

// guarded is "guard and test", or just guard when test is always true.
func guarded(guard, test node) node {
	if test == nil {
		return guard
	}
	return and(guard, test)
}

func hostIP4(l3 uint32, d dirQ, a, m [4]byte, pq protoQ) node {
	srcOff, dstOff, typ := l3+12, l3+16, uint32(0x0800)
	switch pq {
	case protoARP:
		srcOff, dstOff, typ = l3+14, l3+24, 0x0806
	case protoRARP:
		srcOff, dstOff, typ = l3+14, l3+24, 0x8035
	}
	src := addrTest(srcOff, a[:], m[:])
	if src == nil {
		return ethType(l3, typ)
	}
	return and(ethType(l3, typ), dirNode(d,
		func() node { return addrTest(srcOff, a[:], m[:]) },
		func() node { return addrTest(dstOff, a[:], m[:]) }))
}

func hostIP6(l3 uint32, d dirQ, a, m [16]byte) node {
	if addrTest(l3+8, a[:], m[:]) == nil {
		return ethType(l3, 0x86dd)
	}
	return and(ethType(l3, 0x86dd), dirNode(d,
		func() node { return addrTest(l3+8, a[:], m[:]) },
		func() node { return addrTest(l3+24, a[:], m[:]) }))
}

// etherHost compares MAC addresses; the link header does not move with VLAN tags.
func etherHost(d dirQ, mac []byte) node {
	at := func(off uint32) node {
		return and(&atom{load: abs(off+2, 4), test: jeq, val: be32(mac[2:])},
			&atom{load: abs(off, 2), test: jeq, val: uint32(mac[0])<<8 | uint32(mac[1])})
	}
	return dirNode(d, func() node { return at(6) }, func() node { return at(0) })
}

// Code generation: each node jumps to a true or a false label; labels are
// resolved once the whole program is laid out, and conditional jumps whose
// 8-bit offsets cannot reach are rewritten through unconditional jumps.

type itemKind uint8

const (
	itemInsn itemKind = iota
	itemCond
	itemLabel
)

type item struct {
	kind   itemKind
	ins    bpf.Instruction
	test   bpf.JumpTest
	val    uint32
	jt, jf int // labels of a cond
	label  int // label id of itemLabel
	// farT and farF mark a jump target beyond the reach of an 8-bit offset.
	farT, farF bool
}

// size is the number of instructions a cond assembles to.
func (it *item) size() int {
	n := 1
	if it.farT {
		n++
	}
	if it.farF {
		n++
	}
	return n
}

type codegen struct {
	items   []item
	nlabels int
}

func (g *codegen) newLabel() int { g.nlabels++; return g.nlabels - 1 }

func (g *codegen) place(l int) { g.items = append(g.items, item{kind: itemLabel, label: l}) }

func (g *codegen) emit(n node, t, f int) error {
	if len(g.items) > 4*maxInsns {
		return errTooLong
	}
	switch n := n.(type) {
	case *andNode:
		m := g.newLabel()
		if err := g.emit(n.a, m, f); err != nil {
			return err
		}
		g.place(m)
		return g.emit(n.b, t, f)
	case *orNode:
		m := g.newLabel()
		if err := g.emit(n.a, t, m); err != nil {
			return err
		}
		g.place(m)
		return g.emit(n.b, t, f)
	case *notNode:
		return g.emit(n.a, f, t)
	case *atom:
		for _, ins := range n.load {
			g.items = append(g.items, item{kind: itemInsn, ins: ins})
		}
		g.items = append(g.items, item{kind: itemCond, test: n.test, val: n.val, jt: t, jf: f})
	}
	return nil
}

var errTooLong = fmt.Errorf("filter: program longer than %d instructions", maxInsns)

// assemble lays the items out and resolves jumps.
func (g *codegen) assemble() ([]bpf.RawInstruction, error) {
	pos := make([]int, g.nlabels)
	var n int
	for {
		n = 0
		for _, it := range g.items {
			switch it.kind {
			case itemLabel:
				pos[it.label] = n
			case itemCond:
				n += it.size()
			default:
				n++
			}
		}
		if n > maxInsns {
			return nil, errTooLong
		}
		changed := false
		at := 0
		for i := range g.items {
			it := &g.items[i]
			switch it.kind {
			case itemLabel:
			case itemCond:
				if !it.farT && pos[it.jt]-at-1 > 255 {
					it.farT, changed = true, true
				}
				if !it.farF && pos[it.jf]-at-1 > 255 {
					it.farF, changed = true, true
				}
				at += it.size()
			default:
				at++
			}
		}
		if !changed {
			break
		}
	}
	prog := make([]bpf.Instruction, 0, n)
	for _, it := range g.items {
		at := len(prog)
		switch it.kind {
		case itemLabel:
		case itemInsn:
			prog = append(prog, it.ins)
		case itemCond:
			// A far side jumps to an unconditional jump that follows the
			// test: jt first, then jf.
			jt, jf := pos[it.jt]-at-1, pos[it.jf]-at-1
			var ja []bpf.Instruction
			if it.farT {
				jt = len(ja)
				ja = append(ja, bpf.Jump{Skip: uint32(pos[it.jt] - at - 2 - jt)})
			}
			if it.farF {
				jf = len(ja)
				ja = append(ja, bpf.Jump{Skip: uint32(pos[it.jf] - at - 2 - jf)})
			}
			prog = append(prog, bpf.JumpIf{Cond: it.test, Val: it.val, SkipTrue: uint8(jt), SkipFalse: uint8(jf)})
			prog = append(prog, ja...)
		}
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return nil, fmt.Errorf("filter: assembling: %w", err)
	}
	return raw, nil
}

// Compile compiles a pcap-filter expression into a classic BPF program that
// accepts a matching Ethernet frame with return value snaplen (262144 when
// snaplen is not positive) and rejects others with 0. An empty expression
// accepts every frame. Syntax errors are *SyntaxError and give the column.
func Compile(expr string, snaplen int) ([]bpf.RawInstruction, error) {
	if snaplen <= 0 || snaplen > 1<<31-1 {
		snaplen = defaultSnap
	}
	n, err := parse(expr)
	if err != nil {
		return nil, err
	}
	g := &codegen{}
	accept, reject := g.newLabel(), g.newLabel()
	if n != nil {
		if err := g.emit(n, accept, reject); err != nil {
			return nil, err
		}
	}
	g.place(accept)
	g.items = append(g.items, item{kind: itemInsn, ins: bpf.RetConstant{Val: uint32(snaplen)}})
	g.place(reject)
	g.items = append(g.items, item{kind: itemInsn, ins: bpf.RetConstant{Val: 0}})
	return g.assemble()
}
