// Package fins decodes Omron FINS ("FINS Commands Reference Manual",
// W227, and the CS/CJ "Communications Commands Reference Manual", W342)
// carried in UDP datagrams on port 9600 and in FINS/TCP frames on TCP
// port 9600.
//
// A FINS frame is a ten-byte header (ICF, RSV, GCT, destination network,
// node and unit, source network, node and unit, service ID), the two-byte
// command code (MRC, SRC) and, in a response, the two-byte end code
// (MRES, SRES) before the data. FINS/TCP wraps each frame in a sixteen-byte
// header ("FINS", length, command, error code) and opens a connection
// with a node address exchange (commands 0 and 1).
//
// A Session pairs each command with its response by service ID, command
// code and the addresses (the response's destination is the command's
// source) and emits one dissect.Operation per command: its name and
// class, the memory areas, program areas and files it acts on, the PLC
// mode a Run or Stop sets, the end code as the result and, from the
// responses to Controller Data Read (0501) and Name Read (2603), the
// controller's model, version and name as identity facts.
package fins
