package opcua

import (
	"encoding/binary"
	"strconv"
)

// reader decodes the OPC UA binary encoding (OPC 10000-6 section 5.2):
// little-endian integers, Int32-length-prefixed strings, NodeIds. A read
// past the end sets bad and returns zero values, so a caller checks once.
type reader struct {
	b   []byte
	off int
	bad bool
	// cut says b is only the head of the encoding: array lengths are not
	// bounded by the bytes left.
	cut bool
}

func (r *reader) need(n int) bool {
	if r.bad || n < 0 || len(r.b)-r.off < n {
		r.bad = true
		return false
	}
	return true
}

func (r *reader) u8() byte {
	if !r.need(1) {
		return 0
	}
	r.off++
	return r.b[r.off-1]
}

func (r *reader) u16() uint16 {
	if !r.need(2) {
		return 0
	}
	r.off += 2
	return binary.LittleEndian.Uint16(r.b[r.off-2:])
}

func (r *reader) u32() uint32 {
	if !r.need(4) {
		return 0
	}
	r.off += 4
	return binary.LittleEndian.Uint32(r.b[r.off-4:])
}

func (r *reader) skip(n int) {
	if r.need(n) {
		r.off += n
	}
}

// bytes reads a String or ByteString: Int32 length, -1 for null (section
// 5.2.2.4). A null string reads as nil.
func (r *reader) bytes() []byte {
	n := int32(r.u32())
	if r.bad || n <= 0 {
		if n < -1 {
			r.bad = true
		}
		return nil
	}
	if !r.need(int(n)) {
		return nil
	}
	r.off += int(n)
	return r.b[r.off-int(n) : r.off]
}

// array reads an array length (Int32, -1 for null) bounded by what the
// remaining bytes can hold at min bytes per element.
func (r *reader) array(min int) int {
	n := int32(r.u32())
	if r.bad || n <= 0 {
		if n < -1 {
			r.bad = true
		}
		return 0
	}
	if !r.cut && int(n) > (len(r.b)-r.off)/max(min, 1) {
		r.bad = true
		return 0
	}
	return int(n)
}

// maxNodeString bounds the String identifier kept in a target name.
const maxNodeString = 128

// nodeID is a decoded NodeId; only numeric identifiers keep their value.
type nodeID struct {
	ns      uint16
	numeric bool
	id      uint32
	kind    byte   // encoding: 0 two-byte ... 5 ByteString
	str     []byte // a String identifier
}

// nodeID reads a NodeId (section 5.2.2.9), or an ExpandedNodeId when
// expanded is set (the namespace URI and server index flags).
func (r *reader) nodeID(expanded bool) nodeID {
	enc := r.u8()
	var n nodeID
	n.kind = enc & 0x0f
	switch n.kind {
	case 0:
		n.numeric, n.id = true, uint32(r.u8())
	case 1:
		n.numeric = true
		n.ns = uint16(r.u8())
		n.id = uint32(r.u16())
	case 2:
		n.numeric = true
		n.ns = r.u16()
		n.id = r.u32()
	case 3:
		n.ns = r.u16()
		n.str = r.bytes()
	case 5:
		n.ns = r.u16()
		r.bytes()
	case 4:
		n.ns = r.u16()
		r.skip(16)
	default:
		r.bad = true
	}
	if enc&0x30 != 0 {
		r.bad = true
	}
	if expanded {
		if enc&0x80 != 0 {
			r.bytes()
		}
		if enc&0x40 != 0 {
			r.skip(4)
		}
	} else if enc&0xc0 != 0 {
		r.bad = true
	}
	return n
}

