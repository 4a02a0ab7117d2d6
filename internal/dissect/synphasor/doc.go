// Package synphasor decodes IEEE C37.118.2-2011 ("IEEE Standard for
// Synchrophasor Data Transfer for Power Systems") and its predecessor IEEE
// C37.118-2005, carried over TCP port 4712 and UDP port 4713.
//
// Every frame starts with SYNC (0xAA, then the frame type and version),
// FRAMESIZE, IDCODE (the stream source), SOC and FRACSEC (the time stamp)
// and ends with a CRC-CCITT check word (clause 6.2). The session checks
// the CRC, names the frame type (data, header, configuration 1, 2 and 3,
// command), decodes command frames (CMD: turn data transmission off or
// on, send the header or a configuration frame, extended frame) and
// configuration frames (time base, PMU blocks with station name, IDCODE,
// channel counts and nominal frequency, data rate).
//
// A command that asks for a frame is paired with the frame the other side
// sends back. Data frames are a continuous stream (tens of frames per
// second): one operation per stream and direction per second summarises
// them, from the STAT word of the first PMU block, without allocating.
// The station name of a single-PMU configuration is the device's host
// name, its IDCODE its address; the PMU blocks of a PDC's configuration
// are its modules.
package synphasor
