// Package memstore is a store.Store kept in memory, for the console's
// tests: it follows the documented contract of store.Store (validation
// through the store package's Normalize and Check functions, the alert
// lifecycle of store.Transition, audit entries for every write with an
// actor) without any of a real backend's indexes, so it is slow on large
// data and keeps nothing across restarts. It does not apply evidence
// retention, write evidence files, or turn alert packets into evidence.
package memstore
