package profinet

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
)

// DCP service ids (IEC 61158-6-10, "ServiceID").
const (
	dcpGet      = 3
	dcpSet      = 4
	dcpIdentify = 5
	dcpHello    = 6
)

var dcpServiceNames = [...]string{dcpGet: "get", dcpSet: "set", dcpIdentify: "identify", dcpHello: "hello"}

// DCP block options (IEC 61158-6-10, "Option" and "Suboption").
const (
	optIP      = 1
	optDevice  = 2
	optDHCP    = 3
	optControl = 5
	optInit    = 6
	optAll     = 255
)

// subName returns the snake_case name of an option/suboption pair.
func subName(opt, sub byte) string {
	switch opt {
	case optIP:
		switch sub {
		case 1:
			return "mac_address"
		case 2:
			return "ip_parameter"
		case 3:
			return "full_ip_suite"
		}
		return "ip_reserved"
	case optDevice:
		switch sub {
		case 1:
			return "device_vendor"
		case 2:
			return "name_of_station"
		case 3:
			return "device_id"
		case 4:
			return "device_role"
		case 5:
			return "device_options"
		case 6:
			return "alias_name"
		case 7:
			return "device_instance"
		case 8:
			return "oem_device_id"
		case 9:
			return "standard_gateway"
		case 10:
			return "rsi_properties"
		}
		return "device_reserved"
	case optDHCP:
		return "dhcp"
	case 4:
		return "lldp"
	case optControl:
		switch sub {
		case 1:
			return "control_start_transaction"
		case 2:
			return "control_end_transaction"
		case 3:
			return "control_signal"
		case 4:
			return "control_response"
		case 5:
			return "control_reset_factory_settings"
		case 6:
			return "control_reset_to_factory"
		}
		return "control_reserved"
	case optInit:
		return "device_initiative"
	case optAll:
		return "all_selector"
	}
	if opt >= 0x80 && opt <= 0xfe {
		return "manufacturer_specific"
	}
	return "reserved"
}

// blockErrorNames are the BlockError values of a Control/Response block.
var blockErrorNames = [...]string{"ok", "option_not_supported", "suboption_not_supported",
	"suboption_not_set", "resource_error", "set_not_possible_local_reasons", "set_not_possible_in_operation"}

// deviceRoleName names the DeviceRoleDetails bits (IO device 0x01, IO
// controller 0x02, IO multidevice 0x04, PN supervisor 0x08); the lowest
// set bit wins.
func deviceRoleName(r byte) string {
	switch {
	case r&0x01 != 0:
		return "io_device"
	case r&0x02 != 0:
		return "io_controller"
	case r&0x04 != 0:
		return "io_multidevice"
	case r&0x08 != 0:
		return "pn_supervisor"
	}
	return "none"
}

// Pending Get/Set requests, paired with their response by xid and MACs.
const (
	pendSize   = 16
	pendBytes  = 512
	dcpTimeout = 10 * time.Second
)

type dcpPending struct {
	used     bool
	xid      uint32
	client   dissect.MAC
	server   dissect.MAC
	vlan     uint16
	t        time.Time
	ref      dissect.PacketRef
	n        int
	pdu      [pendBytes]byte
	complete bool
}

// dcpHeader is the fixed part of a DCP PDU after the FrameID.
type dcpHeader struct {
	service, typ byte
	xid          uint32
	delay        uint16
	data         []byte
}

// parseDCP splits a DCP PDU (FrameID, ServiceID, ServiceType, Xid,
// ResponseDelay or reserved, DCPDataLength, blocks).
func parseDCP(p []byte) (dcpHeader, error) {
	if len(p) < 12 {
		return dcpHeader{}, errShort
	}
	h := dcpHeader{service: p[2], typ: p[3], xid: binary.BigEndian.Uint32(p[4:]), delay: binary.BigEndian.Uint16(p[8:])}
	n := int(binary.BigEndian.Uint16(p[10:]))
	if 12+n > len(p) {
		return h, errDCPLen
	}
	h.data = p[12 : 12+n]
	return h, nil
}

