package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

const findingCols = `id, org, domain, brand, state, score, match_score, reasons, techniques,
	first_seen, last_seen, last_checked, next_check, checks, updated_at`

type rowScanner interface{ Scan(dest ...any) error }

// txLike is what the write helpers need of a transaction: *stmtCache.
type txLike interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) rowScanner
}

// jsonList is a []string stored as JSON text.
type jsonList struct{ l *[]string }

func (j jsonList) Scan(v any) error {
	var b []byte
	switch x := v.(type) {
	case string:
		b = []byte(x)
	case []byte:
		b = x
	case nil:
		*j.l = []string{}
		return nil
	default:
		return fmt.Errorf("unexpected list value of type %T", v)
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return fmt.Errorf("decoding a stored list: %w", err)
	}
	if l == nil {
		l = []string{}
	}
	*j.l = l
	return nil
}

// listArg encodes a list for storage; nil is stored as [].
func listArg(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l) // []string always marshals
	return string(b)
}

// rawText scans a stored JSON document.
type rawText struct{ r *json.RawMessage }

func (t rawText) Scan(v any) error {
	switch x := v.(type) {
	case string:
		*t.r = json.RawMessage(x)
	case []byte:
		*t.r = append(json.RawMessage(nil), x...)
	case nil:
		*t.r = nil
	default:
		return fmt.Errorf("unexpected document value of type %T", v)
	}
	return nil
}

func scanFinding(r rowScanner) (Finding, error) {
	var f Finding
	var state string
	var score, matchScore, checks int64
	err := r.Scan(&f.ID, &f.Org, &f.Domain, &f.Brand, &state, &score, &matchScore,
		jsonList{&f.Reasons}, jsonList{&f.Techniques},
		timeScan{&f.FirstSeen}, timeScan{&f.LastSeen}, timeScan{&f.LastChecked}, timeScan{&f.NextCheck},
		&checks, timeScan{&f.UpdatedAt})
	f.State, f.Score, f.MatchScore, f.Checks = State(state), int(score), int(matchScore), int(checks)
	return f, err
}

