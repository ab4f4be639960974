// Package alert delivers ward's alerts to the places a security officer
// reads them: webhooks (generic JSON, Slack, Mattermost, Microsoft Teams),
// mail over SMTP, and syslog (RFC 5424 over UDP, TCP or TLS).
//
// A Sink delivers one alert and says whether a failure is worth retrying
// (IsPermanent, RetryAfter). Keeping an outbox, retrying with backoff and
// delivering each state change exactly once is the caller's job (the
// engine's); sinks help it by carrying the alert's ID as an idempotency key
// wherever the protocol has a place for one.
//
// Most of an alert is attacker-influenced: a look-alike domain can be
// anything a registrar allows, a mail subject anything at all. Every sink
// bounds the alert's sizes (see Limits) and escapes every value for its
// target: JSON, Slack mrkdwn, Markdown, Adaptive Card text, MIME headers,
// syslog SD-PARAMs. Sinks hold no mutable state after construction and are
// safe for concurrent use.
package alert

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Alert is one state change that the operator should hear about. The
// engine fills it; sinks only read it. Its JSON form (the generic webhook's
// body) uses the snake_case names in the tags.
type Alert struct {
	// ID is the alert's stable idempotency key, such as "f123-s3": the
	// same state change always has the same ID. It is sent as the
	// Idempotency-Key and X-Ward-Alert-ID headers of webhooks, in the
	// Message-ID of mail and as the MSGID of syslog. It must not be empty.
	ID string `json:"id"`
	// Org is the organisation (tenant) the alert is for.
	Org string `json:"org"`
	// Kind is what the alert is about: "finding" (a look-alike domain),
	// "mail" (a mail verdict) or "watch" (one of the organisation's own
	// services going down or up).
	Kind string `json:"kind"`
	// Title is one line, such as
	// "rivm-coronatest.nl imitates RIVM: malicious".
	Title string `json:"title"`
	// Severity is "info", "low", "medium", "high" or "critical".
	Severity string `json:"severity"`
	// State is the finding's new state: "new", "watching", "suspicious",
	// "malicious" or "dismissed" (or a watch's "down"/"up").
	State string `json:"state"`
	// Previous is the state before this change; "" for a new finding.
	Previous string `json:"previous"`
	// Subject is the domain, URL or message concerned.
	Subject string `json:"subject"`
	// Brand is the brand the subject imitates, if any.
	Brand string `json:"brand"`
	// Score is the finding's score (0 to 100 for findings).
	Score int `json:"score"`
	// Reasons say why the score is what it is, most important first.
	Reasons []string `json:"reasons"`
	// Link is the URL of the finding in ward's web page or API; "" when
	// there is none.
	Link string `json:"link"`
	// Time is when the state changed.
	Time time.Time `json:"time"`
	// Details are extra fields sent only by the generic JSON webhook. They
	// must be JSON-encodable.
	Details map[string]any `json:"details,omitempty"`
}

// Sink delivers alerts to one destination. Send returns nil once the
// destination accepted the alert. A failed Send may be retried with the
// same alert unless IsPermanent reports its error permanent; RetryAfter
// says how long the destination asked the caller to wait.
//
// Implementations are safe for concurrent use and start no goroutine that
// outlives Send.
type Sink interface {
	// Name identifies the sink in logs and in the engine's delivery
	// records; it is stable across restarts and holds no secret.
	Name() string
	// Send delivers one alert, giving up when ctx is done or the sink's
	// timeout passes.
	Send(ctx context.Context, a Alert) error
}

// Limits on the parts of an alert that sinks send. Longer values are cut
// at a character boundary and end with "…"; reasons past MaxReasons are
// replaced by one line saying how many were left out.
const (
	MaxIDLen      = 128
	MaxTitleLen   = 300
	MaxSubjectLen = 512
	MaxShortLen   = 128 // Org, Kind, Severity, State, Previous, Brand
	MaxReasonLen  = 300
	MaxReasons    = 20
	MaxLinkLen    = 2048
)

// ErrNoID is returned by every sink for an alert without an ID: without it
// the destination cannot tell a retry from a new alert.
var ErrNoID = errors.New("alert has no ID: the engine must set Alert.ID to the finding's idempotency key")

