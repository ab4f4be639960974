// Package store keeps ward's findings, their observations and evidence,
// analysts' notes, alerts and the alert outbox, and the position of every
// name source, in SQLite (one machine) or PostgreSQL (one installation
// serving many organisations).
//
// Both back ends sit behind the one *Store type and share their SQL; they
// differ only in the schema's column types, how times are encoded and a few
// locking clauses (see dialect). Every method that changes more than one row
// does so in one transaction, so that a crash leaves either all or none of
// it: in particular RecordMatches commits a source's cursor together with
// the findings, observations, alerts and deliveries that the names up to
// that cursor produced, which is what makes the engine's alerting
// exactly-once across restarts.
//
// Every method that an analyst can reach takes the organisation and treats
// another organisation's finding as not found (ErrNotFound).
package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// ErrNotFound is returned, wrapped, when a finding or delivery does not exist
// or belongs to another organisation.
var ErrNotFound = errors.New("not found")

// ErrInvalid is matched (errors.Is) by every error about the caller's input:
// a bad state, an empty org, a limit out of range, an oversized field. The
// error's text names the field and the fix; an API answers it with 400.
var ErrInvalid = errors.New("invalid input")

// invalidError is an input error whose text is its message alone.
type invalidError struct{ msg string }

func (e *invalidError) Error() string        { return e.msg }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

// invalidf makes an input error.
func invalidf(format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, args...)}
}

// ErrSchemaTooNew is returned, wrapped, by the Open functions when the
// database was migrated by a newer ward than this one.
var ErrSchemaTooNew = errors.New("database schema is newer than this ward")

// State is where a finding stands.
type State string

// The states of a finding.
const (
	// StateNew is a finding that has been matched but not yet checked.
	StateNew State = "new"
	// StateWatching is a parked or empty look-alike, re-checked over time.
	StateWatching State = "watching"
	// StateSuspicious is a live look-alike that does not yet prove intent.
	StateSuspicious State = "suspicious"
	// StateMalicious is a phishing or malware site, by check or by analyst.
	StateMalicious State = "malicious"
	// StateDismissed is a finding an analyst judged harmless; checks never
	// change it.
	StateDismissed State = "dismissed"
)

// States lists every valid State, in the order of a finding's life.
func States() []State {
	return []State{StateNew, StateWatching, StateSuspicious, StateMalicious, StateDismissed}
}

// Valid reports whether s is one of the States.
func (s State) Valid() bool {
	switch s {
	case StateNew, StateWatching, StateSuspicious, StateMalicious, StateDismissed:
		return true
	}
	return false
}

