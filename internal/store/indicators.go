package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/ward-health/ward/internal/intel"
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
	// UpdatedAt is when it last changed (recorded, seen again, revoked):
	// the version feeds publish, and the order they page in.
	UpdatedAt time.Time `json:"updated_at"`
	// RevokedAt is when it was withdrawn (removed, its finding dismissed,
	// gone from its import); zero: it stands. Revoked indicators stay so
	// that feeds with history tell their consumers to stop blocking them.
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// Intel returns the indicator in the form the feed writers take.
func (in Indicator) Intel() intel.Indicator {
	return intel.Indicator{
		Type: intel.Type(in.Type), Value: in.Value,
		FirstSeen: in.FirstSeen, LastSeen: in.LastSeen,
		Source: in.Source, Confidence: in.Confidence, TLP: in.TLP,
		ValidUntil: in.ValidUntil, Scope: in.Scope, Org: in.Org,
		Brand: in.Brand, Description: in.Description,
		Updated: in.UpdatedAt, Revoked: !in.RevokedAt.IsZero(),
	}
}

// FromIntel returns the store's form of x, owned by org with scope; the
// fields x leaves empty get the store's defaults (scope private, TLP
// amber, source manual).
func FromIntel(x intel.Indicator) Indicator {
	in := Indicator{
		Org: x.Org, Scope: x.Scope, Type: string(x.Type), Value: x.Value,
		Source: x.Source, Confidence: x.Confidence, TLP: x.TLP,
		Brand: x.Brand, Description: x.Description,
		FirstSeen: x.FirstSeen, LastSeen: x.LastSeen, ValidUntil: x.ValidUntil,
	}
	if in.Scope == "" {
		in.Scope = "private"
	}
	if in.TLP == "" {
		in.TLP = "amber"
	}
	if in.Source == "" {
		in.Source = "manual"
	}
	return in
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
	COALESCE(finding_id, 0), first_seen, last_seen, valid_until, updated_at, revoked_at`

func scanIndicator(r rowScanner) (Indicator, error) {
	var in Indicator
	var conf int64
	err := r.Scan(&in.ID, &in.Org, &in.Scope, &in.Type, &in.Value, &in.Source, &conf, &in.TLP, &in.Brand, &in.Description,
		&in.FindingID, timeScan{&in.FirstSeen}, timeScan{&in.LastSeen}, timeScan{&in.ValidUntil}, timeScan{&in.UpdatedAt}, timeScan{&in.RevokedAt})
	in.Confidence = int(conf)
	return in, err
}

// UpsertIndicator adds an indicator, or updates the organisation's one of
// the same type and value: last seen, the higher confidence, the later
// expiry (none beats any), the wider scope, and the other fields as given.
// A revoked indicator recorded again stands again. Zero FirstSeen and
// LastSeen mean now.
func (s *Store) UpsertIndicator(ctx context.Context, in Indicator) (Indicator, error) {
	const op = "recording an indicator"
	if err := checkIndicator(in); err != nil {
		return Indicator{}, fmt.Errorf("%s: %w", op, err)
	}
	now := s.clock()
	var out Indicator
	err := s.inTx(ctx, op, func(tx *sql.Tx) error {
		var err error
		out, err = s.upsertIndicator(ctx, tx, in, now)
		return err
	})
	if err != nil {
		return Indicator{}, fmt.Errorf("%s: %w", op, err)
	}
	return out, nil
}

// UpsertIndicators records many indicators as UpsertIndicator does, in
// transactions of at most MaxBatch. An invalid indicator stops nothing:
// it is counted in skipped and the first such error is returned with the
// counts once the rest are recorded.
func (s *Store) UpsertIndicators(ctx context.Context, ins []Indicator) (recorded, skipped int, err error) {
	const op = "recording indicators"
	var firstBad error
	valid := make([]Indicator, 0, len(ins))
	for _, in := range ins {
		if err := checkIndicator(in); err != nil {
			skipped++
			if firstBad == nil {
				firstBad = fmt.Errorf("%s: %s %q: %w", op, in.Type, clipText(in.Value, 80), err)
			}
			continue
		}
		valid = append(valid, in)
	}
	now := s.clock()
	for len(valid) > 0 {
		n := min(len(valid), MaxBatch)
		err := s.inTx(ctx, op, func(tx *sql.Tx) error {
			for i, in := range valid[:n] {
				// Each row its own update time, a microsecond apart:
				// feeds page by it, and ties make pages costlier.
				if _, err := s.upsertIndicator(ctx, tx, in, now.Add(time.Duration(recorded+i)*time.Microsecond)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return recorded, skipped, fmt.Errorf("%s: %w", op, err)
		}
		recorded += n
		valid = valid[n:]
	}
	return recorded, skipped, firstBad
}

func (s *Store) upsertIndicator(ctx context.Context, tx *sql.Tx, in Indicator, now time.Time) (Indicator, error) {
	first, last := normTime(in.FirstSeen, now), normTime(in.LastSeen, now)
	var fid any
	if in.FindingID != 0 {
		fid = in.FindingID
	}
	return scanIndicator(tx.QueryRowContext(ctx, `INSERT INTO indicators
		(org, scope, type, value, source, confidence, tlp, brand, description, finding_id, first_seen, last_seen, valid_until, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		ON CONFLICT (org, type, value) DO UPDATE SET
			scope = CASE WHEN indicators.scope = 'shared' AND indicators.revoked_at IS NULL THEN 'shared' ELSE excluded.scope END,
			source = excluded.source,
			confidence = CASE WHEN excluded.confidence > indicators.confidence OR indicators.revoked_at IS NOT NULL
				THEN excluded.confidence ELSE indicators.confidence END,
			tlp = excluded.tlp, brand = excluded.brand, description = excluded.description,
			finding_id = COALESCE(excluded.finding_id, indicators.finding_id),
			last_seen = CASE WHEN excluded.last_seen > indicators.last_seen THEN excluded.last_seen ELSE indicators.last_seen END,
			valid_until = CASE WHEN indicators.revoked_at IS NOT NULL THEN excluded.valid_until
				WHEN indicators.valid_until IS NULL OR excluded.valid_until IS NULL THEN NULL
				WHEN excluded.valid_until > indicators.valid_until THEN excluded.valid_until ELSE indicators.valid_until END,
			updated_at = excluded.updated_at,
			revoked_at = NULL
		RETURNING `+indicatorCols,
		in.Org, in.Scope, in.Type, in.Value, in.Source, in.Confidence, in.TLP, in.Brand, in.Description, fid,
		s.d.timeArg(first), s.d.timeArg(last), s.d.timeArg(norm(in.ValidUntil)), s.d.timeArg(now)))
}

// RemoveIndicator revokes one of the organisation's indicators: it
// leaves the blocking feeds and is published as revoked in the others.
// Another organisation's, or one already revoked, is ErrNotFound.
func (s *Store) RemoveIndicator(ctx context.Context, org string, id int64) error {
	const op = "removing an indicator"
	now := s.d.timeArg(s.clock())
	return s.inTx(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE indicators SET revoked_at = $3, updated_at = $3
			WHERE id = $1 AND org = $2 AND revoked_at IS NULL`, id, org, now)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%s %d: %w", op, id, ErrNotFound)
		}
		return nil
	})
}

