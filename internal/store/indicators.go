package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"
)

// Indicator types and the values of Scope and TLP.
var (
	IndicatorTypes = []string{"domain", "url", "ip", "email", "sha256", "sha1", "md5", "filename"}
	Scopes         = []string{"private", "shared"}
	TLPs           = []string{"clear", "green", "amber", "amber+strict", "red"}
)

// MaxIndicatorLen bounds an indicator's value.
const MaxIndicatorLen = 2048

// Indicator is something to block or watch for, kept for the feeds: a
// domain, URL, IP address, e-mail address, file hash or file name.
type Indicator struct {
	ID int64 `json:"id"`
	// Org owns the indicator; Scope "private" keeps it to Org, "shared"
	// shows it to every organisation.
	Org   string `json:"org"`
	Scope string `json:"scope"`
	// Type is one of IndicatorTypes; Value is normalised by the caller
	// (lower-case domains, canonical IPs, lower-case hex hashes).
	Type  string `json:"type"`
	Value string `json:"value"`
	// Source says where it came from: "finding", "mail", "import ...",
	// "manual".
	Source      string `json:"source"`
	Confidence  int    `json:"confidence"` // 0..100
	TLP         string `json:"tlp"`
	Brand       string `json:"brand"`
	Description string `json:"description"`
	// FindingID links the finding it came from; 0 when none.
	FindingID int64     `json:"finding_id,omitempty"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// ValidUntil is when it expires; zero: it does not.
	ValidUntil time.Time `json:"valid_until"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func checkIndicator(in Indicator) error {
	if err := checkText("org", in.Org, MaxOrgLen, true); err != nil {
		return err
	}
	if !slices.Contains(Scopes, in.Scope) {
		return invalidf("scope %q: use private or shared", in.Scope)
	}
	if !slices.Contains(IndicatorTypes, in.Type) {
		return invalidf("type %q: use one of %v", in.Type, IndicatorTypes)
	}
	if err := checkText("value", in.Value, MaxIndicatorLen, true); err != nil {
		return err
	}
	if in.Confidence < 0 || in.Confidence > 100 {
		return invalidf("confidence %d: use 0 to 100", in.Confidence)
	}
	if !slices.Contains(TLPs, in.TLP) {
		return invalidf("tlp %q: use one of %v", in.TLP, TLPs)
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"source", in.Source, MaxSourceLen}, {"brand", in.Brand, MaxBrandLen}, {"description", in.Description, MaxNoteLen}} {
		if err := checkText(f.name, f.v, f.max, false); err != nil {
			return err
		}
	}
	return nil
}

const indicatorCols = `id, org, scope, type, value, source, confidence, tlp, brand, description,
	COALESCE(finding_id, 0), first_seen, last_seen, valid_until, updated_at`

func scanIndicator(r rowScanner) (Indicator, error) {
	var in Indicator
	var conf int64
	err := r.Scan(&in.ID, &in.Org, &in.Scope, &in.Type, &in.Value, &in.Source, &conf, &in.TLP, &in.Brand, &in.Description,
		&in.FindingID, timeScan{&in.FirstSeen}, timeScan{&in.LastSeen}, timeScan{&in.ValidUntil}, timeScan{&in.UpdatedAt})
	in.Confidence = int(conf)
	return in, err
}