func queryFindings(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args ...any) ([]Finding, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Finding
	for rows.Next() {
		f, err := scanFinding(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// summary is the alert payload the store builds itself.
type summary struct {
	Org        string   `json:"org"`
	Domain     string   `json:"domain"`
	Brand      string   `json:"brand"`
	State      State    `json:"state"`
	Previous   State    `json:"previous"`
	Score      int      `json:"score"`
	Reasons    []string `json:"reasons"`
	Techniques []string `json:"techniques"`
	Name       string   `json:"name,omitempty"`
	Source     string   `json:"source,omitempty"`
	Author     string   `json:"author,omitempty"`
	Note       string   `json:"note,omitempty"`
}

func summarize(f Finding, prev State) summary {
	return summary{Org: f.Org, Domain: f.Domain, Brand: f.Brand, State: f.State, Previous: prev,
		Score: f.Score, Reasons: nonNil(f.Reasons), Techniques: nonNil(f.Techniques)}
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func (s summary) payload() json.RawMessage {
	b, _ := json.Marshal(s) // strings and ints always marshal
	return b
}

// insertAlert inserts an alert and one pending delivery per sink.
func (s *Store) insertAlert(ctx context.Context, tx txLike, f Finding, prev State, payload json.RawMessage, now time.Time, sinks []string) error {
	var alertID int64
	err := tx.QueryRowContext(ctx, `INSERT INTO alerts (finding_id, org, state, previous, payload, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		f.ID, f.Org, string(f.State), string(prev), string(payload), s.d.timeArg(now)).Scan(&alertID)
	if err != nil {
		return fmt.Errorf("inserting the alert for finding %d: %w", f.ID, err)
	}
	for _, sink := range sinks {
		if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries (alert_id, sink, status, attempts, next_attempt)
			VALUES ($1, $2, 'pending', 0, $3)`, alertID, sink, s.d.timeArg(now)); err != nil {
			return fmt.Errorf("queueing alert %d for sink %s: %w", alertID, sink, err)
		}
	}
	return nil
}

// RecordMatches stores a batch of matches from one source in one
// transaction, together with the source's new cursor.
//
// Each match creates its finding (state new, due for a check now) or
// updates it: first_seen and last_seen widen to the sighting; when the
// match's score is higher than match_score, brand, techniques and
// match_score follow the new match (and score and reasons too while the
// finding was never checked). It adds the match's observation unless the
// same (finding, source, ref) is already recorded, so replaying a batch
// after a crash adds nothing. A non-nil cursor is saved as source's position
// (read it back with Cursor). With a non-nil sinks, every finding created
// gets an alert with one pending delivery per sink of its organisation,
// sinks[org]; with nil, no alert is written (the caller alerts after the
// first check). Domains and
// names are stored lower-case without a trailing dot.
//
// It returns the findings created, in the order their first match came.
// On error nothing is stored, cursor included.
func (s *Store) RecordMatches(ctx context.Context, source string, cursor []byte, ms []Match, sinks map[string][]string) ([]Finding, error) {
	const op = "recording matches"
	if err := checkText("source", source, MaxSourceLen, cursor != nil); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if len(cursor) > MaxCursorLen {
		return nil, fmt.Errorf("%s: %w", op, invalidf("the cursor of %s is %d bytes: the limit is %d", source, len(cursor), MaxCursorLen))
	}
	if len(ms) > MaxBatch {
		return nil, fmt.Errorf("%s: %d matches in one batch: the limit is %d, split the batch", op, len(ms), MaxBatch)
	}
	if len(sinks) > MaxBatch {
		return nil, fmt.Errorf("%s: %w", op, invalidf("sinks for %d organisations: the limit is %d", len(sinks), MaxBatch))
	}
	orgSinks := make(map[string][]string, len(sinks))
	for org, l := range sinks {
		checked, err := checkSinks(l)
		if err != nil {
			return nil, fmt.Errorf("%s: sinks of %.40q: %w", op, org, err)
		}
		orgSinks[org] = checked
	}
	var err error
	norm := make([]Match, len(ms))
	for i, m := range ms {
		if norm[i], err = checkMatch(i, m, source); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
	}
	var created []Finding
	err = s.inTx(ctx, op, func(sqlTx *sql.Tx) error {
		tx := newStmtCache(sqlTx)
		defer tx.Close()
		created = created[:0]
		now := s.clock()
		var createdIDs []int64
		for i, m := range norm {
			seen := normTime(m.SeenAt, now)
			reasons, techniques := listArg(m.Reasons), listArg(m.Techniques)
			var id int64
			err := tx.QueryRowContext(ctx, `INSERT INTO findings
				(org, domain, brand, state, score, match_score, reasons, techniques, first_seen, last_seen, next_check, checks, updated_at)
				VALUES ($1, $2, $3, 'new', $4, $4, $5, $6, $7, $7, $8, 0, $8)
				ON CONFLICT (org, domain) DO NOTHING RETURNING id`,
				m.Org, m.Domain, m.Brand, m.Score, reasons, techniques, s.d.timeArg(seen), s.d.timeArg(now)).Scan(&id)
			switch {
			case err == nil:
				createdIDs = append(createdIDs, id)
			case errors.Is(err, sql.ErrNoRows):
				err = tx.QueryRowContext(ctx, `UPDATE findings SET
					brand       = CASE WHEN $3 > match_score THEN $4 ELSE brand END,
					techniques  = CASE WHEN $3 > match_score THEN $6 ELSE techniques END,
					reasons     = CASE WHEN $3 > match_score AND checks = 0 THEN $5 ELSE reasons END,
					score       = CASE WHEN $3 > match_score AND checks = 0 THEN $3 ELSE score END,
					match_score = CASE WHEN $3 > match_score THEN $3 ELSE match_score END,
					first_seen = CASE WHEN $7 < first_seen THEN $7 ELSE first_seen END,
					last_seen  = CASE WHEN $7 > last_seen THEN $7 ELSE last_seen END,
					updated_at = $8
					WHERE org = $1 AND domain = $2 RETURNING id`,
					m.Org, m.Domain, m.Score, m.Brand, reasons, techniques, s.d.timeArg(seen), s.d.timeArg(now)).Scan(&id)
				if err != nil {
					return fmt.Errorf("%s: updating finding %s/%s (match %d): %w", op, m.Org, m.Domain, i, err)
				}
			default:
				return fmt.Errorf("%s: inserting finding %s/%s (match %d): %w", op, m.Org, m.Domain, i, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO observations (finding_id, name, source, ref, seen_at)
				VALUES ($1, $2, $3, $4, $5) ON CONFLICT (finding_id, source, ref) DO NOTHING`,
				id, m.Name, m.Source, m.Ref, s.d.timeArg(seen)); err != nil {
				return fmt.Errorf("%s: inserting the observation of %s (match %d): %w", op, m.Name, i, err)
			}
		}
		if cursor != nil {
			if _, err := tx.ExecContext(ctx, `INSERT INTO source_cursors (source, position, updated_at) VALUES ($1, $2, $3)
				ON CONFLICT (source) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`,
				source, cursor, s.d.timeArg(now)); err != nil {
				return fmt.Errorf("%s: saving the cursor of %s: %w", op, source, err)
			}
		}
		for _, id := range createdIDs {
			f, err := scanFinding(tx.QueryRowContext(ctx, `SELECT `+findingCols+` FROM findings WHERE id = $1`, id))
			if err != nil {
				return fmt.Errorf("%s: reading back finding %d: %w", op, id, err)
			}
			sum := summarize(f, "")
			for _, m := range norm { // the first match of this finding names it
				if m.Org == f.Org && m.Domain == f.Domain {
					sum.Name, sum.Source = m.Name, m.Source
					break
				}
			}
			if sinks != nil {
				if err := s.insertAlert(ctx, tx, f, "", sum.payload(), now, orgSinks[f.Org]); err != nil {
					return fmt.Errorf("%s: %w", op, err)
				}
			}
			created = append(created, f)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return created, nil
}

// normTime returns t as stored, or def when t is zero.
func normTime(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return norm(t)
}

// SaveCursor saves a position for source on its own, outside a batch of
// matches: a feed's serial, an import's state.
func (s *Store) SaveCursor(ctx context.Context, source string, pos []byte) error {
	if pos == nil {
		pos = []byte{}
	}
	_, err := s.RecordMatches(ctx, source, pos, nil, nil)
	return err
}

// Cursor returns the position saved for source by RecordMatches, or nil
// when none was saved.
func (s *Store) Cursor(ctx context.Context, source string) ([]byte, error) {
	var b []byte
	err := s.r.QueryRowContext(ctx, `SELECT position FROM source_cursors WHERE source = $1`, source).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the cursor of %s: %w", source, err)
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}

// DueForCheck returns up to limit findings that are not dismissed and whose
// next check is at or before now, the longest overdue first.
func (s *Store) DueForCheck(ctx context.Context, now time.Time, limit int) ([]Finding, error) {
	if err := checkLimit("limit", limit); err != nil {
		return nil, fmt.Errorf("listing findings due for a check: %w", err)
	}
	fs, err := queryFindings(ctx, s.r, `SELECT `+findingCols+` FROM findings
		WHERE state <> 'dismissed' AND next_check IS NOT NULL AND next_check <= $1
		ORDER BY next_check, id LIMIT $2`, s.d.timeArg(norm(now)), limit)
	if err != nil {
		return nil, fmt.Errorf("listing findings due for a check: %w", err)
	}
	return fs, nil
}

// RecordCheck stores the outcome of a check in one transaction: the
// evidence, the finding's new state, score, reasons and schedule, and, when
// the state changed, an alert (payload c.AlertPayload, or a summary the
// store builds when that is empty) with one pending delivery per sink.
//
// Reasons may quote a hostile page, so rather than refuse the check they
// are cut: at most MaxListItems, each at most MaxListItemLen bytes of UTF-8.
// A dismissed finding stays dismissed: its evidence and schedule are
// recorded but changed is false and no alert is raised. A check cannot set
// StateDismissed; only an analyst can (SetState).
func (s *Store) RecordCheck(ctx context.Context, c Check, sinks []string) (changed bool, err error) {
	op := fmt.Sprintf("recording a check of finding %d", c.FindingID)
	if c.FindingID <= 0 {
		return false, fmt.Errorf("%s: %w", op, invalidf("finding_id must be positive"))
	}
	if !c.State.Valid() {
		return false, fmt.Errorf("%s: %w", op, invalidf("state %.40q is not one of new, watching, suspicious, malicious", c.State))
	}
	if c.State == StateDismissed {
		return false, fmt.Errorf("%s: %w", op, invalidf("a check cannot dismiss a finding: only an analyst can, with SetState"))
	}
	if err := checkScore("score", c.Score); err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	c.Reasons = cutList(c.Reasons)
	if err := checkJSON("data", c.Data, MaxDataLen); err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	if err := checkJSON("alert_payload", c.AlertPayload, MaxPayloadLen); err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	if sinks, err = checkSinks(sinks); err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	data := string(c.Data)
	if data == "" {
		data = "null"
	}
	err = s.inTx(ctx, op, func(tx *sql.Tx) error {
		changed = false
		now := s.clock()
		checked := normTime(c.CheckedAt, now)
		f, err := scanFinding(tx.QueryRowContext(ctx, `SELECT `+findingCols+` FROM findings WHERE id = $1`+s.d.forUpdate, c.FindingID))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s: %w", op, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("%s: reading the finding: %w", op, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO evidence (finding_id, checked_at, state, score, reasons, data)
			VALUES ($1, $2, $3, $4, $5, $6)`, f.ID, s.d.timeArg(checked), string(c.State), c.Score, listArg(c.Reasons), data); err != nil {
			return fmt.Errorf("%s: inserting evidence: %w", op, err)
		}
		prev := f.State
		if prev != StateDismissed {
			f.State = c.State
		}
		f.Score, f.Reasons = c.Score, nonNil(c.Reasons)
		if _, err := tx.ExecContext(ctx, `UPDATE findings SET state = $2, score = $3, reasons = $4,
			last_checked = $5, next_check = $6, checks = checks + 1, updated_at = $7 WHERE id = $1`,
			f.ID, string(f.State), c.Score, listArg(c.Reasons), s.d.timeArg(checked), s.d.timeArg(norm(c.NextCheck)), s.d.timeArg(now)); err != nil {
			return fmt.Errorf("%s: updating the finding: %w", op, err)
		}
		if f.State == prev {
			return nil
		}
		payload := c.AlertPayload
		if len(payload) == 0 {
			payload = summarize(f, prev).payload()
		}
		if err := s.insertAlert(ctx, newStmtCache(tx), f, prev, payload, now, sinks); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		changed = true
		return nil
	})
	return changed, err
}

// checkRef validates what every analyst-facing method gets.
func checkRef(org string, id int64) error {
	if err := checkText("org", org, MaxOrgLen, true); err != nil {
		return err
	}
	if id <= 0 {
		return invalidf("finding id %d: ids are positive", id)
	}
	return nil
}

// SetState is an analyst's verdict: it sets the state of org's finding id
// (StateMalicious to confirm, StateDismissed to dismiss, any other to
// reopen), raises an alert with one pending delivery per sink when the
// state changes, and adds note, when not empty, as a Note by author. It
// returns the finding as updated, or ErrNotFound when org has no finding id.
func (s *Store) SetState(ctx context.Context, org string, id int64, st State, author, note string, sinks []string) (Finding, error) {
	op := fmt.Sprintf("setting the state of finding %d", id)
	if err := checkRef(org, id); err != nil {
		return Finding{}, fmt.Errorf("%s: %w", op, err)
	}
	if !st.Valid() {
		return Finding{}, fmt.Errorf("%s: %w", op, invalidf("state %.40q is not one of new, watching, suspicious, malicious, dismissed", st))
	}
	if err := checkText("author", author, MaxAuthorLen, false); err != nil {
		return Finding{}, fmt.Errorf("%s: %w", op, err)
	}
	if err := checkText("note", note, MaxNoteLen, false); err != nil {
		return Finding{}, fmt.Errorf("%s: %w", op, err)
	}
	sinks, err := checkSinks(sinks)
	if err != nil {
		return Finding{}, fmt.Errorf("%s: %w", op, err)
	}
	var f Finding
	err = s.inTx(ctx, op, func(tx *sql.Tx) error {
		now := s.clock()
		var err error
		f, err = scanFinding(tx.QueryRowContext(ctx, `SELECT `+findingCols+` FROM findings WHERE id = $1 AND org = $2`+s.d.forUpdate, id, org))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s: %w", op, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("%s: reading the finding: %w", op, err)
		}
		if note != "" {
			if _, err := tx.ExecContext(ctx, `INSERT INTO notes (finding_id, author, text, created_at) VALUES ($1, $2, $3, $4)`,
				id, author, note, s.d.timeArg(now)); err != nil {
				return fmt.Errorf("%s: adding the note: %w", op, err)
			}
		}
		if f.State == st {
			return nil
		}
		prev := f.State
		f.State, f.UpdatedAt = st, now
		if _, err := tx.ExecContext(ctx, `UPDATE findings SET state = $2, updated_at = $3 WHERE id = $1`,
			id, string(st), s.d.timeArg(now)); err != nil {
			return fmt.Errorf("%s: updating the finding: %w", op, err)
		}
		sum := summarize(f, prev)
		sum.Author, sum.Note = author, note
		return s.insertAlert(ctx, newStmtCache(tx), f, prev, sum.payload(), now, sinks)
	})
	if err != nil {
		return Finding{}, err
	}
	return f, nil
}

// AddNote adds an analyst's note to org's finding id.
func (s *Store) AddNote(ctx context.Context, org string, id int64, author, text string) (Note, error) {
	op := fmt.Sprintf("adding a note to finding %d", id)
	if err := checkRef(org, id); err != nil {
		return Note{}, fmt.Errorf("%s: %w", op, err)
	}
	if err := checkText("author", author, MaxAuthorLen, false); err != nil {
		return Note{}, fmt.Errorf("%s: %w", op, err)
	}
	if err := checkText("text", text, MaxNoteLen, true); err != nil {
		return Note{}, fmt.Errorf("%s: %w", op, err)
	}
	n := Note{FindingID: id, Author: author, Text: text}
	err := s.inTx(ctx, op, func(tx *sql.Tx) error {
		n.CreatedAt = s.clock()
		err := tx.QueryRowContext(ctx, `INSERT INTO notes (finding_id, author, text, created_at)
			SELECT id, $3, $4, $5 FROM findings WHERE id = $1 AND org = $2 RETURNING id`,
			id, org, author, text, s.d.timeArg(n.CreatedAt)).Scan(&n.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s: %w", op, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		return nil
	})
	if err != nil {
		return Note{}, err
	}
	return n, nil
}

// RequestCheck schedules org's finding id to be checked at now (the next
// DueForCheck at or after now returns it, unless it is dismissed).
func (s *Store) RequestCheck(ctx context.Context, org string, id int64, now time.Time) error {
	op := fmt.Sprintf("requesting a check of finding %d", id)
	if err := checkRef(org, id); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return s.inTx(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE findings SET next_check = $3, updated_at = $4 WHERE id = $1 AND org = $2`,
			id, org, s.d.timeArg(normTime(now, s.clock())), s.d.timeArg(s.clock()))
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		} else if n == 0 {
			return fmt.Errorf("%s: %w", op, ErrNotFound)
		}
		return nil
	})
}

// Filter selects findings for Findings.
type Filter struct {
	// Org is required: only its findings are listed.
	Org string `json:"org"`
	// States, when not empty, keeps findings in one of them.
	States []State `json:"states"`
	// Brand, when not "", keeps findings of that brand (exact match).
	Brand string `json:"brand"`
	// Query, when not "", keeps findings whose domain holds it (case
	// insensitive substring; '%' and '_' are literal).
	Query string `json:"query"`
	// Since, when not zero, keeps findings last seen at or after it.
	Since time.Time `json:"since"`
	// Limit is the page size, 1..MaxPageLimit; zero means DefaultPageLimit.
	Limit int `json:"limit"`
	// After is the opaque cursor returned with the previous page; "" starts
	// at the newest.
	After string `json:"after"`
}

// pageKey is where a page ends: the (last_seen, id) of its last finding.
type pageKey struct {
	lastSeen int64 // Unix microseconds
	id       int64
}

const pageKeyPrefix = "v1."

func (k pageKey) String() string {
	return pageKeyPrefix + strconv.FormatInt(k.lastSeen, 36) + "." + strconv.FormatInt(k.id, 36)
}

// parsePageKey parses a cursor made by pageKey.String, rejecting anything
// else.
func parsePageKey(s string) (pageKey, error) {
	bad := invalidf("after %.40q is not a cursor returned by this ward: start again without it", s)
	if len(s) > 64 {
		return pageKey{}, bad
	}
	rest, ok := strings.CutPrefix(s, pageKeyPrefix)
	if !ok {
		return pageKey{}, bad
	}
	a, b, ok := strings.Cut(rest, ".")
	if !ok {
		return pageKey{}, bad
	}
	ts, err1 := strconv.ParseInt(a, 36, 64)
	id, err2 := strconv.ParseInt(b, 36, 64)
	if err1 != nil || err2 != nil || id <= 0 || ts < minPageTime || ts > maxPageTime {
		return pageKey{}, bad
	}
	k := pageKey{lastSeen: ts, id: id}
	if k.String() != s { // one spelling per key
		return pageKey{}, bad
	}
	return k, nil
}

// The range of times a cursor may hold: years 1..9999, which both back ends
// can store.
var (
	minPageTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	maxPageTime = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).UnixMicro()
)

// likeEscape makes s match literally inside a LIKE pattern with ESCAPE '\'.
func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// Findings lists a page of f.Org's findings, the most recently seen first,
// and the cursor of the next page ("" after the last page). Pages are cut
// by (last_seen, id), not by offset, so findings added between two pages
// neither repeat nor hide older ones.
func (s *Store) Findings(ctx context.Context, f Filter) (page []Finding, next string, err error) {
	const op = "listing findings"
	if err := checkText("org", f.Org, MaxOrgLen, true); err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	limit := f.Limit
	if limit == 0 {
		limit = DefaultPageLimit
	}
	if limit < 1 || limit > MaxPageLimit {
		return nil, "", fmt.Errorf("%s: %w", op, invalidf("limit is %d: give 1..%d", f.Limit, MaxPageLimit))
	}
	if len(f.States) > len(States()) {
		return nil, "", fmt.Errorf("%s: %d states given: there are %d", op, len(f.States), len(States()))
	}
	if err := checkText("brand", f.Brand, MaxBrandLen, false); err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	if err := checkText("query", f.Query, MaxDomainLen, false); err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	var sb strings.Builder
	args := []any{f.Org}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	sb.WriteString(`SELECT ` + findingCols + ` FROM findings WHERE org = $1`)
	if len(f.States) > 0 {
		sb.WriteString(" AND state IN (")
		for i, st := range f.States {
			if !st.Valid() {
				return nil, "", fmt.Errorf("%s: %w", op, invalidf("state %.40q is not one of new, watching, suspicious, malicious, dismissed", st))
			}
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(arg(string(st)))
		}
		sb.WriteString(")")
	}
	if f.Brand != "" {
		sb.WriteString(" AND brand = " + arg(f.Brand))
	}
	if f.Query != "" {
		sb.WriteString(" AND domain LIKE " + arg("%"+likeEscape(strings.ToLower(f.Query))+"%") + ` ESCAPE '\'`)
	}
	if !f.Since.IsZero() {
		sb.WriteString(" AND last_seen >= " + arg(s.d.timeArg(norm(f.Since))))
	}
	if f.After != "" {
		k, err := parsePageKey(f.After)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", op, err)
		}
		t := s.d.timeArg(time.UnixMicro(k.lastSeen).UTC())
		ta, ia := arg(t), arg(k.id)
		fmt.Fprintf(&sb, " AND (last_seen < %s OR (last_seen = %s AND id < %s))", ta, ta, ia)
	}
	sb.WriteString(" ORDER BY last_seen DESC, id DESC LIMIT " + arg(limit+1))
	page, err = queryFindings(ctx, s.r, sb.String(), args...)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	if len(page) > limit {
		page = page[:limit]
		last := page[limit-1]
		next = pageKey{lastSeen: last.LastSeen.UnixMicro(), id: last.ID}.String()
	}
	return page, next, nil
}

// Finding returns org's finding id with its observations, evidence, notes
// and alerts, or ErrNotFound.
func (s *Store) Finding(ctx context.Context, org string, id int64) (FindingDetail, error) {
	op := fmt.Sprintf("reading finding %d", id)
	if err := checkRef(org, id); err != nil {
		return FindingDetail{}, fmt.Errorf("%s: %w", op, err)
	}
	var d FindingDetail
	var err error
	d.Finding, err = scanFinding(s.r.QueryRowContext(ctx, `SELECT `+findingCols+` FROM findings WHERE id = $1 AND org = $2`, id, org))
	if errors.Is(err, sql.ErrNoRows) {
		return FindingDetail{}, fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	if err != nil {
		return FindingDetail{}, fmt.Errorf("%s: %w", op, err)
	}
	d.Observations = []Observation{}
	err = each(ctx, s.r, `SELECT id, finding_id, name, source, ref, seen_at FROM observations
		WHERE finding_id = $1 ORDER BY seen_at DESC, id DESC LIMIT $2`, []any{id, MaxDetailObservations},
		func(r rowScanner) error {
			var o Observation
			err := r.Scan(&o.ID, &o.FindingID, &o.Name, &o.Source, &o.Ref, timeScan{&o.SeenAt})
			d.Observations = append(d.Observations, o)
			return err
		})
	if err != nil {
		return FindingDetail{}, fmt.Errorf("%s: observations: %w", op, err)
	}
	d.Evidence = []Evidence{}
	err = each(ctx, s.r, `SELECT id, finding_id, checked_at, state, score, reasons, data FROM evidence
		WHERE finding_id = $1 ORDER BY checked_at DESC, id DESC LIMIT $2`, []any{id, MaxDetailEvidence},
		func(r rowScanner) error {
			var e Evidence
			var st string
			var score int64
			err := r.Scan(&e.ID, &e.FindingID, timeScan{&e.CheckedAt}, &st, &score, jsonList{&e.Reasons}, rawText{&e.Data})
			e.State, e.Score = State(st), int(score)
			d.Evidence = append(d.Evidence, e)
			return err
		})
	if err != nil {
		return FindingDetail{}, fmt.Errorf("%s: evidence: %w", op, err)
	}
	d.Notes = []Note{}
	err = each(ctx, s.r, `SELECT id, finding_id, author, text, created_at FROM notes
		WHERE finding_id = $1 ORDER BY created_at, id LIMIT $2`, []any{id, MaxDetailNotes},
		func(r rowScanner) error {
			var n Note
			err := r.Scan(&n.ID, &n.FindingID, &n.Author, &n.Text, timeScan{&n.CreatedAt})
			d.Notes = append(d.Notes, n)
			return err
		})
	if err != nil {
		return FindingDetail{}, fmt.Errorf("%s: notes: %w", op, err)
	}
	d.Alerts = []Alert{}
	err = each(ctx, s.r, `SELECT `+alertCols+` FROM alerts a
		WHERE a.finding_id = $1 ORDER BY a.created_at DESC, a.id DESC LIMIT $2`, []any{id, MaxDetailAlerts},
		func(r rowScanner) error {
			a, err := scanAlert(r)
			d.Alerts = append(d.Alerts, a)
			return err
		})
	if err != nil {
		return FindingDetail{}, fmt.Errorf("%s: alerts: %w", op, err)
	}
	return d, nil
}

const alertCols = `a.id, a.finding_id, a.org, a.state, a.previous, a.payload, a.created_at`

func scanAlert(r rowScanner, more ...any) (Alert, error) {
	var a Alert
	var st, prev string
	dest := append([]any{&a.ID, &a.FindingID, &a.Org, &st, &prev, rawText{&a.Payload}, timeScan{&a.CreatedAt}}, more...)
	err := r.Scan(dest...)
	a.State, a.Previous = State(st), State(prev)
	return a, err
}

// each runs query and calls fn for every row.
func each(ctx context.Context, db *sql.DB, query string, args []any, fn func(rowScanner) error) error {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Stats counts org's findings by state; every state is present, zero or not.
func (s *Store) Stats(ctx context.Context, org string) (map[State]int, error) {
	if err := checkText("org", org, MaxOrgLen, true); err != nil {
		return nil, fmt.Errorf("counting findings: %w", err)
	}
	m := make(map[State]int, len(States()))
	for _, st := range States() {
		m[st] = 0
	}
	err := each(ctx, s.r, `SELECT state, count(*) FROM findings WHERE org = $1 GROUP BY state`, []any{org},
		func(r rowScanner) error {
			var st string
			var n int64
			err := r.Scan(&st, &n)
			m[State(st)] = int(n)
			return err
		})
	if err != nil {
		return nil, fmt.Errorf("counting the findings of %s: %w", org, err)
	}
	return m, nil
}

// PruneEvidence deletes all but the newest keepPerFinding evidence rows of
// every finding and returns how many it deleted.
func (s *Store) PruneEvidence(ctx context.Context, keepPerFinding int) (int64, error) {
	return s.prune(ctx, "evidence", "checked_at", keepPerFinding)
}

// PruneObservations deletes all but the newest keepPerFinding observations
// of every finding and returns how many it deleted. A look-alike whose owner
// floods CT logs with certificates for its sub-names would otherwise grow
// without bound.
func (s *Store) PruneObservations(ctx context.Context, keepPerFinding int) (int64, error) {
	return s.prune(ctx, "observations", "seen_at", keepPerFinding)
}

// prune keeps the newest keep rows of table per finding, by column at.
// table and at are constants of this package, never input.
func (s *Store) prune(ctx context.Context, table, at string, keep int) (int64, error) {
	op := "pruning " + table
	if keep < 1 {
		return 0, fmt.Errorf("%s: %w", op, invalidf("keepPerFinding is %d: keep at least 1 (the latest is takedown evidence)", keep))
	}
	var n int64
	err := s.inTx(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE id IN (
			SELECT id FROM (
				SELECT id, row_number() OVER (PARTITION BY finding_id ORDER BY `+at+` DESC, id DESC) AS rn FROM `+table+`
			) ranked WHERE rn > $1)`, keep)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
