package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/ward-health/ward/internal/alert"
	"github.com/ward-health/ward/internal/store"
)

// deliveryLease is how long a claimed delivery belongs to this process;
// after it, another worker may take it (this one crashed).
const deliveryLease = 2 * time.Minute

// runDeliveries sends pending alerts to their sinks: claim, send, mark.
// A failure is retried with jittered exponential backoff (or when the
// sink says, after Retry-After) until it succeeds or the sink says it
// never will.
func (e *Engine) runDeliveries(ctx context.Context) error {
	// The worker's name is the host's: a ward serve restarting after a
	// crash takes back the deliveries it had claimed at once, instead of
	// waiting for their leases to end. (Run one ward serve per host and
	// store.)
	worker, _ := os.Hostname()
	if worker == "" {
		worker = "ward"
	}
	if n, err := e.st.ReleaseClaims(ctx, worker); err != nil {
		return err
	} else if n > 0 {
		e.log.Info("took back alert deliveries claimed before a restart", "deliveries", n)
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		ds, err := e.st.ClaimDeliveries(ctx, worker, e.now(), deliveryLease, 50)
		if err != nil {
			return err
		}
		for _, d := range ds {
			if err := e.deliver(ctx, d); err != nil {
				return err
			}
		}
		if len(ds) > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// deliver sends one delivery and records the outcome; it returns an error
// only when the outcome cannot be recorded.
func (e *Engine) deliver(ctx context.Context, d store.Delivery) error {
	sink := e.sinks[d.Sink]
	if sink == nil {
		return e.st.MarkFailed(ctx, d.ID, fmt.Sprintf("no sink named %q in the configuration", d.Sink), e.now(), true)
	}
	a := alertOf(d.Alert)
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	err := sink.Send(sctx, a)
	cancel()
	now := e.now()
	if err == nil {
		e.stats.add(&e.stats.Sent, 1)
		return e.st.MarkSent(ctx, d.ID, now)
	}
	if ctx.Err() != nil {
		return nil // shutting down: the lease runs out and it is sent later
	}
	e.stats.add(&e.stats.SendErrors, 1)
	permanent := alert.IsPermanent(err)
	wait := e.backoff(d.Attempts)
	if ra, ok := alert.RetryAfter(err); ok && ra > wait {
		wait = ra
	}
	e.log.Warn("alert not delivered", "sink", d.Sink, "alert", a.ID, "attempt", d.Attempts+1, "permanent", permanent, "retry_in", wait.String(), "err", err)
	return e.st.MarkFailed(ctx, d.ID, err.Error(), now.Add(wait), permanent)
}

// backoff is the wait after the n-th failed attempt: 10 s doubling to an
// hour, with ±20% jitter.
func backoff(attempts int) time.Duration {
	d := 10 * time.Second
	for range min(attempts, 12) {
		d *= 2
	}
	d = min(d, time.Hour)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// alertOf turns an outbox row into the alert sinks send. The engine's
// own payloads are alert.Alert JSON; the store's payload for a new
// finding is a summary, completed from the row.
func alertOf(r store.Alert) alert.Alert {
	var a alert.Alert
	_ = json.Unmarshal(r.Payload, &a)
	var sum struct {
		Domain  string   `json:"domain"`
		Brand   string   `json:"brand"`
		Score   int      `json:"score"`
		Reasons []string `json:"reasons"`
	}
	_ = json.Unmarshal(r.Payload, &sum)
	a.ID = fmt.Sprintf("ward-alert-%d", r.ID)
	if a.Kind == "" {
		a.Kind = "finding"
	}
	if a.Org == "" {
		a.Org = r.Org
	}
	if a.State == "" {
		a.State, a.Previous = string(r.State), string(r.Previous)
	}
	if a.Subject == "" {
		a.Subject, a.Brand, a.Score, a.Reasons = sum.Domain, sum.Brand, sum.Score, sum.Reasons
	}
	if a.Title == "" {
		a.Title = fmt.Sprintf("%s imitates %s: %s", a.Subject, a.Brand, a.State)
	}
	if a.Severity == "" {
		a.Severity = severity(store.State(a.State))
	}
	if a.Time.IsZero() {
		a.Time = r.CreatedAt
	}
	return a
}
