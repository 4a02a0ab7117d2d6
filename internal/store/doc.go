// Package store keeps everything otwatch finds: sites, zones and sensors,
// devices and connections, baselines, alerts with their comments, status
// and severity history and evidence, the event timeline, exclusion rules,
// the statuses people give recommendations, users with their console
// sessions and API tokens, and the audit log.
//
// Store is the one interface; backends implement it and register
// themselves with RegisterBackend from an init function: the SQLite
// backend (internal/store/sqlite, the default, a single file) and the
// PostgreSQL backend (internal/store/postgres, for a central console).
// Open picks the backend from the data source name, so this package
// imports no database driver. internal/store/all links every backend in.
//
// internal/store/storetest holds the conformance suite and the benchmarks
// every backend runs.
package store