// String formats a NodeId as in OPC 10000-6 section 5.3.1.10 ("ns=2;i=7",
// "ns=1;s=Tank.Level"); long strings are cut, GUID and opaque identifiers
// are shown by kind only.
func (n nodeID) String() string {
	prefix := ""
	if n.ns != 0 {
		prefix = "ns=" + strconv.Itoa(int(n.ns)) + ";"
	}
	switch n.kind {
	case 3:
		if len(n.str) > maxNodeString {
			return prefix + "s=" + string(n.str[:maxNodeString]) + "…"
		}
		return prefix + "s=" + string(n.str)
	case 4:
		return prefix + "g=…"
	case 5:
		return prefix + "b=…"
	}
	return prefix + "i=" + strconv.FormatUint(uint64(n.id), 10)
}

// extensionObject reads an ExtensionObject (section 5.2.2.15) and returns
// its type id and its body when binary-encoded.
func (r *reader) extensionObject() (nodeID, []byte) {
	t := r.nodeID(false)
	switch r.u8() {
	case 0:
		return t, nil
	case 1:
		return t, r.bytes()
	case 2:
		r.bytes()
		return t, nil
	}
	r.bad = true
	return t, nil
}

// localizedText reads a LocalizedText (section 5.2.2.14) and returns its
// text.
func (r *reader) localizedText() []byte {
	m := r.u8()
	if m&0x01 != 0 {
		r.bytes()
	}
	if m&0x02 != 0 {
		return r.bytes()
	}
	return nil
}

// diagnosticInfo skips a DiagnosticInfo (section 5.2.2.12), nested up to
// depth levels.
func (r *reader) diagnosticInfo(depth int) {
	m := r.u8()
	for _, bit := range [...]byte{0x01, 0x02, 0x04, 0x08} {
		if m&bit != 0 {
			r.skip(4)
		}
	}
	if m&0x10 != 0 {
		r.bytes()
	}
	if m&0x20 != 0 {
		r.skip(4)
	}
	if m&0x40 != 0 {
		if depth == 0 {
			r.bad = true
			return
		}
		r.diagnosticInfo(depth - 1)
	}
}

// requestHeader reads a RequestHeader (OPC 10000-4 section 7.33) and
// returns its request handle.
func (r *reader) requestHeader() uint32 {
	r.nodeID(false) // authenticationToken
	r.skip(8)       // timestamp
	h := r.u32()
	r.skip(4) // returnDiagnostics
	r.bytes() // auditEntryId
	r.skip(4) // timeoutHint
	r.extensionObject()
	return h
}

// responseHeader reads a ResponseHeader (OPC 10000-4 section 7.34) and
// returns the request handle and the service result.
func (r *reader) responseHeader() (handle, result uint32) {
	r.skip(8)
	handle = r.u32()
	result = r.u32()
	r.diagnosticInfo(4)
	for n := r.array(4); n > 0 && !r.bad; n-- {
		r.bytes()
	}
	r.extensionObject()
	return handle, result
}

// appDescription is the part of an ApplicationDescription (OPC 10000-4
// section 7.2) kept as identity.
type appDescription struct {
	uri, product, name []byte
}

// applicationDescription reads an ApplicationDescription.
func (r *reader) applicationDescription() appDescription {
	var a appDescription
	a.uri = r.bytes()
	a.product = r.bytes()
	a.name = r.localizedText()
	r.skip(4) // applicationType
	r.bytes() // gatewayServerUri
	r.bytes() // discoveryProfileUri
	for n := r.array(4); n > 0 && !r.bad; n-- {
		r.bytes()
	}
	return a
}

// endpointDescription reads an EndpointDescription (OPC 10000-4 section
// 7.14) and returns its server's description.
func (r *reader) endpointDescription() appDescription {
	r.bytes() // endpointUrl
	a := r.applicationDescription()
	r.bytes() // serverCertificate
	r.skip(4) // securityMode
	r.bytes() // securityPolicyUri
	for n := r.array(20); n > 0 && !r.bad; n-- {
		r.bytes() // policyId
		r.skip(4) // tokenType
		r.bytes() // issuedTokenType
		r.bytes() // issuerEndpointUrl
		r.bytes() // securityPolicyUri
	}
	r.bytes() // transportProfileUri
	r.skip(1) // securityLevel
	return a
}
