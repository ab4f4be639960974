package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

const deliveryCols = `d.id, d.alert_id, d.sink, d.status, d.attempts, d.next_attempt, d.last_error, d.sent_at`

func scanDelivery(r rowScanner, more ...any) (Delivery, error) {
	var d Delivery
	var attempts int64
	dest := append([]any{&d.ID, &d.AlertID, &d.Sink, &d.Status, &attempts, timeScan{&d.NextAttempt}, &d.LastError, timeScan{&d.SentAt}}, more...)
	err := r.Scan(dest...)
	d.Attempts = int(attempts)
	return d, err
}

// MaxLease bounds ClaimDeliveries' lease.
const MaxLease = 24 * time.Hour

// PendingDeliveries returns up to limit pending deliveries due at or before
// now and not leased by ClaimDeliveries, the longest due first, each with
// its alert. It takes nothing: with more than one delivery loop, use
// ClaimDeliveries.
func (s *Store) PendingDeliveries(ctx context.Context, now time.Time, limit int) ([]Delivery, error) {
	const op = "listing pending deliveries"
	if err := checkLimit("limit", limit); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	var out []Delivery
	err := each(ctx, s.r, `SELECT `+deliveryCols+`, `+alertCols+`
		FROM deliveries d JOIN alerts a ON a.id = d.alert_id
		WHERE d.status = 'pending' AND d.next_attempt <= $1 AND (d.lease_until IS NULL OR d.lease_until <= $1)
		ORDER BY d.next_attempt, d.id LIMIT $2`, []any{s.d.timeArg(norm(now)), limit},
		func(r rowScanner) error {
			var a Alert
			var st, prev string
			d, err := scanDelivery(r, &a.ID, &a.FindingID, &a.Org, &st, &prev, rawText{&a.Payload}, timeScan{&a.CreatedAt})
			a.State, a.Previous = State(st), State(prev)
			d.Alert = a
			out = append(out, d)
			return err
		})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return out, nil
}

// ClaimDeliveries leases up to limit pending deliveries due at or before now
// to worker until now+lease, in one statement, and returns them with their
// alerts, the longest due first. A leased delivery is returned by neither
// PendingDeliveries nor another ClaimDeliveries until the lease ends, so
// concurrent delivery loops never take the same one; MarkSent and
// MarkFailed end the lease. A worker that dies leaves its deliveries to be
// claimed again when the lease runs out.
func (s *Store) ClaimDeliveries(ctx context.Context, worker string, now time.Time, lease time.Duration, limit int) ([]Delivery, error) {
	const op = "claiming deliveries"
	if err := checkText("worker", worker, MaxWorkerLen, true); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if lease <= 0 || lease > MaxLease {
		return nil, fmt.Errorf("%s: %w", op, invalidf("lease is %v: give more than 0 and at most %v", lease, MaxLease))
	}
	if err := checkLimit("limit", limit); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	now = norm(now)
	if now.IsZero() {
		now = s.clock()
	}
	until := norm(now.Add(lease))
	var out []Delivery
	err := s.inTx(ctx, op, func(tx *sql.Tx) error {
		out = out[:0]
		rows, err := tx.QueryContext(ctx, `UPDATE deliveries SET lease_owner = $1, lease_until = $2
			WHERE id IN (
				SELECT id FROM deliveries
				WHERE status = 'pending' AND next_attempt <= $3 AND (lease_until IS NULL OR lease_until <= $3)
				ORDER BY next_attempt, id LIMIT $4`+s.d.skipLocked+`
			)
			RETURNING id, alert_id, sink, status, attempts, next_attempt, last_error, sent_at`,
			worker, s.d.timeArg(until), s.d.timeArg(now), limit)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		for rows.Next() {
			d, err := scanDelivery(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("%s: %w", op, err)
			}
			out = append(out, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if len(out) == 0 {
			return nil
		}
		alerts := make(map[int64]Alert)
		rows, err = tx.QueryContext(ctx, `SELECT `+alertCols+` FROM alerts a WHERE a.id IN (
			SELECT alert_id FROM deliveries WHERE lease_owner = $1 AND lease_until = $2)`, worker, s.d.timeArg(until))
		if err != nil {
			return fmt.Errorf("%s: reading alerts: %w", op, err)
		}
		defer rows.Close()
		for rows.Next() {
			a, err := scanAlert(rows)
			if err != nil {
				return fmt.Errorf("%s: reading alerts: %w", op, err)
			}
			alerts[a.ID] = a
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("%s: reading alerts: %w", op, err)
		}
		for i := range out {
			out[i].Alert = alerts[out[i].AlertID]
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Delivery) int {
		if c := a.NextAttempt.Compare(b.NextAttempt); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	return out, nil
}

// ReleaseClaims ends the leases worker holds on pending deliveries, so that
// they can be claimed at once: a worker restarting under the same name
// takes back what its crashed predecessor had claimed, instead of waiting
// for the leases to run out. It returns the number released.
func (s *Store) ReleaseClaims(ctx context.Context, worker string) (int64, error) {
	const op = "releasing claims"
	if err := checkText("worker", worker, MaxWorkerLen, true); err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	var n int64
	err := s.inTx(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET lease_owner = '', lease_until = NULL
			WHERE lease_owner = $1 AND status = 'pending'`, worker)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// MarkSent records that delivery id was sent at at. Marking a sent delivery
// again changes nothing.
func (s *Store) MarkSent(ctx context.Context, id int64, at time.Time) error {
	op := fmt.Sprintf("marking delivery %d sent", id)
	return s.inTx(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'sent', sent_at = $2, attempts = attempts + 1,
			last_error = '', lease_owner = '', lease_until = NULL WHERE id = $1 AND status <> 'sent'`,
			id, s.d.timeArg(normTime(at, s.clock())))
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		return s.existsIfNone(ctx, tx, op, res, id)
	})
}

// existsIfNone turns an update of no rows into ErrNotFound when delivery id
// does not exist.
func (s *Store) existsIfNone(ctx context.Context, tx *sql.Tx, op string, res sql.Result, id int64) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if n > 0 {
		return nil
	}
	var one int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM deliveries WHERE id = $1`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// MarkFailed records a failed attempt at delivery id: attempts+1, the error
// (cut to MaxErrorLen bytes), and either the next attempt at next (zero:
// now) or, when permanent, status DeliveryFailed. A delivery already sent
// or failed is left as it is.
func (s *Store) MarkFailed(ctx context.Context, id int64, errText string, next time.Time, permanent bool) error {
	op := fmt.Sprintf("marking delivery %d failed", id)
	status := DeliveryPending
	if permanent {
		status = DeliveryFailed
	}
	errText = cutText(errText, MaxErrorLen)
	return s.inTx(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = $2, attempts = attempts + 1, last_error = $3,
			next_attempt = $4, lease_owner = '', lease_until = NULL WHERE id = $1 AND status = 'pending'`,
			id, status, errText, s.d.timeArg(normTime(next, s.clock())))
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		return s.existsIfNone(ctx, tx, op, res, id)
	})
}

// cutText makes s valid UTF-8 without NUL bytes and at most max bytes long.
func cutText(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "")
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