// permanentError marks an error that retrying will not fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as one that retrying the same alert will not fix: a
// 4xx answer other than 408, 425 and 429, a 5xx SMTP reply, a bad
// configuration. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// IsPermanent reports whether err, or an error it wraps, was marked by
// Permanent. Errors of a done context are never permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// retryAfterError carries the wait a server asked for.
type retryAfterError struct {
	err   error
	after time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// maxRetryAfter bounds the wait a server can ask for, so a hostile or
// broken server cannot park an alert for a year.
const maxRetryAfter = 6 * time.Hour

// RetryAfter reports the wait the destination asked for before the next
// try (an HTTP 429 or 503 with a Retry-After header), at most 6 hours.
func RetryAfter(err error) (time.Duration, bool) {
	var r *retryAfterError
	if errors.As(err, &r) {
		return r.after, true
	}
	return 0, false
}

// parseRetryAfter reads a Retry-After header value: delay-seconds or an
// HTTP-date (RFC 9110 section 10.2.3). It reports false for anything else.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > 64 {
		return 0, false
	}
	var d time.Duration
	if n, err := strconv.ParseUint(v, 10, 32); err == nil {
		d = time.Duration(n) * time.Second
	} else if t, err := time.Parse(time.RFC1123, v); err == nil {
		d = t.Sub(now)
	} else {
		return 0, false
	}
	return min(max(d, 0), maxRetryAfter), true
}

// bounded returns a copy of a that is safe to render: valid UTF-8, no
// control or bidirectional-override characters in one-line fields, every
// field within its limit. It returns ErrNoID (permanent) when a has no ID.
func (a Alert) bounded() (Alert, error) {
	b := a
	// An ID of only spaces and control characters is no ID.
	if b.ID = field(a.ID, MaxIDLen); b.ID == "" {
		return a, Permanent(ErrNoID)
	}
	b.Org = field(a.Org, MaxShortLen)
	b.Kind = field(a.Kind, MaxShortLen)
	b.Title = field(a.Title, MaxTitleLen)
	b.Severity = field(a.Severity, MaxShortLen)
	b.State = field(a.State, MaxShortLen)
	b.Previous = field(a.Previous, MaxShortLen)
	b.Subject = field(a.Subject, MaxSubjectLen)
	b.Brand = field(a.Brand, MaxShortLen)
	b.Link = field(a.Link, MaxLinkLen)
	n := min(len(a.Reasons), MaxReasons)
	b.Reasons = make([]string, 0, n+1)
	for _, r := range a.Reasons[:n] {
		b.Reasons = append(b.Reasons, field(r, MaxReasonLen))
	}
	if left := len(a.Reasons) - n; left > 0 {
		b.Reasons = append(b.Reasons, fmt.Sprintf("… and %d more", left))
	}
	if b.Time.IsZero() {
		b.Time = time.Now()
	}
	b.Time = b.Time.UTC()
	return b, nil
}

// idToken renders an alert ID for a field that takes only the bytes
// keep accepts and at most n bytes (n >= 16). An ID that fits is sent as
// it is; any other is cut and replaced bytes become '_', then a hash of
// the whole ID is appended, so that two IDs never share a token.
func idToken(id string, n int, keep func(c byte) bool) string {
	fits := len(id) <= n && id != ""
	for i := 0; i < len(id) && fits; i++ {
		fits = keep(id[i])
	}
	if fits {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	tag := "." + hex.EncodeToString(sum[:6])
	var b strings.Builder
	for i := 0; i < len(id) && b.Len() < n-len(tag); i++ {
		if c := id[i]; keep(c) {
			b.WriteByte(c)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String() + tag
}

// field makes s one line of at most n bytes. It looks at no more than 4n
// bytes of s, so that a megabyte of hostile text costs no more than a
// long title.
func field(s string, n int) string {
	return clip(oneLine(clip(s, 4*n)), n)
}

// severityRank orders severities; unknown ones rank as "medium".
func severityRank(s string) int {
	switch strings.ToLower(s) {
	case "info":
		return 0
	case "low":
		return 1
	case "medium":
		return 2
	case "high":
		return 3
	case "critical":
		return 4
	}
	return 2
}

// stateLine describes the state change, such as "suspicious → malicious".
func (a Alert) stateLine() string {
	switch {
	case a.Previous != "" && a.State != "":
		return a.Previous + " → " + a.State
	default:
		return a.State
	}
}
