// Package violation is the Protocol violation engine: malformed packets, illegal function codes, invalid lengths and CRCs, responses without requests and other breaches of the protocol specifications.
package violation
