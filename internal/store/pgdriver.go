package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgConnector adapts pgx's single-connection API to database/sql, so that the
// PostgreSQL store shares every statement and transaction helper with the
// SQLite store and gets database/sql's connection pool.
//
// pgx's own adapters (pgx/v5/stdlib and pgxpool) pull in
// github.com/jackc/puddle/v2, which this module does not require; this
// adapter needs only the pgx core packages. It supports exactly what the
// store uses: Exec, Query, transactions, Ping and connection validity.
type pgConnector struct {
	cfg *pgx.ConnConfig
}

var (
	_ driver.Connector         = (*pgConnector)(nil)
	_ driver.Conn              = (*pgConn)(nil)
	_ driver.ConnBeginTx       = (*pgConn)(nil)
	_ driver.ExecerContext     = (*pgConn)(nil)
	_ driver.QueryerContext    = (*pgConn)(nil)
	_ driver.Pinger            = (*pgConn)(nil)
	_ driver.SessionResetter   = (*pgConn)(nil)
	_ driver.Validator         = (*pgConn)(nil)
	_ driver.Rows              = (*pgRows)(nil)
	_ driver.Tx                = (*pgTx)(nil)
	_ driver.Driver            = pgDriver{}
	_ driver.Stmt              = (*pgStmt)(nil)
	_ driver.StmtExecContext   = (*pgStmt)(nil)
	_ driver.StmtQueryContext  = (*pgStmt)(nil)
	_ driver.NamedValueChecker = (*pgConn)(nil)
)

// pgCloseTimeout bounds the goodbye message and the COMMIT/ROLLBACK that
// database/sql issues without a context.
const pgCloseTimeout = 10 * time.Second

func (c *pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, c.cfg.Copy())
	if err != nil {
		return nil, err
	}
	return &pgConn{c: conn}, nil
}

func (c *pgConnector) Driver() driver.Driver { return pgDriver{} }

// pgDriver exists because database/sql asks a Connector for its Driver; the
// store always opens through the connector.
type pgDriver struct{}

func (pgDriver) Open(dsn string) (driver.Conn, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return (&pgConnector{cfg: cfg}).Connect(ctx)
}

type pgConn struct {
	c *pgx.Conn
}

func (c *pgConn) Prepare(query string) (driver.Stmt, error) {
	return &pgStmt{c: c, query: query}, nil
}

func (c *pgConn) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), pgCloseTimeout)
	defer cancel()
	return c.c.Close(ctx)
}

func (c *pgConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	var o pgx.TxOptions
	switch isolationLevel(opts.Isolation) {
	case levelDefault:
	case levelReadCommitted:
		o.IsoLevel = pgx.ReadCommitted
	case levelRepeatableRead, levelSnapshot:
		o.IsoLevel = pgx.RepeatableRead
	case levelSerializable:
		o.IsoLevel = pgx.Serializable
	default:
		return nil, fmt.Errorf("postgres: unsupported isolation level %d", opts.Isolation)
	}
	if opts.ReadOnly {
		o.AccessMode = pgx.ReadOnly
	}
	tx, err := c.c.BeginTx(ctx, o)
	if err != nil {
		return nil, err
	}
	return &pgTx{tx: tx}, nil
}

// The database/sql isolation levels that matter here, without importing
// database/sql into the driver side.
type isolationLevel int

const (
	levelDefault        isolationLevel = 0
	levelReadCommitted  isolationLevel = 2
	levelRepeatableRead isolationLevel = 4
	levelSnapshot       isolationLevel = 5
	levelSerializable   isolationLevel = 6
)

func (c *pgConn) CheckNamedValue(nv *driver.NamedValue) error {
	switch v := nv.Value.(type) {
	case nil, int64, float64, bool, []byte, string, time.Time:
		return nil
	case int:
		nv.Value = int64(v)
		return nil
	default:
		return driver.ErrSkip
	}
}

func args(named []driver.NamedValue) []any {
	a := make([]any, len(named))
	for i, n := range named {
		a[i] = n.Value
	}
	return a
}

func (c *pgConn) ExecContext(ctx context.Context, query string, named []driver.NamedValue) (driver.Result, error) {
	tag, err := c.c.Exec(ctx, query, args(named)...)
	if err != nil {
		return nil, err
	}
	return driver.RowsAffected(tag.RowsAffected()), nil
}

func (c *pgConn) QueryContext(ctx context.Context, query string, named []driver.NamedValue) (driver.Rows, error) {
	rows, err := c.c.Query(ctx, query, args(named)...)
	if err != nil {
		return nil, err
	}
	return &pgRows{rows: rows}, nil
}

func (c *pgConn) Ping(ctx context.Context) error {
	if c.c.IsClosed() {
		return driver.ErrBadConn
	}
	return c.c.Ping(ctx)
}

func (c *pgConn) ResetSession(context.Context) error {
	if c.c.IsClosed() {
		return driver.ErrBadConn
	}
	return nil
}

func (c *pgConn) IsValid() bool { return !c.c.IsClosed() }

type pgTx struct {
	tx pgx.Tx
}

func (t *pgTx) Commit() error {
	ctx, cancel := context.WithTimeout(context.Background(), pgCloseTimeout)
	defer cancel()
	return t.tx.Commit(ctx)
}

func (t *pgTx) Rollback() error {
	ctx, cancel := context.WithTimeout(context.Background(), pgCloseTimeout)
	defer cancel()
	err := t.tx.Rollback(ctx)
	if errors.Is(err, pgx.ErrTxClosed) {
		return nil
	}
	return err
}

type pgStmt struct {
	c     *pgConn
	query string
}

func (s *pgStmt) Close() error  { return nil }
func (s *pgStmt) NumInput() int { return -1 }

func (s *pgStmt) Exec([]driver.Value) (driver.Result, error) {
	return nil, errors.New("postgres: Stmt.Exec without a context is not supported")
}

func (s *pgStmt) Query([]driver.Value) (driver.Rows, error) {
	return nil, errors.New("postgres: Stmt.Query without a context is not supported")
}

func (s *pgStmt) ExecContext(ctx context.Context, named []driver.NamedValue) (driver.Result, error) {
	return s.c.ExecContext(ctx, s.query, named)
}

func (s *pgStmt) QueryContext(ctx context.Context, named []driver.NamedValue) (driver.Rows, error) {
	return s.c.QueryContext(ctx, s.query, named)
}

type pgRows struct {
	rows pgx.Rows
	cols []string
}

func (r *pgRows) Columns() []string {
	if r.cols == nil {
		fds := r.rows.FieldDescriptions()
		r.cols = make([]string, len(fds))
		for i, fd := range fds {
			r.cols[i] = fd.Name
		}
	}
	return r.cols
}

func (r *pgRows) Close() error {
	r.rows.Close()
	return r.rows.Err()
}

// Next converts pgx's decoded values to the driver.Value set that
// database/sql converts from.
func (r *pgRows) Next(dest []driver.Value) error {
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return io.EOF
	}
	vals, err := r.rows.Values()
	if err != nil {
		return err
	}
	if len(vals) != len(dest) {
		return fmt.Errorf("postgres: row has %d values for %d columns", len(vals), len(dest))
	}
	for i, v := range vals {
		switch x := v.(type) {
		case nil, int64, float64, bool, []byte, string, time.Time:
			dest[i] = x
		case int32:
			dest[i] = int64(x)
		case int16:
			dest[i] = int64(x)
		case int8:
			dest[i] = int64(x)
		case float32:
			dest[i] = float64(x)
		default:
			return fmt.Errorf("postgres: column %d has unsupported type %T", i, v)
		}
	}
	return nil
}
