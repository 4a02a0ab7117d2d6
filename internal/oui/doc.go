// Package oui names the organisation behind a MAC address from the IEEE
// Registration Authority's listings: MA-L (24-bit prefixes), MA-M (28-bit),
// MA-S and IAB (36-bit), longest prefix first. Group (multicast and
// broadcast) addresses and locally administered addresses are reported as
// such; a few well-known group addresses of the standards (STP, LLDP, PTP,
// PROFINET, IEC 61850 GOOSE and SV, IPv4 and IPv6 multicast) are named.
//
// The table is generated from the IEEE CSV files by internal/gen (run
// `go generate ./internal/oui`); lookups binary-search it in place and never
// allocate.
package oui

//go:generate go run ./internal/gen
