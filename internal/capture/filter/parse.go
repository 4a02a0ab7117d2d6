package filter

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// SyntaxError reports an expression that could not be compiled and the
// 1-based column (byte offset) where the problem starts.
type SyntaxError struct {
	Column int    // 1-based byte column in the expression
	Msg    string // what was wrong
}

// Error formats the error with its column.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("filter: column %d: %s", e.Column, e.Msg)
}

// Limits that keep compilation bounded on hostile or mistyped input.
const (
	maxExprLen  = 8192 // bytes of expression text
	maxDepth    = 200  // nesting of parentheses and negations
	maxInsns    = 4096 // BPF_MAXINSNS of the Linux kernel
	ethHdrLen   = 14
	vlanTagLen  = 4
	defaultSnap = 262144
)

type tokKind int

const (
	tokEOF tokKind = iota
	tokWord
	tokLParen
	tokRParen
	tokNot // not, !
	tokAnd // and, &&
	tokOr  // or, ||
)

type token struct {
	kind tokKind
	text string
	col  int // 1-based
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == ':' || c == '/' || c == '-' || c == '_'
}

func lex(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, token{tokLParen, "(", i + 1})
			i++
		case c == ')':
			toks = append(toks, token{tokRParen, ")", i + 1})
			i++
		case c == '!':
			toks = append(toks, token{tokNot, "!", i + 1})
			i++
		case c == '&' && i+1 < len(s) && s[i+1] == '&':
			toks = append(toks, token{tokAnd, "&&", i + 1})
			i += 2
		case c == '|' && i+1 < len(s) && s[i+1] == '|':
			toks = append(toks, token{tokOr, "||", i + 1})
			i += 2
		case isWordByte(c):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			w := s[i:j]
			t := token{tokWord, w, i + 1}
			switch strings.ToLower(w) {
			case "and":
				t.kind = tokAnd
			case "or":
				t.kind = tokOr
			case "not":
				t.kind = tokNot
			}
			toks = append(toks, t)
			i = j
		default:
			return nil, &SyntaxError{i + 1, fmt.Sprintf("unexpected character %q", c)}
		}
	}
	toks = append(toks, token{tokEOF, "", len(s) + 1})
	return toks, nil
}

// Qualifier values. protoNone, dirNone and typeNone mean "not given".
type protoQ int

const (
	protoNone protoQ = iota
	protoEther
	protoIP
	protoIP6
	protoARP
	protoRARP
	protoTCP
	protoUDP
	protoSCTP
)

var protoNames = map[string]protoQ{
	"ether": protoEther, "ip": protoIP, "ip6": protoIP6, "arp": protoARP,
	"rarp": protoRARP, "tcp": protoTCP, "udp": protoUDP, "sctp": protoSCTP,
}

func (p protoQ) String() string {
	for k, v := range protoNames {
		if v == p {
			return k
		}
	}
	return "?"
}

type dirQ int

const (
	dirNone dirQ = iota // src or dst
	dirSrc
	dirDst
	dirSrcOrDst
	dirSrcAndDst
)

type typeQ int

const (
	typeNone typeQ = iota
	typeHost
	typeNet
	typePort
	typePortRange
)

type quals struct {
	proto protoQ
	dir   dirQ
	typ   typeQ
}

type parser struct {
	toks  []token
	pos   int
	off   uint32 // offset of the link-layer payload; grows by 4 with each "vlan"
	last  quals  // qualifiers a bare id inherits
	valid bool   // last holds usable qualifiers
	depth int
}

func (p *parser) peek() token { return p.toks[p.pos] }
func (p *parser) peekAt(n int) token {
	if p.pos+n < len(p.toks) {
		return p.toks[p.pos+n]
	}
	return p.toks[len(p.toks)-1]
}
func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tokEOF {
		p.pos++
	}
	return t
}

func errAt(t token, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if t.kind == tokEOF {
		msg += " at end of expression"
	}
	return &SyntaxError{t.col, msg}
}

