// Package anomaly is the Anomaly engine: scans and sweeps, industrial
// discovery, ARP spoofing and duplicate addresses, floods, polling-rate
// changes, written values outside their learned range and password
// guessing.
//
// Alert types and what raises them:
//
//   - scan.port: one source tries 25 distinct TCP or UDP ports of one host
//     within 2 minutes. TCP attempts are counted at the SYN (a packet
//     handler, so that unanswered probes count at once); UDP attempts from
//     the flows' "service" operations.
//   - scan.address: one source tries 50 distinct addresses of one class B
//     network (a /64 for IPv6) within 2 minutes, by SYN, UDP or ICMP echo.
//   - scan.plc: one source tries industrial protocol ports (by service name
//     or by the dissector claiming the port) on 10 distinct hosts within 2
//     minutes.
//     A source's later scan findings, within 10 minutes, merge into its
//     first scan alert: one scanner gives one alert.
//   - modbus.unit_id_sweep: a client addresses 10 unit ids of one server
//     within 2 minutes that it did not use while learning.
//   - s7comm.szl_enumeration: a client reads 8 SZL ids of one PLC within 2
//     minutes that it did not read while learning.
//   - enip.list_identity_broadcast: a List Identity request to a broadcast
//     or multicast address from a client that did not send one while
//     learning, or unicast List Identity requests to 10 devices within 2
//     minutes.
//   - arp.spoofing and arp.duplicate_ip: an ARP sender claims an address
//     bound to another MAC that is still active. A MAC that holds another
//     address, or that sends three unsolicited replies for it within a
//     minute, is spoofing; otherwise two devices use one address. An address
//     whose owner was silent for 10 minutes moves to the new MAC quietly.
//   - flood.icmp and flood.syn: a host receives 500 echo requests or 1000
//     SYNs within 10 seconds. Each window raises once; the alerts of later
//     windows merge.
//   - anomaly.polling_rate_change: a channel (client, server, industrial
//     protocol) polled steadily while learning sends three times more or
//     fewer requests in a window (6 periods, at least a minute) than its
//     period predicts. The periods are written to the baseline as rate
//     entries and read back from an imported baseline.
//   - anomaly.value_out_of_range: a value written to a Modbus holding
//     register (functions 6, 16 and 23) lies outside the range learned for
//     that register, widened by the learned span or half its largest
//     magnitude. The ranges are the baseline's value entries.
//   - auth.excessive_login_attempts: 10 failed logins (operations of class
//     authentication with an error result: FTP, Telnet, SMB, S7 password)
//     from one client to one server within 5 minutes.
//
// Thresholds are the alert types' defaults, tunable per zone (a count of 0
// turns a type off in that zone). The types that depend on learning (unit
// ids, SZL ids, List Identity, polling rates and values) only learn while
// the detector learns. Every table of the engine is bounded and recycles
// its least recently seen entries, so a flood of spoofed packets keeps its
// memory constant; benign operations and packets do not allocate.
package anomaly
