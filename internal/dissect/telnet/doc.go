// Package telnet dissects Telnet sessions (RFC 854, option negotiation of
// RFC 855): it strips IAC commands and option negotiation, watches the
// server's text for login and password prompts, and reports each login
// attempt with the user name typed after a login prompt and the fact that
// the password crossed the network in clear. Telnet is still the console
// of many switches, RTUs and serial servers in OT networks.
package telnet