// UpsertIndicator adds an indicator, or updates the organisation's one of
// the same type and value: last seen, the higher confidence, the later
// expiry (none beats any), the wider scope, and the other fields as given.
// Zero FirstSeen and LastSeen mean now.
func (s *Store) UpsertIndicator(ctx context.Context, in Indicator) (Indicator, error) {
	const op = "recording an indicator"
	if err := checkIndicator(in); err != nil {
		return Indicator{}, fmt.Errorf("%s: %w", op, err)
	}
	now := s.clock()
	first, last := normTime(in.FirstSeen, now), normTime(in.LastSeen, now)
	var out Indicator
	err := s.inTx(ctx, op, func(tx *sql.Tx) error {
		var fid any
		if in.FindingID != 0 {
			fid = in.FindingID
		}
		var err error
		out, err = scanIndicator(tx.QueryRowContext(ctx, `INSERT INTO indicators
			(org, scope, type, value, source, confidence, tlp, brand, description, finding_id, first_seen, last_seen, valid_until, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
			ON CONFLICT (org, type, value) DO UPDATE SET
				scope = CASE WHEN indicators.scope = 'shared' THEN 'shared' ELSE excluded.scope END,
				source = excluded.source,
				confidence = CASE WHEN excluded.confidence > indicators.confidence THEN excluded.confidence ELSE indicators.confidence END,
				tlp = excluded.tlp, brand = excluded.brand, description = excluded.description,
				finding_id = COALESCE(excluded.finding_id, indicators.finding_id),
				last_seen = CASE WHEN excluded.last_seen > indicators.last_seen THEN excluded.last_seen ELSE indicators.last_seen END,
				valid_until = CASE WHEN indicators.valid_until IS NULL OR excluded.valid_until IS NULL THEN NULL
					WHEN excluded.valid_until > indicators.valid_until THEN excluded.valid_until ELSE indicators.valid_until END,
				updated_at = excluded.updated_at
			RETURNING `+indicatorCols,
			in.Org, in.Scope, in.Type, in.Value, in.Source, in.Confidence, in.TLP, in.Brand, in.Description, fid,
			s.d.timeArg(first), s.d.timeArg(last), s.d.timeArg(norm(in.ValidUntil)), s.d.timeArg(now)))
		return err
	})
	if err != nil {
		return Indicator{}, fmt.Errorf("%s: %w", op, err)
	}
	return out, nil
}

// RemoveIndicator deletes one of the organisation's indicators. Another
// organisation's is ErrNotFound.
func (s *Store) RemoveIndicator(ctx context.Context, org string, id int64) error {
	const op = "removing an indicator"
	return s.inTx(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM indicators WHERE id = $1 AND org = $2`, id, org)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%s %d: %w", op, id, ErrNotFound)
		}
		return nil
	})
}

// RemoveFindingIndicators deletes the indicators that came from a
// finding of the organisation (source "finding"), as when an analyst
// dismisses it. It returns the number removed.
func (s *Store) RemoveFindingIndicators(ctx context.Context, org string, findingID int64) (int64, error) {
	const op = "removing a finding's indicators"
	var n int64
	err := s.inTx(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM indicators WHERE org = $1 AND finding_id = $2 AND source = 'finding'`, org, findingID)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// IndicatorFilter selects indicators for Indicators.
type IndicatorFilter struct {
	// Org is the reader: it sees its own indicators and every shared one.
	Org string
	// Now, when not zero, leaves out indicators that expired before it.
	Now time.Time
	// Types, when not empty, keeps those types.
	Types []string
	// Limit is at most MaxQueryLimit; zero means MaxQueryLimit.
	Limit int
	// AfterID continues a listing after the indicator of that ID.
	AfterID int64
}

// Indicators lists what an organisation may see, by ID: its own and the
// shared ones of every organisation.
func (s *Store) Indicators(ctx context.Context, f IndicatorFilter) ([]Indicator, error) {
	const op = "listing indicators"
	if err := checkText("org", f.Org, MaxOrgLen, true); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	limit := f.Limit
	if limit == 0 {
		limit = MaxQueryLimit
	}
	if err := checkLimit("limit", limit); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	q := `SELECT ` + indicatorCols + ` FROM indicators WHERE (org = $1 OR scope = 'shared') AND id > $2`
	args := []any{f.Org, f.AfterID}
	if !f.Now.IsZero() {
		args = append(args, s.d.timeArg(norm(f.Now)))
		q += fmt.Sprintf(` AND (valid_until IS NULL OR valid_until > $%d)`, len(args))
	}
	if len(f.Types) > 0 {
		q += ` AND type IN (`
		for i, t := range f.Types {
			if !slices.Contains(IndicatorTypes, t) {
				return nil, fmt.Errorf("%s: %w", op, invalidf("type %q: use one of %v", t, IndicatorTypes))
			}
			args = append(args, t)
			if i > 0 {
				q += ", "
			}
			q += fmt.Sprintf("$%d", len(args))
		}
		q += `)`
	}
	args = append(args, limit)
	q += fmt.Sprintf(` ORDER BY id LIMIT $%d`, len(args))
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer rows.Close()
	var out []Indicator
	for rows.Next() {
		in, err := scanIndicator(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		out = append(out, in)
	}
	return out, rows.Err()
}
