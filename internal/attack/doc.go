// Package attack is the MITRE ATT&CK for ICS catalogue that detections name
// their techniques from: the tactics of the ICS matrix in matrix order, the
// active techniques with their tactics and a short summary, lookups by ID,
// and export of scored techniques as an ATT&CK Navigator layer.
//
// The catalogue is generated from MITRE's STIX bundle by internal/gen (run
// `go generate ./internal/attack` with the reference data in $OTWATCH_DATA);
// Version names the ATT&CK release it holds.
//
// © 2025 The MITRE Corporation. This work is reproduced and distributed with
// the permission of The MITRE Corporation.
package attack

//go:generate go run ./internal/gen
