// Package alert holds the alert record and the catalogue entry that every
// alert type is defined by: what the sensor raises, what the store keeps
// and what the console shows.
//
// An alert type (Type) fixes the engine, severity, category, MITRE ATT&CK
// for ICS techniques, remediation steps and whether Learn applies. An
// Alert is one occurrence of a type between two parties, merged with its
// recurrences while it stays open.
package alert