// ExpireIndicator sets when one of the organisation's standing
// indicators expires, earlier or later than before (a zero until: never);
// feeds drop it from then on. Another organisation's, or a revoked one, is
// ErrNotFound.
func (s *Store) ExpireIndicator(ctx context.Context, org string, id int64, until time.Time) (Indicator, error) {
	const op = "expiring an indicator"
	now := s.d.timeArg(s.clock())
	var out Indicator
	err := s.inTx(ctx, op, func(tx *sql.Tx) error {
		var err error
		out, err = scanIndicator(tx.QueryRowContext(ctx, `UPDATE indicators SET valid_until = $3, updated_at = $4
			WHERE id = $1 AND org = $2 AND revoked_at IS NULL RETURNING `+indicatorCols, id, org, s.d.timeArg(norm(until)), now))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s %d: %w", op, id, ErrNotFound)
		}
		return err
	})
	return out, err
}

// RemoveFindingIndicators revokes the indicators that came from a finding
// of the organisation (source "finding"), as when an analyst dismisses it.
// It returns the number revoked.
func (s *Store) RemoveFindingIndicators(ctx context.Context, org string, findingID int64) (int64, error) {
	const op = "removing a finding's indicators"
	now := s.d.timeArg(s.clock())
	var n int64
	err := s.inTx(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE indicators SET revoked_at = $3, updated_at = $3
			WHERE org = $1 AND finding_id = $2 AND source = 'finding' AND revoked_at IS NULL`, org, findingID, now)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// RevokeStale revokes the organisation's standing indicators of a source
// last seen before before: what a full import no longer lists. It returns
// the number revoked.
func (s *Store) RevokeStale(ctx context.Context, org, source string, before time.Time) (int64, error) {
	const op = "revoking indicators gone from their source"
	if err := checkText("org", org, MaxOrgLen, true); err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	if err := checkText("source", source, MaxSourceLen, true); err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	now := s.d.timeArg(s.clock())
	var n int64
	err := s.inTx(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE indicators SET revoked_at = $4, updated_at = $4
			WHERE org = $1 AND source = $2 AND last_seen < $3 AND revoked_at IS NULL`,
			org, source, s.d.timeArg(norm(before)), now)
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
	// Values, when not empty (at most MaxFilterValues), keeps those
	// values.
	Values []string
	// Revoked includes revoked indicators; by default they are left out.
	Revoked bool
	// Limit is at most MaxQueryLimit; zero means MaxQueryLimit.
	Limit int
	// AfterID continues a listing after the indicator of that ID. With
	// ByUpdate it breaks ties of UpdatedAfter.
	AfterID int64
	// ByUpdate lists by (UpdatedAt, ID) instead of ID, after
	// (UpdatedAfter, AfterID) and up to UpdatedUntil when not zero: the
	// order in which feeds page.
	ByUpdate     bool
	UpdatedAfter time.Time
	UpdatedUntil time.Time
}

