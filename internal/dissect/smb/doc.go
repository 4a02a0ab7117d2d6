// Package smb dissects SMB over TCP: the NetBIOS session service framing
// of RFC 1002 section 4.3 (port 139, with its session request naming both
// hosts) and the direct TCP transport of port 445 ([MS-SMB2] 2.1), SMB1
// ([MS-CIFS], [MS-SMB]) and SMB2/3 ([MS-SMB2]) headers with requests paired
// to responses, the negotiated dialect, NTLMSSP authentication
// ([MS-NLMP]: user, domain and workstation of the AUTHENTICATE message,
// the server's names and version from the CHALLENGE), the native OS
// strings of SMB1 session setup, and the share and file names of tree
// connects and creates. Encrypted SMB3 messages are skipped.
package smb
