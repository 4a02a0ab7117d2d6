package bacnet

import (
	"fmt"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
)

const (
	maxTargets = 8
	maxAttrs   = 16
	maxFacts   = 8
)

// Attribute keys.
const (
	attrBVLC           = "bvlc"                 // BVLC function of the request (or of the only PDU)
	attrAPDU           = "apdu"                 // APDU type of the request (or of the only PDU)
	attrRespBVLC       = "response_bvlc"        // BVLC function of the response
	attrRespAPDU       = "response_apdu"        // APDU type of the response
	attrInvokeID       = "invoke_id"            // invoke id of a confirmed request
	attrOrigin         = "origin"               // original B/IP address of a Forwarded-NPDU
	attrDNET           = "dnet"                 // destination network
	attrDADR           = "dadr"                 // destination MAC address
	attrSNET           = "snet"                 // source network
	attrSADR           = "sadr"                 // source MAC address
	attrRespSNET       = "response_snet"        // source network of the response
	attrRespSADR       = "response_sadr"        // source MAC address of the response
	attrSegmented      = "segmented"            // "request", "response" or "continuation"
	attrSequence       = "sequence"             // segment sequence number
	attrErrorClass     = "error_class"          // error class name
	attrMaxAPDU        = "max_apdu"             // I-Am max APDU length accepted
	attrSegmentation   = "segmentation"         // I-Am segmentation supported
	attrState          = "state"                // ReinitializeDevice state
	attrEnableDisable  = "enable_disable"       // DeviceCommunicationControl
	attrDuration       = "duration"             // DeviceCommunicationControl minutes
	attrPassword       = "password"             // "present" when a password was sent
	attrPriority       = "priority"             // WriteProperty priority
	attrTime           = "time"                 // time synchronization value
	attrObjectName     = "object_name"          // Who-Has / I-Have object name
	attrCancel         = "cancel"               // SubscribeCOV cancellation
	attrTruncated      = "truncated"            // more targets than kept
	attrResult         = "bvlc_result"          // BVLC-Result code name
	attrPropErrors     = "property_errors"      // ReadPropertyMultiple ack: property access errors
	attrPropErrorClass = "property_error_class" // ReadPropertyMultiple ack: class of the first
	attrLength         = "bvlc_length"          // "mismatch" when the BVLC length is not the datagram's
)

// FactSoftwareVersion is the identity fact key for the Device object's
// application-software-version property.
const FactSoftwareVersion = "software_version"

// record is one operation under construction: a request kept until its
// response, or a PDU emitted at once. It is kept by value.
type record struct {
	used      bool
	seq       uint64
	invoke    byte
	function  byte // BVLC function of the request
	apduType  byte
	service   byte
	clientDir dissect.Direction // direction from the operation's client to its server
	code      int
	name      string
	class     dissect.Class
	request   bool
	response  bool
	result    dissect.Result
	nt, na    uint8
	nf        uint8
	targets   [maxTargets]dissect.Target
	attrs     [maxAttrs]dissect.Attr
	facts     [maxFacts]dissect.Fact
	packet    dissect.PacketRef
	time      time.Time // capture time of the request (or of the only PDU)
}

func (r *record) target(kind, name string, addr, count uint32) {
	if int(r.nt) == len(r.targets) {
		r.attr(attrTruncated, "true")
		return
	}
	r.targets[r.nt] = dissect.Target{Kind: kind, Name: name, Address: addr, Count: count}
	r.nt++
}

func (r *record) object(v []byte) (typ uint16, inst uint32, ok bool) {
	typ, inst, ok = objectID(v)
	if ok {
		r.target(objectTypeName(typ), "", inst, 1)
	}
	return
}

func (r *record) property(v []byte) (uint32, bool) {
	p, ok := unsigned(v)
	if ok {
		r.target("property", propertyName(p), p, 1)
	}
	return p, ok
}

func (r *record) attr(key, value string) {
	for i := range r.na {
		if r.attrs[i].Key == key {
			return
		}
	}
	if int(r.na) < len(r.attrs) {
		r.attrs[r.na] = dissect.Attr{Key: key, Value: value}
		r.na++
	}
}

func (r *record) fact(key, value string) {
	if value == "" {
		return
	}
	for i := range r.nf {
		if r.facts[i].Key == key {
			return
		}
	}
	if int(r.nf) < len(r.facts) {
		r.facts[r.nf] = dissect.Fact{Key: key, Value: value, Server: true}
		r.nf++
	}
}

