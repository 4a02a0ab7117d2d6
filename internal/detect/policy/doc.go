// Package policy is the Policy violation engine. While the detector
// learns, it adds what the traffic does to the baseline: the devices (by
// IP address, or MAC address for hosts seen only at layer 2), the
// connections (client, server, service, port), the pairs of devices that
// talk, the functions and operation classes each client uses on each
// industrial server, the Modbus register ranges each client touches (in
// buckets of RangeBucket registers) and the public addresses each host
// talks to. Refused and unanswered connection attempts teach nothing, so
// a scan during learning does not whitelist the ports it probed.
//
// Once operational, it raises at most one finding per operation, the
// widest deviation first: a new device (policy.new_device), internet
// access of an OT device (policy.internet_access), a connection from an
// IT host into an industrial service (policy.it_ot_crossing), a new pair
// of devices (policy.new_connection) or a new protocol between known ones
// (policy.new_protocol), a program or firmware change from a host that is
// not one of the controller's programming stations
// (policy.unauthorized_programming), a write from a host that never wrote
// (policy.new_write), a function never used on that connection
// (modbus.unauthorized_function, dnp3.unauthorized_function,
// s7comm.unauthorized_function, enip.unauthorized_service, and
// policy.new_function for the other industrial protocols) and a Modbus
// register range never accessed (modbus.address_range_violation). The
// operations of a connection that is itself new are judged as that
// connection, not one by one. Every type is learnable: a finding's Learn
// is the baseline entry whose absence raised it.
//
// Reads and writes are judged by class, not by function: a host that
// writes setpoints to one controller may write to another it polls, with
// any write function; the signal is a host that never wrote. Uploads and
// changes made by a controller's engineering stations are the operational
// engine's; scans and discovery sweeps are the anomaly engine's, so a
// client that gets refused probes or opens many new connections at once
// is not alerted connection by connection.
//
// Lookups on the operation path allocate nothing: baseline entries are
// comparable values built on the stack from the operation's own strings.
package policy
