// Package rdp dissects the connection initiation of the Remote Desktop
// Protocol ([MS-RDPBCGR] section 1.3.1.1): the X.224 Connection Request
// (ITU-T X.224, carried in TPKT, RFC 1006) with its routing cookie
// ("Cookie: mstshash=USER") and RDP Negotiation Request, and the server's
// X.224 Connection Confirm with the selected security protocol or a
// negotiation failure. Everything after it is TLS/CredSSP or RDP's own
// encryption and is skipped. An RDP session to an engineering station or
// HMI is remote access; the cookie often names the user.
package rdp
