package opcua

import (
	"encoding/binary"
)

// enc builds OPC UA binary encodings (OPC 10000-6 section 5.2) for tests.
type enc []byte

func (e enc) u8(v byte) enc    { return append(e, v) }
func (e enc) u16(v uint16) enc { return binary.LittleEndian.AppendUint16(e, v) }
func (e enc) u32(v uint32) enc { return binary.LittleEndian.AppendUint32(e, v) }
func (e enc) i32(v int32) enc  { return e.u32(uint32(v)) }
func (e enc) zero(n int) enc   { return append(e, make([]byte, n)...) }
func (e enc) raw(b ...byte) enc {
	return append(e, b...)
}

// str appends a String; a nil-valued null string is encoded as -1.
func (e enc) str(s string) enc { return append(e.i32(int32(len(s))), s...) }
func (e enc) null() enc        { return e.i32(-1) }

// numeric appends a namespace-0 numeric NodeId in the four-byte encoding
// (section 5.2.2.9, encoding 0x01), as stacks encode service type ids.
func (e enc) numeric(id uint16) enc { return e.u8(1).u8(0).u16(id) }

// requestHeader appends a RequestHeader (OPC 10000-4 section 7.33) with a
// null authentication token and the given request handle.
func (e enc) requestHeader(handle uint32) enc {
	e = e.u8(0).u8(0) // authenticationToken: two-byte NodeId 0
	e = e.zero(8)     // timestamp
	e = e.u32(handle).u32(0).null().u32(10000)
	return e.u8(0).u8(0).u8(0) // additionalHeader: null ExtensionObject
}

// responseHeader appends a ResponseHeader (OPC 10000-4 section 7.34).
func (e enc) responseHeader(handle, result uint32) enc {
	e = e.zero(8).u32(handle).u32(result)
	e = e.u8(0)   // serviceDiagnostics: empty DiagnosticInfo
	e = e.i32(-1) // stringTable
	return e.u8(0).u8(0).u8(0)
}

// chunk wraps body in a MSG chunk (section 6.7.2): header, secure channel
// id, token id, sequence number, request id.
func chunk(kind string, ct byte, reqID uint32, body enc) []byte {
	m := enc(kind).u8(ct).u32(uint32(8 + 16 + len(body))).u32(1).u32(1).u32(reqID + 50).u32(reqID)
	return append(m, body...)
}

func msg(reqID uint32, body enc) []byte { return chunk("MSG", 'F', reqID, body) }

// hello builds a Hello (section 7.1.2.3).
func hello(url string) []byte {
	body := enc(nil).u32(0).u32(65535).u32(65535).u32(0).u32(0).str(url)
	return append(enc("HELF").u32(uint32(8+len(body))), body...)
}

// ack builds an Acknowledge (section 7.1.2.4).
func ack() []byte {
	return enc("ACKF").u32(28).u32(0).u32(65535).u32(65535).u32(0).u32(0)
}

// errMsg builds an Error (section 7.1.2.5).
func errMsg(code uint32, reason string) []byte {
	body := enc(nil).u32(code).str(reason)
	return append(enc("ERRF").u32(uint32(8+len(body))), body...)
}

// opn builds an OpenSecureChannel chunk with the asymmetric security
// header of policy uri (section 6.7.2.3) around body.
func opn(uri string, reqID uint32, body enc) []byte {
	h := enc(nil).u32(0).str(uri).null().null().u32(51).u32(reqID)
	h = append(h, body...)
	return append(enc("OPNF").u32(uint32(8+len(h))), h...)
}

// opnRequest is the body of an OpenSecureChannel request (OPC 10000-4
// section 5.5.2) asking for security mode mode.
func opnRequest(mode uint32) enc {
	return enc(nil).numeric(446).requestHeader(0).u32(0).u32(0).u32(mode).null().u32(3600000)
}

// opnResponse is the body of an OpenSecureChannel response.
func opnResponse() enc {
	return enc(nil).numeric(449).responseHeader(0, 0).u32(0).u32(5).u32(1).zero(8).u32(3600000).null()
}

// readRequest is a Read request (OPC 10000-4 section 5.10.2) of n Value
// attributes (id 13) of numeric nodes ns=2;i=1000+k.
func readRequest(handle uint32, n int) enc {
	e := enc(nil).numeric(631).requestHeader(handle).zero(8).u32(0).i32(int32(n))
	for k := range n {
		e = e.u8(2).u16(2).u32(uint32(1000 + k)).u32(13).null().u16(0).null()
	}
	return e
}

// readResponse is a Read response with n Int32 DataValues.
func readResponse(handle, result uint32, n int) enc {
	e := enc(nil).numeric(634).responseHeader(handle, result).i32(int32(n))
	for k := range n {
		e = e.u8(0x01).u8(6).u32(uint32(k)) // DataValue with a Variant Int32
	}
	return e.i32(-1)
}

// appDescription appends an ApplicationDescription (OPC 10000-4 section
// 7.2).
func (e enc) appDescription(uri, product, name string, appType uint32) enc {
	e = e.str(uri).str(product)
	if name != "" {
		e = e.u8(2).str(name)
	} else {
		e = e.u8(0)
	}
	return e.u32(appType).null().null().i32(-1)
}

// endpoint appends an EndpointDescription (OPC 10000-4 section 7.14) of a
// server with one anonymous user token policy.
func (e enc) endpoint(url, uri, product, name string) enc {
	return e.str(url).appDescription(uri, product, name, 0).null().u32(1).
		str("http://opcfoundation.org/UA/SecurityPolicy#None").
		i32(1).str("anon").u32(0).null().null().null().
		str("http://opcfoundation.org/UA-Profile/Transport/uatcp-uasc-uabinary").u8(0)
}