func (r *record) malformed(reason string) {
	if r.result.Status != dissect.StatusMalformed {
		r.result = dissect.Result{Status: dissect.StatusMalformed, Text: reason}
	}
}

// network records the routing information of PDU p: for the request (or
// the only PDU) or for the response.
func (r *record) network(p *pdu, response bool) {
	if p.lengthMismatch {
		r.attr(attrLength, "mismatch")
	}
	if p.origin != nil && !response {
		r.attr(attrOrigin, formatBIP(p.origin))
	}
	if p.control&npduSNET != 0 {
		if response {
			r.attr(attrRespSNET, formatNumber(uint32(p.snet)))
			r.attr(attrRespSADR, formatMAC(p.sadr))
		} else {
			r.attr(attrSNET, formatNumber(uint32(p.snet)))
			r.attr(attrSADR, formatMAC(p.sadr))
		}
	}
	if p.control&npduDNET != 0 && !response {
		r.attr(attrDNET, formatNumber(uint32(p.dnet)))
		if len(p.dadr) > 0 {
			r.attr(attrDADR, formatMAC(p.dadr))
		}
	}
}

// confirmedRequest decodes the service request of a confirmed request
// (clauses 13 to 17).
func (r *record) confirmedRequest(service byte, body []byte) {
	rd := reader{b: body}
	ok := true
	switch service {
	case svcReadProperty, 8, 9: // ReadProperty 15.5, Add/RemoveListElement 15.1, 15.2
		v, ok1 := rd.context(0)
		_, _, ok2 := r.object(v)
		p, ok3 := rd.context(1)
		_, ok4 := r.property(p)
		ok = ok1 && ok2 && ok3 && ok4
	case svcReadPropertyMulti: // 15.7
		ok = r.objectPropertyList(&rd, false)
	case svcWriteProperty: // 15.9
		v, ok1 := rd.context(0)
		_, _, ok2 := r.object(v)
		p, ok3 := rd.context(1)
		_, ok4 := r.property(p)
		rd.context(2)
		ok5 := rd.opening(3) && rd.skipTo(3)
		if prio, ok := rd.contextUnsigned(4); ok {
			r.attr(attrPriority, formatNumber(prio))
		}
		ok = ok1 && ok2 && ok3 && ok4 && ok5 && rd.done()
	case svcWritePropertyMult: // 15.10
		ok = r.objectPropertyList(&rd, true)
	case svcReinitialize: // 16.4
		st, ok1 := rd.contextUnsigned(0)
		if ok1 {
			r.attr(attrState, reinitStateName(st))
		}
		if _, pw := rd.context(1); pw {
			r.attr(attrPassword, "present")
		}
		ok = ok1 && rd.done()
	case svcDeviceCommControl: // 16.1
		if d, ok := rd.contextUnsigned(0); ok {
			r.attr(attrDuration, formatNumber(d))
		}
		ed, ok1 := rd.contextUnsigned(1)
		if ok1 {
			r.attr(attrEnableDisable, enableDisableName(ed))
		}
		if _, pw := rd.context(2); pw {
			r.attr(attrPassword, "present")
		}
		ok = ok1 && rd.done()
	case svcAtomicReadFile, svcAtomicWriteFile: // 14.1, 14.2
		v, ok1 := rd.app(tagObjectID)
		if typ, inst, ok := objectID(v); ok1 && ok {
			r.target("file", objectTypeName(typ), inst, 1)
		} else {
			ok = false
		}
	case svcSubscribeCOV, 28: // 13.14, 13.15
		_, ok1 := rd.context(0)
		v, ok2 := rd.context(1)
		_, _, ok3 := r.object(v)
		ok = ok1 && ok2 && ok3
		if service == svcSubscribeCOV && ok && rd.done() {
			r.attr(attrCancel, "true")
		}
	case svcReadRange: // 15.8
		v, ok1 := rd.context(0)
		_, _, ok2 := r.object(v)
		p, ok3 := rd.context(1)
		_, ok4 := r.property(p)
		ok = ok1 && ok2 && ok3 && ok4
	case 11: // DeleteObject 15.4
		v, ok1 := rd.app(tagObjectID)
		_, _, ok2 := r.object(v)
		ok = ok1 && ok2
	}
	if !ok {
		r.malformed(reasonRequest)
	}
}

