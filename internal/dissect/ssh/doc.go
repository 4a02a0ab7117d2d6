// Package ssh dissects the clear-text start of SSH connections: the
// protocol version exchange of RFC 4253 section 4.2 ("SSH-2.0-OpenSSH_8.9p1
// Ubuntu-3ubuntu0.1"), which names the software, its version and often the
// operating system of both ends. Everything after the banners (key
// exchange and the encrypted transport) is skipped. In an OT network an
// SSH session is remote access to a host or device.
package ssh
