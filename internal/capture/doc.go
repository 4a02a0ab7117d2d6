// Package capture reads packets from capture files (pcap, pcapng, optionally
// gzip-compressed, or standard input) and, in package capture
