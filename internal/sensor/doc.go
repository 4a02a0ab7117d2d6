// Package sensor runs otwatch as a long-lived service: it captures from a
// live interface or reads capture files (once, or as they appear in a
// watched directory), runs them through the pipeline, the inventory and
// the detector, and keeps what they find in a store.
//
// One goroutine owns the pipeline, the inventory and the detector; it hands
// copies of alerts, timeline events, inventory snapshots and mode changes to
// a writer goroutine, which batches them into the store: alerts at least
// every Config.BatchInterval or every Config.BatchSize alerts, with their
// evidence packets as pcapng. After each batch is committed the writer logs
// "alerts committed" with the batch's size and last alert id, so that what
// a crash can lose is bounded by what was not yet logged.
//
// Crash safety rests on idempotent ingest: alert ids are deterministic
// (alert.ID), events have deterministic keys, and the store upserts both.
// A capture file is recorded as done in the state file only once everything
// it produced is committed; a file cut short by a crash is read again from
// its start on restart, which re-detects the same alerts under the same
// ids. The sensor's mode and baseline live in the store, so a restarted
// sensor continues learning, or stays operational, where it left off.
//
// The inventory numbers devices in the order one run finds them, so the
// writer stores devices, connections and timeline events under the IDs
// the store keeps by each device's key (store.Store.DeviceIDs): a device
// keeps its ID, and its page in the console, across restarts. The writer
// caches the IDs it learned, asking the store only about new devices.
//
// Metrics serves counters and gauges in the Prometheus text exposition
// format.
package sensor