// Finding is one look-alike registrable domain watched for one organisation.
// (Org, Domain) is unique.
type Finding struct {
	ID     int64  `json:"id"`
	Org    string `json:"org"`
	Domain string `json:"domain"`
	Brand  string `json:"brand"`
	State  State  `json:"state"`
	// Score is the latest check's score, or MatchScore until the first check.
	Score int `json:"score"`
	// MatchScore is the highest score the matcher gave the domain; checks
	// do not change it.
	MatchScore int `json:"match_score"`
	// Reasons are the latest check's reasons, or the matcher's until the
	// first check.
	Reasons []string `json:"reasons"`
	// Techniques are the matcher's, from its highest-scoring match.
	Techniques []string `json:"techniques"`
	// FirstSeen and LastSeen are the earliest and latest observation times.
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// LastChecked is zero when the finding was never checked; NextCheck is
	// zero when no check is scheduled.
	LastChecked time.Time `json:"last_checked"`
	NextCheck   time.Time `json:"next_check"`
	// Checks counts the checks recorded.
	Checks    int       `json:"checks"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Observation is one sighting of a name under a finding's domain.
type Observation struct {
	ID        int64 `json:"id"`
	FindingID int64 `json:"finding_id"`
	// Name is the full name seen, e.g. login.rivm-coronatest.nl.
	Name string `json:"name"`
	// Source is where it was seen: "ct", "nrd", "sweep", "mail" or "api".
	Source string `json:"source"`
	// Ref locates the sighting in the source, e.g. "https://log.example/ 123456"
	// or "nrd.txt:42". (FindingID, Source, Ref) is unique.
	Ref    string    `json:"ref"`
	SeenAt time.Time `json:"seen_at"`
}

// Evidence is the result of one check of a finding.
type Evidence struct {
	ID        int64     `json:"id"`
	FindingID int64     `json:"finding_id"`
	CheckedAt time.Time `json:"checked_at"`
	State     State     `json:"state"`
	Score     int       `json:"score"`
	Reasons   []string  `json:"reasons"`
	// Data is the probe's evidence document, stored byte for byte.
	Data json.RawMessage `json:"data"`
}

// Note is an analyst's remark on a finding.
type Note struct {
	ID        int64     `json:"id"`
	FindingID int64     `json:"finding_id"`
	Author    string    `json:"author"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"created_at"`
}

// Alert is one state change of a finding that the security officer is told
// about, once per sink.
type Alert struct {
	ID        int64  `json:"id"`
	FindingID int64  `json:"finding_id"`
	Org       string `json:"org"`
	State     State  `json:"state"`
	// Previous is "" for a newly created finding.
	Previous  State           `json:"previous"`
	Payload   json.RawMessage `json:"payload"`
	CreatedAt time.Time       `json:"created_at"`
}

// The statuses of a Delivery.
const (
	DeliveryPending = "pending"
	DeliverySent    = "sent"
	// DeliveryFailed is permanent: the delivery is not tried again.
	DeliveryFailed = "failed"
)

// Delivery is one alert to be sent to one sink: the outbox.
type Delivery struct {
	ID      int64  `json:"id"`
	AlertID int64  `json:"alert_id"`
	Sink    string `json:"sink"`
	// Status is DeliveryPending, DeliverySent or DeliveryFailed.
	Status      string    `json:"status"`
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"next_attempt"`
	LastError   string    `json:"last_error"`
	// SentAt is zero until the delivery is sent.
	SentAt time.Time `json:"sent_at"`
	// Alert is the alert to deliver, filled by PendingDeliveries and
	// ClaimDeliveries.
	Alert Alert `json:"alert"`
}

// Match is a name that the matcher found imitating an organisation's brand.
type Match struct {
	Org string `json:"org"`
	// Domain is the look-alike registrable domain: the finding's key.
	Domain     string   `json:"domain"`
	Brand      string   `json:"brand"`
	Score      int      `json:"score"`
	Techniques []string `json:"techniques"`
	Reasons    []string `json:"reasons"`
	// Name, Source and Ref become the Observation; SeenAt zero means now.
	Name   string    `json:"name"`
	Source string    `json:"source"`
	Ref    string    `json:"ref"`
	SeenAt time.Time `json:"seen_at"`
}

// Check is the outcome of one probe of a finding, for RecordCheck.
type Check struct {
	FindingID int64           `json:"finding_id"`
	CheckedAt time.Time       `json:"checked_at"`
	State     State           `json:"state"`
	Score     int             `json:"score"`
	Reasons   []string        `json:"reasons"`
	Data      json.RawMessage `json:"data"`
	// NextCheck is when to check again; zero means never.
	NextCheck time.Time `json:"next_check"`
	// AlertPayload is the alert's payload when the state changes.
	AlertPayload json.RawMessage `json:"alert_payload"`
}

// FindingDetail is a finding with its history, for the analyst's page.
type FindingDetail struct {
	Finding Finding `json:"finding"`
	// Observations, newest first, at most MaxDetailObservations.
	Observations []Observation `json:"observations"`
	// Evidence, newest first, at most MaxDetailEvidence.
	Evidence []Evidence `json:"evidence"`
	// Notes, oldest first, at most MaxDetailNotes.
	Notes []Note `json:"notes"`
	// Alerts, newest first, at most MaxDetailAlerts.
	Alerts []Alert `json:"alerts"`
}