// dcp decodes a DCP frame. The caller holds d.mu.
func (d *Dissector) dcp(f *dissect.Frame, ctx *dissect.Context) {
	d.expire(f.Time, ctx)
	h, err := parseDCP(f.Payload)
	isReq := err == nil && h.typ == 0 || err != nil && f.Payload[1] != 0xff
	if err == nil && h.typ == 0 && (h.service == dcpGet || h.service == dcpSet) {
		d.hold(f, &h)
		return
	}
	op := frameOp(f, ctx)
	if err != nil {
		op.FunctionName = "dcp"
		op.Class = dissect.ClassDiscovery
		op.Request = isReq
		op.Response = !isReq
		op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: err.Error()}
		ctx.Emit(op)
		return
	}
	dcpNames(op, &h)
	op.Attrs = append(op.Attrs, dissect.Attr{Key: "xid", Value: hex32(h.xid)})
	if h.typ == 0 {
		// Identify (multicast, answered by any number of devices) and
		// Hello (unanswered) requests are reported as they arrive.
		op.Request = true
		op.Result.Status = dissect.StatusOK
		if h.service == dcpHello {
			err = dcpBlocks(op, h.data, blocksClient)
		} else {
			err = dcpRequestBlocks(op, h.data, h.service)
		}
		if err != nil {
			op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: err.Error()}
		}
		ctx.Emit(op)
		return
	}
	// A response: the sender is the server.
	op.Client.MAC, op.Server.MAC = f.DstMAC, f.SrcMAC
	op.Response = true
	if p := d.take(h.xid, f.DstMAC, f.SrcMAC); p != nil {
		if rh, err := parseDCP(p.pdu[:p.n]); err == nil {
			op.Request = true
			op.Packets = append(op.Packets, p.ref)
			if rerr := dcpRequestBlocks(op, rh.data, rh.service); rerr != nil && p.complete {
				op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: rerr.Error()}
				ctx.Emit(op)
				return
			}
		}
	}
	dcpResult(op, &h)
	if err := dcpBlocks(op, h.data, blocksServer); err != nil {
		op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: err.Error()}
	}
	ctx.Emit(op)
}

// dcpNames sets the function code, name and class of a DCP operation.
func dcpNames(op *dissect.Operation, h *dcpHeader) {
	op.FunctionCode = int(h.service)
	op.FunctionName = "dcp_reserved"
	if int(h.service) < len(dcpServiceNames) && dcpServiceNames[h.service] != "" {
		op.FunctionName = dcpServiceNames[h.service]
	}
	switch h.service {
	case dcpGet:
		op.Class = dissect.ClassRead
	case dcpSet:
		op.Class = dissect.ClassWrite
	case dcpIdentify, dcpHello:
		op.Class = dissect.ClassDiscovery
	default:
		op.Class = dissect.ClassOther
	}
}

// dcpResult sets the result from the ServiceType of a response: bit 0
// success, 5 "request not supported".
func dcpResult(op *dissect.Operation, h *dcpHeader) {
	switch h.typ {
	case 1:
		op.Result.Status = dissect.StatusOK
	case 5:
		op.Result = dissect.Result{Status: dissect.StatusError, Code: 5, Text: "request_not_supported"}
	default:
		op.Result = dissect.Result{Status: dissect.StatusError, Code: int(h.typ), Text: "response_unsuccessful"}
	}
}

// hold keeps a Get or Set request until its response arrives.
func (d *Dissector) hold(f *dissect.Frame, h *dcpHeader) {
	slot := -1
	for i := range d.pend {
		if !d.pend[i].used {
			slot = i
			break
		}
	}
	if slot < 0 {
		// Full: the oldest request gives its place up unreported.
		slot = 0
		for i := range d.pend {
			if d.pend[i].t.Before(d.pend[slot].t) {
				slot = i
			}
		}
	}
	p := &d.pend[slot]
	p.used = true
	p.xid = h.xid
	p.client = f.SrcMAC
	p.server = f.DstMAC
	p.vlan = f.VLAN
	p.t = f.Time
	p.ref = f.Packet
	p.n = copy(p.pdu[:], f.Payload)
	p.complete = p.n == len(f.Payload)
	if !p.complete {
		// Keep a parsable prefix: the DCP length then covers what was kept.
		binary.BigEndian.PutUint16(p.pdu[10:], uint16(p.n-12))
	}
}

