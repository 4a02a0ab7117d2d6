package mms

import "encoding/binary"

// SPDU identifiers (ISO 8327-1 / ITU-T X.225 section 8.3, table 8 and
// the SPDU definitions that follow). GIVE TOKENS and DATA TRANSFER share
// code 1, PLEASE TOKENS is 2: a category 0 SPDU comes first in a TSDU,
// concatenated with the category 2 DT that carries the user data (section
// 6.3.7, basic concatenation).
const (
	spduGT = 1  // GIVE TOKENS (category 0)
	spduDT = 1  // DATA TRANSFER (category 2)
	spduPT = 2  // PLEASE TOKENS (category 0)
	spduNF = 8  // NOT FINISHED
	spduFN = 9  // FINISH
	spduDN = 10 // DISCONNECT
	spduRF = 12 // REFUSE
	spduCN = 13 // CONNECT
	spduAC = 14 // ACCEPT
	spduAB = 25 // ABORT
	spduAA = 26 // ABORT ACCEPT
)

// Parameter identifiers (X.225 section 8.3, one table per SPDU): PGI
// units group PI units; both have a one-octet code and a length of one
// octet, or 0xff and two octets (section 8.2.5).
const (
	piConnectionID   = 1   // PGI Connection Identifier
	piConnectAccept  = 5   // PGI Connect/Accept Item
	piTokenItem      = 16  // Token Item
	piTransportDisc  = 17  // Transport Disconnect
	piProtocolOpts   = 19  // Protocol Options
	piUserReqs       = 20  // Session User Requirements
	piTSDUMaxSize    = 21  // TSDU Maximum Size
	piVersion        = 22  // Version Number
	piInitialSerial  = 23  // Initial Serial Number
	piEnclosure      = 25  // Enclosure Item
	piTokenSetting   = 26  // Token Setting Item
	piReasonCode     = 50  // Reason Code
	piCallingSSEL    = 51  // Calling Session Selector
	piCalledSSEL     = 52  // Called (or Responding) Session Selector
	piDataOverflow   = 60  // Data Overflow
	piUserData       = 193 // PGI User Data
	piExtendedUserDa = 194 // PGI Extended User Data
)

// knownPI reports whether c is a parameter code that may appear at the
// top level of a CONNECT or ACCEPT SPDU (X.225 sections 8.3.1 and 8.3.2).
func knownPI(c byte) bool {
	switch c {
	case piConnectionID, piConnectAccept, piTokenItem, piTransportDisc, piProtocolOpts, piUserReqs, piTSDUMaxSize,
		piVersion, piInitialSerial, piEnclosure, piTokenSetting, piReasonCode, piCallingSSEL, piCalledSSEL,
		piDataOverflow, piUserData, piExtendedUserDa, 55, 56, 57, 58:
		return true
	}
	return false
}

// spduHeader splits the SPDU at the start of b into its identifier, its
// parameter field and the bytes after the parameter field (the user
// information of a DT, or the next SPDU). ok is false when the length
// indicator runs past b.
func spduHeader(b []byte) (si byte, params, rest []byte, ok bool) {
	if len(b) < 2 {
		return 0, nil, nil, false
	}
	si = b[0]
	li, h := int(b[1]), 2
	if li == 0xff {
		if len(b) < 4 {
			return 0, nil, nil, false
		}
		li, h = int(binary.BigEndian.Uint16(b[2:4])), 4
	}
	if h+li > len(b) {
		return 0, nil, nil, false
	}
	return si, b[h : h+li], b[h+li:], true
}

// nextParam reads the PI or PGI unit at the start of p.
func nextParam(p []byte) (code byte, val, rest []byte, ok bool) {
	if len(p) < 2 {
		return 0, nil, nil, false
	}
	code = p[0]
	l, h := int(p[1]), 2
	if l == 0xff {
		if len(p) < 4 {
			return 0, nil, nil, false
		}
		l, h = int(binary.BigEndian.Uint16(p[2:4])), 4
	}
	if h+l > len(p) {
		return 0, nil, nil, false
	}
	return code, p[h : h+l], p[h+l:], true
}

// spduParams holds the parameters of a CONNECT, ACCEPT, REFUSE, FINISH,
// DISCONNECT or ABORT SPDU this package uses.
type spduParams struct {
	userData       []byte // PGI 193 or 194
	calling, calld []byte // session selectors
	reason         []byte // Reason Code (REFUSE, ABORT)
	hasReason      bool
}

// parseParams walks a parameter field. ok is false when a unit overruns
// it.
func parseParams(p []byte, out *spduParams) bool {
	*out = spduParams{}
	for len(p) > 0 {
		code, val, rest, ok := nextParam(p)
		if !ok {
			return false
		}
		switch code {
		case piUserData, piExtendedUserDa:
			out.userData = val
		case piCallingSSEL:
			out.calling = val
		case piCalledSSEL:
			out.calld = val
		case piReasonCode:
			out.reason, out.hasReason = val, true
		}
		p = rest
	}
	return true
}

// IsSPDU reports whether b, the start of a COTP TSDU, looks like the ISO
// session layer MMS runs over: a CONNECT or ACCEPT SPDU whose parameters
// are session parameters (b may end inside the SPDU), or the GIVE TOKENS
// and DATA TRANSFER pair that carries presentation fully encoded data
// (0x61). It does not allocate.
func IsSPDU(b []byte) bool {
	if len(b) < 4 {
		return false
	}
	switch b[0] {
	case spduGT, spduPT:
		return b[1] == 0 && b[2] == spduDT && b[3] == 0 && len(b) >= 5 && b[4] == 0x61
	case spduCN, spduAC:
	default:
		return false
	}
	li, h := int(b[1]), 2
	if li == 0xff {
		li, h = int(binary.BigEndian.Uint16(b[2:4])), 4
	}
	if li < 2 || h >= len(b) {
		return false
	}
	p := b[h:]
	cut := len(p) < li
	if !cut {
		p = p[:li]
	}
	units := 0
	for len(p) > 0 {
		if !knownPI(p[0]) {
			return false
		}
		_, _, rest, ok := nextParam(p)
		if !ok {
			return cut && units > 0
		}
		units++
		p = rest
	}
	return units > 0
}