// objectPropertyList decodes the list of objects and property references
// of ReadPropertyMultiple (with values, WritePropertyMultiple).
func (r *record) objectPropertyList(rd *reader, values bool) bool {
	n := 0
	for !rd.done() {
		v, ok := rd.context(0)
		if !ok {
			return false
		}
		if _, _, ok := r.object(v); !ok || !rd.opening(1) {
			return false
		}
		for !rd.closing(1) {
			p, ok := rd.context(0)
			if !ok {
				return false
			}
			if _, ok := r.property(p); !ok {
				return false
			}
			rd.context(1)
			if values {
				if !rd.opening(2) || !rd.skipTo(2) {
					return false
				}
				rd.context(3)
			}
		}
		n++
	}
	return n > 0
}

// unconfirmedRequest decodes an unconfirmed service request (clause 16).
func (r *record) unconfirmedRequest(service byte, body []byte) {
	rd := reader{b: body}
	ok := true
	switch service {
	case svcIAm: // 16.10
		ok = r.iAm(&rd)
	case svcIHave: // 16.9
		d, ok1 := rd.app(tagObjectID)
		_, dev, ok2 := objectID(d)
		o, ok3 := rd.app(tagObjectID)
		_, _, ok4 := r.object(o)
		n, ok5 := rd.app(tagCharacterString)
		ok = ok1 && ok2 && ok3 && ok4 && ok5
		if ok {
			r.fact(dissect.FactAddress, deviceAddress(dev))
			if s, ok := characterString(n); ok {
				r.attr(attrObjectName, s)
			}
		}
	case svcWhoIs: // 16.10
		lo, ok1 := rd.contextUnsigned(0)
		hi, ok2 := rd.contextUnsigned(1)
		if ok1 && ok2 && hi >= lo {
			r.target("device", "", lo, hi-lo+1)
		}
		ok = ok1 == ok2 && rd.done()
	case svcWhoHas: // 16.9
		rd.contextUnsigned(0)
		rd.contextUnsigned(1)
		if v, ok1 := rd.context(2); ok1 {
			_, _, ok = r.object(v)
		} else if v, ok1 := rd.context(3); ok1 {
			if s, ok := characterString(v); ok {
				r.attr(attrObjectName, s)
			}
		} else {
			ok = false
		}
	case svcTimeSyn, svcUTCSync: // 16.7, 16.8
		d, ok1 := rd.app(tagDate)
		t, ok2 := rd.app(tagTime)
		ok = ok1 && ok2 && len(d) == 4 && len(t) == 4
		if ok {
			r.attr(attrTime, formatDateTime(d, t))
		}
	case 2: // UnconfirmedCOVNotification 13.7
		rd.context(0)
		rd.context(1)
		v, ok1 := rd.context(2)
		_, _, ok2 := r.object(v)
		ok = ok1 && ok2
	}
	if !ok {
		r.malformed(reasonRequest)
	}
}

// iAm decodes I-Am (clause 16.10): device identifier, max APDU length
// accepted, segmentation supported, vendor identifier.
func (r *record) iAm(rd *reader) bool {
	d, ok1 := rd.app(tagObjectID)
	typ, inst, ok2 := objectID(d)
	m, ok3 := rd.app(tagUnsigned)
	maxAPDU, ok4 := unsigned(m)
	s, ok5 := rd.app(tagEnumerated)
	seg, ok6 := unsigned(s)
	v, ok7 := rd.app(tagUnsigned)
	vendor, ok8 := unsigned(v)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && ok8) {
		return false
	}
	r.target(objectTypeName(typ), "", inst, 1)
	r.fact(dissect.FactAddress, deviceAddress(inst))
	r.fact(dissect.FactVendorID, formatNumber(vendor))
	r.fact(dissect.FactVendor, vendorName(vendor))
	r.attr(attrMaxAPDU, formatNumber(maxAPDU))
	r.attr(attrSegmentation, segmentationName(seg))
	return typ == objectTypeDevice
}

// deviceAddress is the address fact of a device instance.
func deviceAddress(inst uint32) string { return "device:" + formatNumber(inst) }

