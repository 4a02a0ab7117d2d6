// Package tls dissects the unencrypted start of TLS connections (RFC 8446
// for TLS 1.3, RFC 5246 for TLS 1.2 and earlier): the ClientHello's
// server name (RFC 6066 section 3), ALPN protocols (RFC 7301) and offered
// versions, the ServerHello's version and cipher suite, and, before TLS
// 1.3 encrypts it, the server's certificate (subject common name and
// issuer). Everything after the handshake is encrypted and skipped. OPC
// UA over TLS, MQTT over TLS and vendors' web interfaces are where it
// meets OT networks.
package tls
