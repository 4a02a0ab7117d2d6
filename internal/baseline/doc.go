// Package baseline holds what a sensor learned as normal: who talks to
// whom, over which protocol and port, with which functions and operation
// classes, on which register or object ranges, and at which rates.
//
// Entries are plain comparable values, so a lookup on the detection path
// costs one map access and no allocation. A Baseline is written and read as
// a readable JSON document (Write, Read) so that it can be reviewed,
// exported and imported.
package baseline
