package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/otwatch/otwatch/internal/store"
	"github.com/otwatch/otwatch/internal/store/schema"
)

// migrationFiles are the schema versions, applied in order: NNNN_name.sql
// takes the schema from version NNNN-1 to NNNN.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations lists the embedded migrations in version order.
var migrations = schema.Load(migrationFiles, "migrations/*.sql", "postgres")

// SchemaVersion is the schema version this package creates.
func SchemaVersion() int { return len(migrations) }

// migrateLock is the key of the advisory lock that serializes migrations
// of one database ("otwatch" in ASCII).
const migrateLock = 0x6f7477617463

// migrate brings the schema (the first of the search_path) to version upTo
// in one transaction. It refuses, changing nothing, a schema holding
// other applications' tables or a newer otwatch schema.
func migrate(ctx context.Context, pool *pgxpool.Pool, name string, upTo int) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: %s: %w", name, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrateLock)); err != nil {
		return fmt.Errorf("postgres: %s: locking the schema for migration: %w", name, err)
	}
	var schema *string
	if err := tx.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return fmt.Errorf("postgres: %s: %w", name, err)
	}
	if schema == nil {
		return fmt.Errorf("%w: postgres: %s: no schema of the search_path exists to hold otwatch's tables", store.ErrInvalid, name)
	}
	var ours bool
	var others []string
	err = tx.QueryRow(ctx, `SELECT coalesce(bool_or(tablename = 'schema_version'), false),
		coalesce(array_agg(tablename ORDER BY tablename) FILTER (WHERE tablename <> 'schema_version'), '{}')
		FROM pg_tables WHERE schemaname = $1`, *schema).Scan(&ours, &others)
	if err != nil {
		return fmt.Errorf("postgres: %s: reading schema %s: %w", name, *schema, err)
	}
	version := 0
	switch {
	case !ours && len(others) > 0:
		if len(others) > 5 {
			others = append(others[:5], "...")
		}
		return fmt.Errorf("%w: postgres: %s: schema %q holds tables of another application (%s) and no schema_version table",
			store.ErrNotDatabase, name, *schema, strings.Join(others, ", "))
	case ours:
		err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_version").Scan(&version)
		if err != nil {
			return fmt.Errorf("%w: postgres: %s: reading schema_version: %v", store.ErrNotDatabase, name, err)
		}
	default:
		if _, err := tx.Exec(ctx, `CREATE TABLE schema_version (version int4 PRIMARY KEY, name text NOT NULL, applied_ns int8 NOT NULL)`); err != nil {
			return fmt.Errorf("postgres: %s: creating schema_version: %w", name, err)
		}
	}
	if version > len(migrations) {
		return fmt.Errorf("%w: postgres: %s: schema %q has version %d, newer than this otwatch knows (%d)",
			store.ErrNotDatabase, name, *schema, version, len(migrations))
	}
	for _, m := range migrations[version:min(upTo, len(migrations))] {
		if _, err := tx.Exec(ctx, m.SQL, pgx.QueryExecModeSimpleProtocol); err != nil {
			return fmt.Errorf("postgres: %s: migrating to version %d (%s): %w", name, m.Version, m.Name, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO schema_version VALUES ($1, $2, $3)", m.Version, m.Name, time.Now().UnixNano()); err != nil {
			return fmt.Errorf("postgres: %s: recording version %d: %w", name, m.Version, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("postgres: %s: %w", name, err)
		}
		return fmt.Errorf("postgres: %s: committing migration: %w", name, err)
	}
	return nil
}
