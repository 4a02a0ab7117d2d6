// Package capture reads packets from capture files (pcap, pcapng, optionally
// gzip-compressed, or standard input) and, in package capture/afpacket, from
// live Linux interfaces. Every source hands out frames through one interface.
package capture
