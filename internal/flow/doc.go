// Package flow keeps the sensor's table of bidirectional flows: one entry per
// 5-tuple (plus VLAN), with packet and byte counters per direction, first and
// last seen times, and TCP state. Memory is capped: the table holds at most
// MaxFlows entries and, when full, evicts the flow idle the longest, counting
// the eviction. Idle flows expire by capture time, so offline analysis of a
// day-long capture behaves as live capture did.
package flow