// take returns and frees the pending request answered by a response.
func (d *Dissector) take(xid uint32, client, server dissect.MAC) *dcpPending {
	for i := range d.pend {
		p := &d.pend[i]
		if p.used && p.xid == xid && p.client == client && p.server == server {
			p.used = false
			return p
		}
	}
	return nil
}

// expire reports requests unanswered for longer than dcpTimeout.
func (d *Dissector) expire(now time.Time, ctx *dissect.Context) {
	for i := range d.pend {
		if p := &d.pend[i]; p.used && now.Sub(p.t) > dcpTimeout {
			d.emitPending(p, ctx)
		}
	}
}

// Flush reports every Get and Set request still waiting for its response
// as unanswered. Call it when the capture or the sensor ends.
func (d *Dissector) Flush(ctx *dissect.Context) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range d.pend {
		if d.pend[i].used {
			d.emitPending(&d.pend[i], ctx)
		}
	}
}

func (d *Dissector) emitPending(p *dcpPending, ctx *dissect.Context) {
	p.used = false
	op := ctx.Op("profinet")
	op.Transport = "ethernet"
	op.Time = p.t
	op.Packets = append(op.Packets[:0], p.ref)
	op.Client.MAC = p.client
	op.Server.MAC = p.server
	op.Request = true
	h, err := parseDCP(p.pdu[:p.n])
	dcpNames(op, &h)
	if err == nil {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "xid", Value: hex32(h.xid)})
		err = dcpRequestBlocks(op, h.data, h.service)
	}
	if err != nil && p.complete {
		op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: err.Error()}
	}
	ctx.Emit(op)
}

// dcpRequestBlocks decodes the blocks of a request: Get lists
// option/suboption pairs; Identify carries filter blocks without a
// qualifier; Set carries blocks with a BlockQualifier before the value.
func dcpRequestBlocks(op *dissect.Operation, b []byte, service byte) error {
	switch service {
	case dcpGet:
		for len(b) >= 2 {
			op.Targets = append(op.Targets, dissect.Target{Kind: subName(b[0], b[1]), Address: uint32(b[0])<<8 | uint32(b[1])})
			b = b[2:]
		}
		if len(b) != 0 {
			return errBlock
		}
		return nil
	case dcpSet:
		return dcpBlocks(op, b, blocksSet)
	}
	for len(b) > 0 {
		if len(b) < 4 {
			return errBlock
		}
		n := int(binary.BigEndian.Uint16(b[2:]))
		if 4+n > len(b) {
			return errBlock
		}
		opt, sub := b[0], b[1]
		t := dissect.Target{Kind: subName(opt, sub), Address: uint32(opt)<<8 | uint32(sub)}
		if opt == optDevice && (sub == 1 || sub == 2 || sub == 6) && n > 0 {
			t.Name = text(b[4 : 4+n])
		}
		op.Targets = append(op.Targets, t)
		b = b[4+n:]
		if n&1 == 1 && len(b) > 0 {
			b = b[1:] // padding to an even length
		}
	}
	return nil
}

// How dcpBlocks treats block values.
const (
	blocksSet    = iota // values to be written: targets
	blocksClient        // values the client reports about itself (Hello)
	blocksServer        // values the server reports about itself
)

// dcpBlocks walks blocks that carry a BlockInfo or BlockQualifier before
// their value (Set requests, Hello requests, responses).
func dcpBlocks(op *dissect.Operation, b []byte, mode int) error {
	for len(b) > 0 {
		if len(b) < 4 {
			return errBlock
		}
		opt, sub := b[0], b[1]
		n := int(binary.BigEndian.Uint16(b[2:]))
		if 4+n > len(b) {
			return errBlock
		}
		v := b[4 : 4+n]
		b = b[4+n:]
		if n&1 == 1 && len(b) > 0 {
			b = b[1:] // padding to an even length
		}
		if opt == optControl && sub == 4 {
			// Control/Response: the option answered and its BlockError.
			if len(v) < 3 {
				return errBlockLen
			}
			if e := v[2]; e != 0 {
				op.Result = dissect.Result{Status: dissect.StatusError, Code: int(e), Text: "block_error"}
				if int(e) < len(blockErrorNames) {
					op.Result.Text = blockErrorNames[e]
				}
			}
			continue
		}
		if len(v) < 2 {
			return errBlockLen
		}
		v = v[2:]
		if mode == blocksSet {
			if err := setTarget(op, opt, sub, v); err != nil {
				return err
			}
			continue
		}
		if err := blockFacts(op, opt, sub, v, mode == blocksServer); err != nil {
			return err
		}
	}
	return nil
}