// The bounds of a FindingDetail.
const (
	MaxDetailObservations = 1000
	MaxDetailEvidence     = 200
	MaxDetailNotes        = 1000
	MaxDetailAlerts       = 200
)

// Options tunes a Store. The zero value is ready to use.
type Options struct {
	// Logger receives the migrations applied and retried transactions;
	// nil discards.
	Logger *slog.Logger
	// Now is the clock used for updated_at, created_at and next_check of new
	// findings; nil means time.Now.
	Now func() time.Time
	// MaxConns bounds the connections used for reads (SQLite: the read
	// pool; the single writer connection comes on top) or in all
	// (PostgreSQL). Zero means 4 for SQLite and 10 for PostgreSQL.
	MaxConns int
	// BusyTimeout is how long SQLite waits for another process's write lock
	// before failing with "database is locked". Zero means 10 s. Ignored by
	// PostgreSQL.
	BusyTimeout time.Duration
}

// Store is ward's persistence. It is safe for concurrent use.
type Store struct {
	d   *dialect
	w   *sql.DB // writes (SQLite: one connection)
	r   *sql.DB // reads (PostgreSQL: the same as w)
	log *slog.Logger
	now func() time.Time

	// reopen opens the same database again (tests of reopening).
	reopen func(ctx context.Context) (*Store, error)
	// beforeCommit, when set by tests, runs inside every write transaction
	// just before it commits; an error aborts the transaction.
	beforeCommit func(op string) error
}

func newStore(d *dialect, w, r *sql.DB, opts Options) *Store {
	s := &Store{d: d, w: w, r: r, log: opts.Logger, now: opts.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// clock returns the current time as stored: UTC, microseconds.
func (s *Store) clock() time.Time { return norm(s.now()) }

// norm is how every time is stored: UTC with microsecond precision, the
// precision of PostgreSQL's timestamptz.
func norm(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// Dialect names the back end: "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.d.name }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("pinging the %s store: %w", s.d.name, err)
	}
	return nil
}

// Close closes the database. Calls in flight may fail.
func (s *Store) Close() error {
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	if err != nil {
		return fmt.Errorf("closing the %s store: %w", s.d.name, err)
	}
	return nil
}

// stmtCache prepares each statement once per transaction, which saves
// SQLite parsing the same SQL for every row of a batch.
type stmtCache struct {
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

func newStmtCache(tx *sql.Tx) *stmtCache {
	return &stmtCache{tx: tx, stmts: make(map[string]*sql.Stmt)}
}

func (c *stmtCache) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	st, err := c.tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.stmts[query] = st
	return st, nil
}

// ExecContext runs a prepared query.
func (c *stmtCache) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// QueryRowContext runs a prepared query and scans its one row.
func (c *stmtCache) QueryRowContext(ctx context.Context, query string, args ...any) rowScanner {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

func (c *stmtCache) Close() {
	for _, st := range c.stmts {
		st.Close()
	}
}

// errRow is a row whose Scan fails with err.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// maxTxAttempts bounds retries of a transaction that failed on a deadlock,
// a serialization failure or a busy SQLite database.
const maxTxAttempts = 5

// inTx runs fn in a write transaction, retrying it from the start when the
// database reports a transient conflict. op names the operation in errors.
func (s *Store) inTx(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	var err error
	for attempt := 1; attempt <= maxTxAttempts; attempt++ {
		err = s.tryTx(ctx, op, fn)
		if err == nil || !s.d.retryable(err) || ctx.Err() != nil {
			return err
		}
		s.log.Debug("store: retrying transaction", "op", op, "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt*attempt) * 10 * time.Millisecond):
		}
	}
	return err
}

func (s *Store) tryTx(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: beginning transaction: %w", op, err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if s.beforeCommit != nil {
		if err := s.beforeCommit(op); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("%s: %w", op, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: committing: %w", op, err)
	}
	return nil
}