// formatDateTime formats a BACnet Date and Time (clauses 20.2.12, 20.2.13);
// unspecified fields (255) print as "*".
func formatDateTime(d, t []byte) string {
	f := func(v byte, add int, width int) string {
		if v == 255 {
			return "*"
		}
		return fmt.Sprintf("%0*d", width, int(v)+add)
	}
	return f(d[0], 1900, 4) + "-" + f(d[1], 0, 2) + "-" + f(d[2], 0, 2) + "T" +
		f(t[0], 0, 2) + ":" + f(t[1], 0, 2) + ":" + f(t[2], 0, 2) + "." + f(t[3], 0, 2)
}

// complexAck decodes the ack of a confirmed service (clauses 14, 15).
func (r *record) complexAck(service byte, body []byte) {
	rd := reader{b: body}
	ok := true
	switch service {
	case svcReadProperty: // 15.5.1.3
		v, ok1 := rd.context(0)
		typ, _, ok2 := objectID(v)
		p, ok3 := rd.context(1)
		prop, ok4 := unsigned(p)
		rd.context(2)
		ok = ok1 && ok2 && ok3 && ok4 && rd.opening(3)
		if ok {
			if typ == objectTypeDevice {
				r.identity(prop, &rd)
			}
			ok = rd.skipTo(3) && rd.done()
		}
	case svcReadPropertyMulti: // 15.7.1.3
		errs := uint32(0)
		defer func() {
			if errs > 0 {
				r.attr(attrPropErrors, formatNumber(errs))
			}
		}()
		for ok && !rd.done() {
			v, ok1 := rd.context(0)
			typ, _, ok2 := objectID(v)
			ok = ok1 && ok2 && rd.opening(1)
			for ok && !rd.closing(1) {
				p, ok1 := rd.context(2)
				prop, ok2 := unsigned(p)
				rd.context(3)
				switch {
				case !ok1 || !ok2:
					ok = false
				case rd.opening(4):
					if typ == objectTypeDevice {
						r.identity(prop, &rd)
					}
					ok = rd.skipTo(4)
				case rd.opening(5):
					// Property access error: error class and code
					// (clause 15.7.1.3.1).
					c, ok1 := rd.app(tagEnumerated)
					class, ok2 := unsigned(c)
					if ok1 && ok2 {
						errs++
						r.attr(attrPropErrorClass, errorClassName(class))
					}
					ok = rd.skipTo(5)
				default:
					ok = false
				}
			}
		}
	}
	if !ok {
		r.malformed(reasonAck)
	}
}

// identity records the identity fact carried by property prop of a Device
// object, whose value starts at rd. It consumes nothing.
func (r *record) identity(prop uint32, rd *reader) {
	key := ""
	switch prop {
	case propObjectName:
		key = dissect.FactHostname
	case propModelName:
		key = dissect.FactModel
	case propFirmwareRevision:
		key = dissect.FactFirmware
	case propAppSoftwareVersion:
		key = FactSoftwareVersion
	case propVendorName:
		key = dissect.FactVendor
	case propVendorIdentifier:
		key = dissect.FactVendorID
	default:
		return
	}
	peek := *rd
	t, v, ok := peek.next()
	if !ok || t.context {
		return
	}
	switch {
	case t.num == tagCharacterString && key != dissect.FactVendorID:
		if s, ok := characterString(v); ok {
			r.fact(key, s)
		}
	case t.num == tagUnsigned && key == dissect.FactVendorID:
		if id, ok := unsigned(v); ok {
			r.fact(dissect.FactVendorID, formatNumber(id))
			r.fact(dissect.FactVendor, vendorName(id))
		}
	}
}

// errorPDU decodes the error class and code of an Error PDU (clause
// 18): the first two application-tagged enumerations, which some services
// wrap in a context tag.
func (r *record) errorPDU(body []byte) {
	rd := reader{b: body}
	var vals [2]uint32
	n := 0
	for n < 2 {
		t, v, ok := rd.next()
		if !ok {
			break
		}
		if !t.context && t.num == tagEnumerated {
			u, ok := unsigned(v)
			if !ok {
				break
			}
			vals[n] = u
			n++
		}
	}
	if n < 2 {
		r.result = dissect.Result{Status: dissect.StatusMalformed, Text: "error pdu without class and code"}
		return
	}
	r.result = dissect.Result{Status: dissect.StatusError, Code: int(vals[1]), Text: errorCodeName(vals[1])}
	r.attr(attrErrorClass, errorClassName(vals[0]))
}
