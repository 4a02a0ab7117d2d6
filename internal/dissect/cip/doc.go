// Package cip decodes the Common Industrial Protocol (CIP) message layer
// shared by EtherNet/IP, DeviceNet and ControlNet, from ODVA "The CIP
// Networks Library, Volume 1: Common Industrial Protocol": message router
// requests and replies (chapter 2-4), EPATH request paths (appendix C),
// service codes, general and extended status codes (appendix A and B),
// object class names (chapter 5), device profiles (chapter 6), the
// Identity object's attributes, and the ODVA vendor table.
//
// Everything here works on caller-owned byte slices and allocates nothing:
// parsers return values that point into their input.
package cip

//go:generate go run ../internal/vendorgen -registry cip -pkg cip -what "ODVA vendor ids" -o vendors_gen.go
