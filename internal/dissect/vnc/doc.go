// Package vnc dissects the handshake of the Remote Framebuffer protocol
// (RFB, RFC 6143 section 7.1): the protocol versions of both sides, the
// security types the server offers and the client chooses, and the
// security result. Everything after it (framebuffer updates, input
// events) is skipped. A VNC session on an HMI or engineering station is
// remote access, and one without authentication is a finding.
package vnc
