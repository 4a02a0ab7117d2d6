// Package postgres is the PostgreSQL store (github.com/jackc/pgx/v5), for
// a central console: a pool of connections to one database, an embedded
// versioned schema (migrations/, recorded in schema_version) applied under
// an advisory lock in the first schema of the search_path, and evidence
// files in the configured evidence directory. It registers itself as the
// "postgres" backend of package store, which selects it for postgres://
// and postgresql:// URLs. Several consoles may share one database.
//
// Repeated strings (sensors, alert types, device addresses, party text)
// are kept once in a dictionary table and referenced by integer, every
// alert carries the id of its combination of facet dimensions other than
// the status (combos), and the catalogue texts the alerts of a type share
// (description, tactics, techniques, remediation) are kept once (texts),
// which keeps rows, indexes and the write-ahead log small. Ingest sends a
// whole batch as arrays in one statement (INSERT ... SELECT FROM
// unnest(...)): alerts already stored are updated (counts and times
// merged, the status and a severity a person set kept) and the others
// inserted; events already stored are skipped. One probe for the whole
// batch stands for the per-row checks when nothing of it is stored yet.
//
// Facet counts of queries on the facet dimensions come from a table of
// counts per combination and status that statement-level triggers keep
// current. The text filter matches dictionary strings, so a search term
// resolves to the combinations and parties it matches: its counts are
// those of the combinations plus the alerts of the matched parties, found
// through the party indexes. Counts over a time range or devices read
// covering indexes only. A page walks the index of its order, or, when
// the counts show that few alerts match, merges ordered walks of the
// combination index, one per combination that can match.
//
// A background job vacuums and analyzes the alerts as they grow (and
// analyzes the events), so that the planner's statistics and the
// visibility map that index-only counting needs stay current without
// relying on autovacuum.
package postgres