// parse turns the expression into a node tree; nil means "match all".
func parse(expr string) (node, error) {
	if len(expr) > maxExprLen {
		return nil, &SyntaxError{maxExprLen + 1, fmt.Sprintf("expression longer than %d bytes", maxExprLen)}
	}
	toks, err := lex(expr)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, off: ethHdrLen}
	if p.peek().kind == tokEOF {
		return nil, nil
	}
	n, err := p.expr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, errAt(t, "unexpected %q", t.text)
	}
	return n, nil
}

// expr := unary { (and|or) unary }, left-associative, equal precedence.
func (p *parser) expr() (node, error) {
	n, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tokAnd && t.kind != tokOr {
			return n, nil
		}
		p.next()
		m, err := p.unary()
		if err != nil {
			return nil, err
		}
		if t.kind == tokAnd {
			n = &andNode{n, m}
		} else {
			n = &orNode{n, m}
		}
	}
}

func (p *parser) unary() (node, error) {
	t := p.peek()
	switch t.kind {
	case tokNot, tokLParen:
		p.depth++
		if p.depth > maxDepth {
			return nil, errAt(t, "expression nested deeper than %d", maxDepth)
		}
		defer func() { p.depth-- }()
		p.next()
		if t.kind == tokNot {
			n, err := p.unary()
			if err != nil {
				return nil, err
			}
			return &notNode{n}, nil
		}
		n, err := p.expr()
		if err != nil {
			return nil, err
		}
		if c := p.peek(); c.kind != tokRParen {
			return nil, errAt(c, "expected \")\" to close \"(\" at column %d", t.col)
		}
		p.next()
		return n, nil
	case tokWord:
		return p.primitive()
	default:
		return nil, errAt(t, "expected a primitive, found %q", t.text)
	}
}

func (p *parser) word() (token, string, bool) {
	t := p.peek()
	if t.kind != tokWord {
		return t, "", false
	}
	return t, strings.ToLower(t.text), true
}

func isKeyword(w string) bool {
	switch w {
	case "ether", "ip", "ip6", "arp", "rarp", "tcp", "udp", "sctp", "icmp", "icmp6",
		"vlan", "greater", "less", "proto", "src", "dst", "host", "net", "port", "portrange",
		"mask":
		return true
	}
	return false
}

func (p *parser) number(what string, max uint64) (uint32, error) {
	t := p.next()
	if t.kind != tokWord {
		return 0, errAt(t, "expected %s", what)
	}
	v, err := strconv.ParseUint(t.text, 0, 32)
	if err != nil || v > max {
		return 0, errAt(t, "invalid %s %q", what, t.text)
	}
	return uint32(v), nil
}

