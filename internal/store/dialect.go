package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is what differs between the back ends. Everything else, every
// statement included, is shared: both accept $n placeholders, RETURNING,
// ON CONFLICT, partial indexes and window functions.
type dialect struct {
	name string
	// timeArg encodes a time as a statement argument; the zero time is NULL.
	timeArg func(time.Time) any
	// forUpdate locks the rows a SELECT reads until the transaction ends
	// ("" on SQLite, whose single writer already serialises writes).
	forUpdate string
	// skipLocked is forUpdate that skips rows locked by another transaction.
	skipLocked string
	// tableExists is a query with one $1 argument that returns a row when
	// the table exists in the current schema.
	tableExists string
	// migrationLock, when not "", is run first in the migration transaction
	// so that instances starting together migrate one after the other.
	migrationLock string
	// retryable reports whether an error is a transient conflict after which
	// the whole transaction can be run again.
	retryable func(error) bool
}

var sqliteDialect = &dialect{
	name: "sqlite",
	timeArg: func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t.UnixMicro()
	},
	tableExists: `SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1`,
	retryable: func(err error) bool {
		var se *sqlite.Error
		if errors.As(err, &se) {
			switch se.Code() & 0xff {
			case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
				return true
			}
		}
		return false
	},
}

var postgresDialect = &dialect{
	name: "postgres",
	timeArg: func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return norm(t)
	},
	forUpdate:     " FOR UPDATE",
	skipLocked:    " FOR UPDATE SKIP LOCKED",
	tableExists:   `SELECT 1 WHERE to_regclass($1) IS NOT NULL`,
	migrationLock: `SELECT pg_advisory_xact_lock(7761657264)`, // "ward" in hex digits, any constant will do
	retryable: func(err error) bool {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			switch pe.Code {
			case "40001", "40P01": // serialization_failure, deadlock_detected
				return true
			}
		}
		return false
	},
}

// timeScan scans either dialect's time encoding into *t; NULL is the zero
// time.
type timeScan struct{ t *time.Time }

func (ts timeScan) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*ts.t = time.Time{}
	case int64:
		*ts.t = time.UnixMicro(x).UTC()
	case time.Time:
		*ts.t = x.UTC()
	default:
		return fmt.Errorf("unexpected time value of type %T", v)
	}
	return nil
}

// OpenSQLite opens (creating it if needed) the SQLite database at path and
// migrates it to this ward's schema. It uses WAL, a busy timeout, foreign
// keys, full fsync on commit, one writer connection and a pool of readers.
func OpenSQLite(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("opening the sqlite store: empty path: give a file name such as ward.db")
	}
	// A new database is created readable by its owner only: it holds every
	// organisation's findings and analysts' notes.
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("opening the sqlite store: creating the directory of %s: %w", path, err)
	}
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("opening the sqlite store: creating %s: %w", path, err)
	}
	busy := opts.BusyTimeout
	if busy <= 0 {
		busy = 10 * time.Second
	}
	readers := opts.MaxConns
	if readers <= 0 {
		readers = 4
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Set("_txlock", "immediate")
	u := url.URL{Scheme: "file", Opaque: (&url.URL{Path: path}).EscapedPath(), RawQuery: q.Encode()}
	w, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, fmt.Errorf("opening the sqlite store %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := migrate(ctx, sqliteDialect, w, opts.Now); err != nil {
		w.Close()
		return nil, fmt.Errorf("opening the sqlite store %s: %w", path, err)
	}
	q.Add("_pragma", "query_only(1)")
	q.Del("_txlock")
	u.RawQuery = q.Encode()
	r, err := sql.Open("sqlite", u.String())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("opening the sqlite store %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	s := newStore(sqliteDialect, w, r, opts)
	s.reopen = func(ctx context.Context) (*Store, error) { return OpenSQLite(ctx, path, opts) }
	if err := r.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("opening the sqlite store %s for reading: %w", path, err)
	}
	return s, nil
}

// OpenPostgres connects to the PostgreSQL database named by dsn (a URL such
// as postgres://ward:secret@db.example:5432/ward?sslmode=verify-full, or
// key=value pairs) and migrates it to this ward's schema. Tables live in the
// connection's search_path; add search_path=NAME to the DSN to keep ward in
// its own schema.
func OpenPostgres(ctx context.Context, dsn string, opts Options) (*Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's errors can quote the DSN, password and all; say only what is wrong.
		return nil, errors.New("opening the postgres store: the DSN does not parse: use postgres://USER:PASSWORD@HOST:5432/DB?sslmode=verify-full")
	}
	conns := opts.MaxConns
	if conns <= 0 {
		conns = 10
	}
	db := sql.OpenDB(&pgConnector{cfg: cfg})
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(time.Hour)
	where := fmt.Sprintf("%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening the postgres store at %s: %w", where, err)
	}
	if err := migrate(ctx, postgresDialect, db, opts.Now); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening the postgres store at %s: %w", where, err)
	}
	s := newStore(postgresDialect, db, db, opts)
	s.reopen = func(ctx context.Context) (*Store, error) { return OpenPostgres(ctx, dsn, opts) }
	return s, nil
}