// setTarget records one block of a Set request as a target.
func setTarget(op *dissect.Operation, opt, sub byte, v []byte) error {
	t := dissect.Target{Kind: subName(opt, sub), Address: uint32(opt)<<8 | uint32(sub)}
	switch {
	case opt == optDevice && (sub == 2 || sub == 6):
		t.Name = text(v)
	case opt == optIP && (sub == 2 || sub == 3):
		if len(v) < 12 {
			return errBlockLen
		}
		t.Name = ip4(v).String()
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "netmask", Value: ip4(v[4:]).String()},
			dissect.Attr{Key: "gateway", Value: ip4(v[8:]).String()})
	case opt == optControl && (sub == 3 || sub == 5 || sub == 6):
		op.Class = dissect.ClassControl
	}
	op.Targets = append(op.Targets, t)
	return nil
}

// blockFacts turns a reported block into identity facts and attributes.
func blockFacts(op *dissect.Operation, opt, sub byte, v []byte, server bool) error {
	fact := func(k, val string) {
		op.Identity = append(op.Identity, dissect.Fact{Key: k, Value: val, Server: server})
	}
	attr := func(k, val string) { op.Attrs = append(op.Attrs, dissect.Attr{Key: k, Value: val}) }
	switch opt {
	case optIP:
		switch sub {
		case 1:
			if len(v) < 6 {
				return errBlockLen
			}
			attr("mac_address", dissect.MAC(v[:6]).String())
		case 2, 3:
			if len(v) < 12 {
				return errBlockLen
			}
			a := ip4(v)
			attr("ip", a.String())
			attr("netmask", ip4(v[4:]).String())
			attr("gateway", ip4(v[8:]).String())
			if !a.IsUnspecified() {
				fact(dissect.FactIP, a.String())
			}
		}
	case optDevice:
		switch sub {
		case 1:
			if s := text(v); s != "" {
				attr("device_vendor_value", s)
				fact(dissect.FactProduct, s)
			}
		case 2:
			if s := text(v); s != "" {
				fact(dissect.FactHostname, s)
			}
		case 3:
			if len(v) < 4 {
				return errBlockLen
			}
			vid, did := binary.BigEndian.Uint16(v), binary.BigEndian.Uint16(v[2:])
			attr("vendor_id", hex16(vid))
			attr("device_id", hex16(did))
			fact(dissect.FactVendorID, strconv.Itoa(int(vid)))
			fact(dissect.FactProductCode, strconv.Itoa(int(did)))
		case 4:
			if len(v) < 1 {
				return errBlockLen
			}
			attr("device_role", hex8(v[0]))
			fact(dissect.FactDeviceType, deviceRoleName(v[0]))
		case 6:
			if s := text(v); s != "" {
				attr("alias_name", s)
			}
		case 7:
			if len(v) < 2 {
				return errBlockLen
			}
			attr("device_instance", strconv.Itoa(int(v[0]))+"."+strconv.Itoa(int(v[1])))
		}
	}
	return nil
}

// text returns a string value up to its first NUL (tshark and devices
// treat the rest as padding).
func text(v []byte) string {
	for i, c := range v {
		if c == 0 {
			return string(v[:i])
		}
	}
	return string(v)
}

func ip4(v []byte) netip.Addr { return netip.AddrFrom4([4]byte(v[:4])) }

const hexDigits = "0123456789abcdef"

func hex8(v byte) string { return "0x" + string([]byte{hexDigits[v>>4], hexDigits[v&15]}) }

func hex16(v uint16) string { return "0x" + hex8(byte(v >> 8))[2:] + hex8(byte(v))[2:] }

func hex32(v uint32) string { return hex16(uint16(v>>16)) + hex16(uint16(v))[2:] }