func (p *parser) primitive() (node, error) {
	start, w, _ := p.word()
	switch w {
	case "vlan":
		p.next()
		p.valid = false
		n := ethType(p.off, 0x8100)
		n = &orNode{n, ethType(p.off, 0x88a8)}
		n = &orNode{n, ethType(p.off, 0x9100)}
		if _, id, ok := p.word(); ok && !isKeyword(id) {
			v, err := p.number("VLAN ID", 4095)
			if err != nil {
				return nil, err
			}
			n = &andNode{n, &atom{load: absMasked(p.off, 2, 0x0fff), test: jeq, val: v}}
		}
		p.off += vlanTagLen
		return n, nil
	case "greater", "less":
		p.next()
		p.valid = false
		v, err := p.number("length", 1<<32-1)
		if err != nil {
			return nil, err
		}
		if w == "greater" {
			return &atom{load: loadLen(), test: jge, val: v}, nil
		}
		return &notNode{&atom{load: loadLen(), test: jgt, val: v}}, nil
	case "icmp":
		p.next()
		p.valid = false
		return ipProto(p.off, 1), nil
	case "icmp6":
		p.next()
		p.valid = false
		return ip6Proto(p.off, 58), nil
	case "proto":
		p.next()
		p.valid = false
		v, err := p.number("protocol number", 255)
		if err != nil {
			return nil, err
		}
		return &orNode{ipProto(p.off, v), ip6Proto(p.off, v)}, nil
	}

	var q quals
	explicit := false
	if pq, ok := protoNames[w]; ok {
		p.next()
		q.proto = pq
		explicit = true
		if _, w2, ok := p.word(); ok && w2 == "proto" {
			p.next()
			p.valid = false
			switch pq {
			case protoEther:
				v, err := p.number("EtherType", 0xffff)
				if err != nil {
					return nil, err
				}
				return etherProto(p.off, v), nil
			case protoIP, protoIP6:
				v, err := p.number("protocol number", 255)
				if err != nil {
					return nil, err
				}
				if pq == protoIP {
					return ipProto(p.off, v), nil
				}
				return ip6Proto(p.off, v), nil
			default:
				return nil, errAt(start, "\"%s proto\" is not supported", w)
			}
		}
	}
	if _, w, ok := p.word(); ok && (w == "src" || w == "dst") {
		p.next()
		explicit = true
		q.dir = dirSrc
		if w == "dst" {
			q.dir = dirDst
		}
		// "src or dst" and "src and dst" are one qualifier.
		if c := p.peek(); c.kind == tokOr || c.kind == tokAnd {
			if nt := p.peekAt(1); nt.kind == tokWord {
				if w2 := strings.ToLower(nt.text); (w2 == "src" || w2 == "dst") && w2 != w {
					p.next()
					p.next()
					q.dir = dirSrcOrDst
					if c.kind == tokAnd {
						q.dir = dirSrcAndDst
					}
				}
			}
		}
	}
	if _, w, ok := p.word(); ok {
		switch w {
		case "host":
			q.typ = typeHost
		case "net":
			q.typ = typeNet
		case "port":
			q.typ = typePort
		case "portrange":
			q.typ = typePortRange
		}
		if q.typ != typeNone {
			p.next()
			explicit = true
		}
	}

	idTok, id, isWord := p.word()
	if !isWord || isKeyword(id) {
		if explicit && q.dir == dirNone && q.typ == typeNone {
			// A protocol on its own: "ip", "tcp", "arp", ...
			p.valid = false
			return protoAlone(p.off, q.proto, start)
		}
		if !isWord {
			return nil, errAt(idTok, "expected an address, network or port")
		}
		return nil, errAt(idTok, "unknown or misplaced keyword %q", idTok.text)
	}
	if !explicit {
		if !p.valid {
			return nil, errAt(idTok, "%q needs a qualifier such as host, net, port or proto", idTok.text)
		}
		q = p.last
	} else {
		p.last, p.valid = q, true
	}
	p.next()
	return p.id(q, idTok, start)
}

func protoAlone(off uint32, pq protoQ, start token) (node, error) {
	switch pq {
	case protoIP:
		return ethType(off, 0x0800), nil
	case protoIP6:
		return ethType(off, 0x86dd), nil
	case protoARP:
		return ethType(off, 0x0806), nil
	case protoRARP:
		return ethType(off, 0x8035), nil
	case protoTCP:
		return &orNode{ipProto(off, 6), ip6Proto(off, 6)}, nil
	case protoUDP:
		return &orNode{ipProto(off, 17), ip6Proto(off, 17)}, nil
	case protoSCTP:
		return &orNode{ipProto(off, 132), ip6Proto(off, 132)}, nil
	}
	return nil, errAt(start, "%q needs a host, src or dst, or proto", start.text)
}

