package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/otwatch/otwatch/internal/store"
	"github.com/otwatch/otwatch/internal/store/schema"
)

// migrationFiles are the schema versions, applied in order: NNNN_name.sql
// takes the schema from version NNNN-1 to NNNN.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations lists the embedded migrations in version order.
var migrations = schema.Load(migrationFiles, "migrations/*.sql", "sqlite")

// SchemaVersion is the schema version this package creates.
func SchemaVersion() int { return len(migrations) }

// migrate brings the database to version upTo in one transaction. It
// refuses, changing nothing, a database holding other applications'
// tables or a newer schema.
func migrate(ctx context.Context, db *sql.DB, file string, upTo int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return notDatabase(file, err)
	}
	defer tx.Rollback()
	var ours, others int
	err = tx.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE name = 'schema_version'),
		count(*) FILTER (WHERE name <> 'schema_version' AND name NOT LIKE 'sqlite_%')
		FROM sqlite_schema WHERE type = 'table'`).Scan(&ours, &others)
	if err != nil {
		return notDatabase(file, err)
	}
	version := 0
	switch {
	case ours == 0 && others > 0:
		return fmt.Errorf("%w: %s is a SQLite database of another application (no schema_version table)", store.ErrNotDatabase, file)
	case ours == 1:
		if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_version").Scan(&version); err != nil {
			return notDatabase(file, err)
		}
	default:
		if _, err := tx.ExecContext(ctx, "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ns INTEGER NOT NULL)"); err != nil {
			return fmt.Errorf("sqlite: %s: creating schema_version: %w", file, err)
		}
	}
	if version > len(migrations) {
		return fmt.Errorf("%w: %s has schema version %d, newer than this otwatch knows (%d)", store.ErrNotDatabase, file, version, len(migrations))
	}
	for _, m := range migrations[version:min(upTo, len(migrations))] {
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("sqlite: %s: migrating to version %d (%s): %w", file, m.Version, m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_version VALUES (?,?,?)", m.Version, m.Name, time.Now().UnixNano()); err != nil {
			return fmt.Errorf("sqlite: %s: recording version %d: %w", file, m.Version, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: %s: committing migration: %w", file, err)
	}
	return nil
}

// notDatabase wraps an error SQLite gave reading what should be a
// database's schema.
func notDatabase(file string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("sqlite: %s: %w", file, err)
	}
	return fmt.Errorf("%w: %s: %v", store.ErrNotDatabase, file, err)
}
