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
// and refresh their gateway with ARP. Scenarios (a port scan, a new device)
// are injected into the timeline, and the Summary that Generate returns
// describes what was written so that tests can use it as ground truth.
//
// The same Options, including the seed, always give the same bytes.
package simulate
