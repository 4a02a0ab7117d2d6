// Package simulate generates a deterministic capture of a small plant's
// network traffic as a classic pcap file (little-endian, nanosecond
// timestamps, Ethernet), for tests, benchmarks and demonstrations that must
// not depend on captures made elsewhere.
//
// The plant has two subnets joined by one router: a control network
// (10.10.1.0/24) with an engineering workstation, two HMIs and a historian,
// and a field network (10.10.2.0/24) with three PLCs and an RTU. The
// capture is what a SPAN port sees: every frame once, on the sender's
// segment, so a frame to the other subnet carries the router's MAC as its
// destination. The HMIs poll the PLCs over Modbus/TCP every second, the
// historian reads input registers every five seconds, the workstation takes
// its address by DHCP and opens short Modbus sessions, and hosts resolve
// and refresh their gateway with ARP. The first HMI also reads tags from
// the Siemens PLC over S7comm (ISO-on-TCP) and from the Rockwell PLC over
// EtherNet/IP and CIP, with a short class 1 I/O connection; the second HMI
// is the DNP3 master of the RTU (start-up sequence, event polls,
// unsolicited responses, controls); the workstation goes online with the
// Siemens PLC now and then (SZL reads, block lists). Scenarios (a port
// scan, a new device, program changes, a PLC stop, a firmware update,
// restarts) are injected into the timeline when asked for, and the Summary
// that Generate returns describes what was written, per protocol, so that
// tests can use it as ground truth.
//
// Options.Cells adds optional parts of the plant, each with its own
// hosts and periodic traffic: a building automation network (10.10.3.0/24)
// where a BMS workstation polls three BACnet/IP controllers; a substation
// (10.10.4.0/24) whose gateway a SCADA front end on the control network
// reads over IEC 60870-5-104, with a protection relay read over MMS and two
// relays publishing GOOSE; and an OPC UA server on the field network that
// an HMI and the historian read and subscribe to. The attack scenarios of
// a cell enable it.
//
// The same Options, including the seed, always give the same bytes.
package simulate
