package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations
var migrationFiles embed.FS

// migration is one step of the schema, numbered from 1 without gaps.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the dialect's migrations in order. Both dialects have
// the same versions and names (a test checks it).
func migrations(d *dialect) ([]migration, error) {
	dir := path.Join("migrations", d.name)
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("migration file %s/%s is not named NNNN_name.sql", dir, name)
		}
		b, err := fs.ReadFile(migrationFiles, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: strings.TrimSuffix(name, ".sql"), sql: string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migrations of %s: expected version %d, found %s", d.name, i+1, m.name)
		}
	}
	return ms, nil
}

// SchemaVersion is the schema version this ward writes.
func SchemaVersion() int {
	ms, err := migrations(sqliteDialect)
	if err != nil {
		return 0
	}
	return len(ms)
}

// migrate brings the database to the newest schema in one transaction, or
// refuses a database newer than this binary.
func migrate(ctx context.Context, d *dialect, db *sql.DB, now func() time.Time) error {
	ms, err := migrations(d)
	if err != nil {
		return fmt.Errorf("reading embedded migrations: %w", err)
	}
	if now == nil {
		now = time.Now
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrating: beginning transaction: %w", err)
	}
	defer tx.Rollback()
	if d.migrationLock != "" {
		if _, err := tx.ExecContext(ctx, d.migrationLock); err != nil {
			return fmt.Errorf("migrating: taking the migration lock: %w", err)
		}
	}
	current, err := schemaVersion(ctx, d, tx)
	if err != nil {
		return err
	}
	if current > len(ms) {
		return fmt.Errorf("%w: database schema version %d is newer than this ward (%d): upgrade ward", ErrSchemaTooNew, current, len(ms))
	}
	if current == len(ms) {
		return nil
	}
	for _, m := range ms[current:] {
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("applying migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
			m.version, m.name, d.timeArg(norm(now()))); err != nil {
			return fmt.Errorf("recording migration %s: %w", m.name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrating: committing: %w", err)
	}
	return nil
}

// schemaVersion returns the highest applied migration, 0 for an empty
// database.
func schemaVersion(ctx context.Context, d *dialect, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int, error) {
	var one int
	err := q.QueryRowContext(ctx, d.tableExists, "schema_migrations").Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading the schema version: %w", err)
	}
	var v sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("reading the schema version: %w", err)
	}
	return int(v.Int64), nil
}