// MaxFilterValues bounds IndicatorFilter.Values.
const MaxFilterValues = 256

// Indicators lists what an organisation may see: its own and the shared
// ones of every organisation.
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
	if len(f.Values) > MaxFilterValues {
		return nil, fmt.Errorf("%s: %w", op, invalidf("%d values: ask for at most %d at a time", len(f.Values), MaxFilterValues))
	}
	q := `SELECT ` + indicatorCols + ` FROM indicators WHERE (org = $1 OR scope = 'shared')`
	args := []any{f.Org}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	in := func(col string, vs []string) {
		q += ` AND ` + col + ` IN (`
		for i, v := range vs {
			if i > 0 {
				q += ", "
			}
			q += arg(v)
		}
		q += `)`
	}
	if f.ByUpdate {
		after := s.d.timeArg(norm(f.UpdatedAfter))
		if f.UpdatedAfter.IsZero() {
			after = s.d.timeArg(time.Unix(0, 0))
		}
		a, id := arg(after), arg(f.AfterID)
		q += ` AND (updated_at > ` + a + ` OR (updated_at = ` + a + ` AND id > ` + id + `))`
		if !f.UpdatedUntil.IsZero() {
			q += ` AND updated_at <= ` + arg(s.d.timeArg(norm(f.UpdatedUntil)))
		}
	} else {
		q += ` AND id > ` + arg(f.AfterID)
	}
	if !f.Revoked {
		q += ` AND revoked_at IS NULL`
	}
	if !f.Now.IsZero() {
		q += ` AND (valid_until IS NULL OR valid_until > ` + arg(s.d.timeArg(norm(f.Now))) + `)`
	}
	if len(f.Types) > 0 {
		for _, t := range f.Types {
			if !slices.Contains(IndicatorTypes, t) {
				return nil, fmt.Errorf("%s: %w", op, invalidf("type %q: use one of %v", t, IndicatorTypes))
			}
		}
		in("type", f.Types)
	}
	if len(f.Values) > 0 {
		in("value", f.Values)
	}
	if f.ByUpdate {
		q += ` ORDER BY updated_at, id`
	} else {
		q += ` ORDER BY id`
	}
	q += ` LIMIT ` + arg(limit)
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

// IndicatorsVersion returns what changes whenever an indicator the
// organisation sees is recorded, updated or revoked: the latest update
// time and the number of indicators. Feeds compare it to skip rewriting
// an unchanged zone (expiry alone does not change it).
func (s *Store) IndicatorsVersion(ctx context.Context, org string) (latest time.Time, count int64, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT MAX(updated_at), COUNT(*) FROM indicators WHERE org = $1 OR scope = 'shared'`, org).Scan(timeScan{&latest}, &count)
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("reading the indicators' version: %w", err)
	}
	return latest, count, nil
}

// IndicatorLister is what AllIndicators reads from: *Store, or a
// narrower interface of a package that uses it.
type IndicatorLister interface {
	Indicators(ctx context.Context, f IndicatorFilter) ([]Indicator, error)
}

// AllIndicators yields every indicator f selects, by ID, reading them from
// r in pages of f.Limit (zero: MaxQueryLimit) after f.AfterID; ByUpdate is
// ignored. A read error is yielded once, and ends the sequence.
func AllIndicators(ctx context.Context, r IndicatorLister, f IndicatorFilter) iter.Seq2[Indicator, error] {
	return func(yield func(Indicator, error) bool) {
		f.ByUpdate = false
		if f.Limit == 0 {
			f.Limit = MaxQueryLimit
		}
		for {
			page, err := r.Indicators(ctx, f)
			if err != nil {
				yield(Indicator{}, err)
				return
			}
			for _, in := range page {
				if !yield(in, nil) {
					return
				}
			}
			if len(page) < f.Limit {
				return
			}
			f.AfterID = page[len(page)-1].ID
		}
	}
}

// clipText shortens s to at most n bytes on a rune boundary, for messages.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