// id builds the primitive for one address, network, MAC or port with the
// given qualifiers.
func (p *parser) id(q quals, t token, start token) (node, error) {
	s := t.text
	switch q.typ {
	case typePort, typePortRange:
		switch q.proto {
		case protoNone, protoTCP, protoUDP, protoSCTP:
		default:
			return nil, errAt(start, "%q cannot qualify a port", q.proto.String())
		}
		lo, hi, err := parsePorts(s, q.typ == typePortRange)
		if err != nil {
			return nil, errAt(t, "%v", err)
		}
		return portNode(p.off, q.proto, q.dir, lo, hi), nil
	}

	if mac, err := net.ParseMAC(s); err == nil && len(mac) == 6 {
		if q.typ == typeNet {
			return nil, errAt(t, "a MAC address is not a network")
		}
		if q.proto != protoEther {
			return nil, errAt(t, "a MAC address needs the ether qualifier")
		}
		return etherHost(q.dir, mac), nil
	}
	if q.proto == protoEther {
		return nil, errAt(t, "invalid MAC address %q", s)
	}
	switch q.proto {
	case protoNone, protoIP, protoIP6, protoARP, protoRARP:
	default:
		return nil, errAt(start, "%q cannot qualify a host or network", q.proto.String())
	}

	var pfx netip.Prefix
	if strings.Contains(s, "/") {
		if q.typ == typeHost {
			return nil, errAt(t, "a host address cannot have a prefix length; use net")
		}
		var err error
		pfx, err = netip.ParsePrefix(s)
		if err != nil {
			return nil, errAt(t, "invalid network %q", s)
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			if _, err := strconv.ParseUint(s, 0, 32); err == nil {
				return nil, errAt(t, "a number needs a qualifier such as port or proto")
			}
			return nil, errAt(t, "invalid address %q (names are not resolved)", s)
		}
		bits := a.BitLen()
		if q.typ == typeNet {
			if _, w, ok := p.word(); ok && w == "mask" {
				p.next()
				mt := p.next()
				m, err := netip.ParseAddr(mt.text)
				if mt.kind != tokWord || err != nil || !a.Is4() || !m.Is4() {
					return nil, errAt(mt, "expected an IPv4 netmask after mask")
				}
				mb := m.As4()
				mv := uint32(mb[0])<<24 | uint32(mb[1])<<16 | uint32(mb[2])<<8 | uint32(mb[3])
				ab := a.As4()
				av := uint32(ab[0])<<24 | uint32(ab[1])<<16 | uint32(ab[2])<<8 | uint32(ab[3])
				if av&^mv != 0 {
					return nil, errAt(t, "non-network bits set in %q mask %q", s, mt.text)
				}
				return p.hostNet(q, start, t, a.As16(), mask4(mv), true)
			}
		}
		pfx = netip.PrefixFrom(a, bits)
	}
	if pfx.Masked() != pfx {
		return nil, errAt(t, "non-network bits set in %q", s)
	}
	a := pfx.Addr()
	var m [16]byte
	bits := pfx.Bits()
	if a.Is4() {
		bits += 96
	}
	for i := range m {
		switch {
		case bits >= 8:
			m[i] = 0xff
			bits -= 8
		case bits > 0:
			m[i] = byte(0xff << (8 - bits))
			bits = 0
		}
	}
	return p.hostNet(q, start, t, a.As16(), m, a.Is4())
}

func mask4(v uint32) [16]byte {
	var m [16]byte
	for i := 0; i < 12; i++ {
		m[i] = 0xff
	}
	m[12], m[13], m[14], m[15] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	return m
}

func (p *parser) hostNet(q quals, start, t token, a, m [16]byte, is4 bool) (node, error) {
	if is4 {
		var a4, m4 [4]byte
		copy(a4[:], a[12:])
		copy(m4[:], m[12:])
		switch q.proto {
		case protoNone:
			n := hostIP4(p.off, q.dir, a4, m4, protoIP)
			n = &orNode{n, hostIP4(p.off, q.dir, a4, m4, protoARP)}
			return &orNode{n, hostIP4(p.off, q.dir, a4, m4, protoRARP)}, nil
		case protoIP, protoARP, protoRARP:
			return hostIP4(p.off, q.dir, a4, m4, q.proto), nil
		}
		return nil, errAt(start, "%q cannot qualify an IPv4 address", q.proto.String())
	}
	switch q.proto {
	case protoNone, protoIP6:
		return hostIP6(p.off, q.dir, a, m), nil
	}
	return nil, errAt(start, "%q cannot qualify an IPv6 address", q.proto.String())
}

func parsePorts(s string, isRange bool) (lo, hi uint32, err error) {
	one := func(s string) (uint32, error) {
		v, err := strconv.ParseUint(s, 0, 16)
		if err != nil {
			return 0, fmt.Errorf("invalid port %q (names are not resolved)", s)
		}
		return uint32(v), nil
	}
	if !isRange {
		v, err := one(s)
		return v, v, err
	}
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("invalid port range %q, want A-B", s)
	}
	if lo, err = one(a); err != nil {
		return 0, 0, err
	}
	if hi, err = one(b); err != nil {
		return 0, 0, err
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	return lo, hi, nil
}
