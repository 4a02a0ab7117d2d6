// Package anomaly is the Anomaly engine: scans and sweeps, industrial discovery, ARP spoofing and duplicate addresses, floods, polling-rate changes and written values outside their learned range.
package anomaly
