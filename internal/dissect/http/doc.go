// Package http dissects HTTP/1.x (RFC 9112 message syntax, RFC 9110
// semantics) on TCP: request lines, responses, the Host, User-Agent,
// Server and Authorization headers, and the framing of message bodies by
// Content-Length and chunked transfer coding, so that pipelined and
// keep-alive requests are paired with their responses. Web servers are
// common on PLCs, HMIs and gateways; the dissector reports which product
// serves them and whether credentials cross the network in clear (Basic
// authentication, RFC 7617).
package http
