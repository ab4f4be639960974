package ct

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// errNotFound is a 404: a partial tile the log has replaced by the full
// one, or a wrong URL.
var errNotFound = errors.New("not found")

// httpError is a failed HTTP exchange.
type httpError struct {
	url        string
	status     int
	retryAfter time.Duration
}

func (e *httpError) Error() string {
	return fmt.Sprintf("GET %s: HTTP %d %s", e.url, e.status, http.StatusText(e.status))
}

func (e *httpError) Is(target error) bool {
	return target == errNotFound && e.status == http.StatusNotFound
}

// bodyError is a response body that is not what the API promises: cut
// short, not JSON, a tile of the wrong size.
type bodyError struct {
	url string
	err error
}

func (e *bodyError) Error() string { return fmt.Sprintf("GET %s: bad response: %v", e.url, e.err) }
func (e *bodyError) Unwrap() error { return e.err }

// fetcher makes the HTTP requests of one log: bounded bodies, a timeout per
// request, a cap on requests in flight.
type fetcher struct {
	client  *http.Client
	timeout time.Duration
	sem     chan struct{}
	stats   *counters
}

func newFetcher(client *http.Client, timeout time.Duration, concurrency int, stats *counters) *fetcher {
	if client == nil {
		client = &http.Client{}
	}
	return &fetcher{client: client, timeout: timeout, sem: make(chan struct{}, concurrency), stats: stats}
}

// get fetches url and returns its body, at most limit bytes after gzip
// decoding. Errors are *httpError, *bodyError, network errors or ctx's.
func (f *fetcher) get(ctx context.Context, url string, limit int64) ([]byte, error) {
	select {
	case f.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-f.sem }()
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "ward (+https://github.com/ward-health/ward)")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, &httpError{url: url, status: resp.StatusCode, retryAfter: retryAfter(resp.Header.Get("Retry-After"))}
	}
	// A gzipped body may be a little larger than what it holds.
	raw := limit + limit/8 + 4096
	body, err := io.ReadAll(io.LimitReader(resp.Body, raw+1))
	if err != nil {
		return nil, &bodyError{url, fmt.Errorf("reading the body: %w", err)}
	}
	if int64(len(body)) > raw {
		return nil, &bodyError{url, fmt.Errorf("body larger than %d bytes", raw)}
	}
	// Static assets may be stored gzipped and served without
	// Content-Encoding; no CT structure starts with gzip's magic.
	if len(body) >= 2 && body[0] == 0x1f && body[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, &bodyError{url, fmt.Errorf("gzip: %w", err)}
		}
		body, err = io.ReadAll(io.LimitReader(zr, limit+1))
		if err != nil {
			return nil, &bodyError{url, fmt.Errorf("gzip: %w", err)}
		}
	}
	if int64(len(body)) > limit {
		return nil, &bodyError{url, fmt.Errorf("body larger than %d bytes", limit)}
	}
	return body, nil
}

func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(min(s, 3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(time.Until(t), 0), time.Hour)
	}
	return 0
}

// fatal reports errors that retrying cannot fix: the log signed something
// false or contradicted itself.
func fatal(err error) bool {
	return errors.Is(err, ErrBadSignature) || errors.Is(err, ErrInconsistent)
}

// errKind names an error for the counters.
func errKind(err error) string {
	var he *httpError
	var be *bodyError
	switch {
	case errors.Is(err, ErrBadSignature):
		return "bad_signature"
	case errors.Is(err, ErrInconsistent):
		return "inconsistent"
	case errors.As(err, &he) && he.status == http.StatusTooManyRequests:
		return "http_429"
	case errors.As(err, &he) && he.status >= 500:
		return "http_5xx"
	case errors.As(err, &he):
		return "http_4xx"
	case errors.As(err, &be), errors.Is(err, ErrMalformed):
		return "bad_response"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	default:
		return "network"
	}
}

// backoff is jittered exponential backoff.
type backoff struct {
	min, max time.Duration
	cur      time.Duration
}

func (b *backoff) next(err error) time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(2*b.cur, b.max)
	}
	d := b.cur/2 + rand.N(b.cur/2+1)
	var he *httpError
	if errors.As(err, &he) && he.retryAfter > d {
		d = he.retryAfter
	}
	return d
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// retry runs fn until it succeeds, fails fatally, or ctx ends, counting
// and backing off on the way.
func (f *fetcher) retry(ctx context.Context, fn func() error) error {
	b := backoff{min: 250 * time.Millisecond, max: time.Minute}
	for {
		err := fn()
		if err == nil || fatal(err) || ctx.Err() != nil || errors.Is(err, errNotFound) {
			return err
		}
		f.stats.countError(err)
		if err := sleep(ctx, b.next(err)); err != nil {
			return err
		}
	}
}

// LogStats is what a follower did and where it stands.
type LogStats struct {
	Entries   uint64            // entries verified and passed on
	Malformed uint64            // entries that could not be decoded, skipped
	Errors    map[string]uint64 // by kind: http_429, http_5xx, timeout, bad_response, bad_signature, inconsistent...
	TreeSize  uint64            // size of the newest signed tree head
	TreeTime  time.Time         // its timestamp
	Next      uint64            // the next index to pass on
	LastEntry time.Time         // timestamp of the last entry passed on
	LastError string
	Failed    bool // the log was given up: it signed something false
}

// counters holds a follower's LogStats; safe for concurrent use.
type counters struct {
	mu sync.Mutex
	s  LogStats
}

func (c *counters) countError(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.s.Errors == nil {
		c.s.Errors = map[string]uint64{}
	}
	c.s.Errors[errKind(err)]++
	c.s.LastError = err.Error()
}

// snapshot returns a copy safe to read.
func (c *counters) snapshot() LogStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.s
	out.Errors = map[string]uint64{}
	for k, v := range c.s.Errors {
		out.Errors[k] = v
	}
	return out
}

func (c *counters) update(fn func(s *LogStats)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fn(&c.s)
}
