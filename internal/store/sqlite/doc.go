// Package sqlite is the SQLite store (modernc.org/sqlite, no cgo): one
// database file in WAL mode with one writer connection, a pool of
// read-only connections and a background checkpointer, an embedded
// versioned schema (migrations/), and evidence files in a directory next
// to the database. It registers itself as the "sqlite" backend of
// package store.
//
// Repeated strings (sensors, alert types, device addresses) are kept once
// in a dictionary table and referenced by integer. Each alert refers to
// its combination of the facet dimensions, whose alert counts triggers
// keep current, so facet counts read that small table; the free-text
// filter is resolved against the dictionary, not the alerts. The indexes
// that ingest would otherwise touch all over (parties, combinations,
// event devices) lead with the hour, so a batch writes few pages, and
// queries find a device's alerts or events hour by hour.
package sqlite
