// Package violation is the Protocol violation engine: malformed packets,
// illegal, obsolete and reserved function codes, invalid lengths and CRCs,
// broken sequence numbers, reserved status bits, responses without
// requests and connection attempts on port 0 — breaches of the protocol
// specifications that the dissectors report in their operations.
//
// Every occurrence is a finding; the Detector merges repeats of one type
// between the same devices with the same key. Keys name the protocol and
// the kind of violation, never the varying numbers of a message, so a
// flood of malformed packets or a sweep of function codes from one host is
// one alert whose count grows and whose detail names the first message.
//
// The engine keeps no per-message state. Its only memory is a bounded table
// of flows: whether a request and its response were seen paired on the
// flow, and how many requests the dissector gave up on. A response without
// request is reported only on a flow that paired before (not in a capture
// that began mid-connection), and only when, after the dissector's pairing
// window, there are more such responses than requests given up on around
// them: masters that reuse transaction ids or sequence numbers produce
// both in equal numbers, an injected response produces only the first.
package violation
