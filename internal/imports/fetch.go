package imports

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/ward-health/ward/internal/intel"
)

// Errors of Fetch, wrapped with what was being done; check them with
// errors.Is. An HTTP status error is also a *StatusError.
var (
	ErrTooBig       = errors.New("too big")
	ErrUnauthorized = errors.New("not authorised")
	ErrNotFound     = errors.New("not found")
	ErrRateLimited  = errors.New("rate limited")
	ErrServer       = errors.New("server error")
	ErrProtocol     = errors.New("unexpected answer")
)

// MaxRedirects is how many redirects one request follows.
const MaxRedirects = 5

// maxRetryAfter caps the back-off a server can ask for.
const maxRetryAfter = 24 * time.Hour

// StatusError is an HTTP answer other than 200 (or 304 to a conditional
// request).
type StatusError struct {
	// URL is the request's URL without query or credentials.
	URL string
	// Code is the HTTP status code.
	Code int
	// RetryAfter is the server's Retry-After (429, 503), capped at a day;
	// zero: none given.
	RetryAfter time.Duration
	// Body is the start of the answer, cleaned of control characters.
	Body string
	// hint is the fix, for the message.
	hint string
}

// Error names the URL, the status, the server's words and the fix.
func (e *StatusError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s: %d %s", e.URL, e.Code, http.StatusText(e.Code))
	if e.Body != "" {
		fmt.Fprintf(&b, " (%q)", e.Body)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, ": retry after %v", e.RetryAfter)
	}
	if e.hint != "" {
		b.WriteString(": " + e.hint)
	}
	return b.String()
}

// Is maps status codes to the package's sentinel errors.
func (e *StatusError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Code == http.StatusUnauthorized || e.Code == http.StatusForbidden
	case ErrNotFound:
		return e.Code == http.StatusNotFound || e.Code == http.StatusGone
	case ErrRateLimited:
		return e.Code == http.StatusTooManyRequests
	case ErrServer:
		return e.Code >= 500
	}
	return false
}

// RetryAfter returns how long the server asked the caller to wait, if err
// carries a Retry-After (a 429 or 503 answer).
func RetryAfter(err error) (time.Duration, bool) {
	var se *StatusError
	if errors.As(err, &se) && se.RetryAfter > 0 {
		return se.RetryAfter, true
	}
	return 0, false
}

// Fetcher fetches sources. The zero value is ready to use.
type Fetcher struct {
	// Client makes the HTTP requests; nil: a client with sane transport
	// timeouts. Redirects are limited to MaxRedirects either way (a
	// client's own CheckRedirect is kept). Per-request timeouts come from
	// Source.Timeout.
	Client *http.Client
	// UserAgent is sent with every request; zero: "ward-import/1".
	UserAgent string
	// Logger receives progress and warnings; nil: discard.
	Logger *slog.Logger
	// Now is the clock; nil: time.Now.
	Now func() time.Time
}

func (f *Fetcher) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func (f *Fetcher) logger() *slog.Logger {
	if f.Logger != nil {
		return f.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// client returns the HTTP client for src: f.Client (or a default) with
// redirects limited, never from https to http, and src's own headers
// dropped when a redirect leaves the host (Go already drops Authorization
// and cookies then).
func (f *Fetcher) client(src Source) *http.Client {
	var c http.Client
	if f.Client != nil {
		c = *f.Client
	} else {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = DefaultTimeout
		t.MaxResponseHeaderBytes = 64 << 10
		c.Transport = t
	}
	inner := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > MaxRedirects {
			return fmt.Errorf("stopped after %d redirects (a redirect loop?): give the final URL", MaxRedirects)
		}
		if len(via) > 0 && via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
			return fmt.Errorf("refused a redirect from https to %s: give an https URL that does not redirect", redact(req.URL))
		}
		if len(via) > 0 && req.URL.Host != via[0].URL.Host {
			for k := range src.Headers {
				req.Header.Del(k)
			}
		}
		if inner != nil {
			return inner(req, via)
		}
		return nil
	}
	return &c
}

// Fetch reads src once. st is the State the previous Fetch returned (the
// zero State the first time); the returned State replaces it once the
// caller has stored the Update (persist it even when the Update is
// Unchanged: a TAXII read may have moved past objects that were not
// indicators). On error the State passed in is returned unchanged and
// nothing should be withdrawn; RetryAfter(err) says whether the server
// asked to wait.
func (f *Fetcher) Fetch(ctx context.Context, src Source, st State) (Update, State, error) {
	if err := src.Validate(); err != nil {
		return Update{}, st, err
	}
	src = src.withDefaults()
	fp := src.fingerprint()
	prev := st
	if st.Source != fp {
		st = State{}
	}
	st.Source = fp
	loc, _ := parseLocation(src.URL) // valid: Validate parsed it
	if loc.url != nil && loc.url.Scheme == "http" && (src.Token != "" || src.Password != "") && !isLoopback(loc.url.Hostname()) {
		f.logger().Warn("import sends credentials over plain http: use https", "import", src.Name, "url", redact(loc.url))
	}
	r := &run{f: f, src: src, client: f.client(src), up: Update{Source: src.Name, Fetched: f.now()}}
	var err error
	switch {
	case src.Format == FormatMISP && loc.path != "":
		st, err = r.mispDir(loc.path, st)
	case src.Format == FormatMISP:
		st, err = r.mispHTTP(ctx, loc.url, st)
	case src.Format == FormatTAXII:
		st, err = r.taxii(ctx, loc.url, st)
	default:
		st, err = r.document(ctx, loc, st)
	}
	if err != nil {
		return Update{}, prev, fmt.Errorf("import %q: %w", src.Name, err)
	}
	r.up.Indicators = dedupe(r.up.Indicators)
	f.logger().Debug("import fetched", "import", src.Name, "format", src.Format, "indicators", len(r.up.Indicators),
		"skipped", r.up.Skipped, "snapshot", r.up.Snapshot, "unchanged", r.up.Unchanged, "more", r.up.More,
		"requests", r.up.Requests, "bytes", r.up.Bytes)
	return r.up, st, nil
}

func isLoopback(host string) bool {
	return host == "localhost" || strings.HasPrefix(host, "127.") || host == "::1"
}

// run is the state of one Fetch.
type run struct {
	f      *Fetcher
	src    Source
	client *http.Client
	up     Update
}

// document fetches a list or a STIX bundle, from HTTP or a file.
func (r *run) document(ctx context.Context, loc location, st State) (State, error) {
	var body []byte
	if loc.path != "" {
		b, err := r.readFile(loc.path)
		if err != nil {
			return st, err
		}
		body = b
	} else {
		resp, err := r.get(ctx, loc.url, getOptions{etag: st.ETag, lastModified: st.LastModified})
		if err != nil {
			return st, err
		}
		if resp.notModified {
			r.up.Unchanged = true
			return st, nil
		}
		body = resp.body
		st.ETag, st.LastModified = resp.etag, resp.lastModified
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	if hash == st.ContentHash {
		r.up.Unchanged = true
		return st, nil
	}
	r.up.Snapshot = true
	switch r.src.Format {
	case FormatList:
		res, err := intel.ReadList(bytes.NewReader(body))
		if err != nil {
			return st, err
		}
		if err := r.up.addResult(r.src, res, false); err != nil {
			return st, err
		}
	case FormatSTIX:
		objs, err := parseBundle(body)
		if err != nil {
			return st, err
		}
		var sr stixReader
		if err := sr.read(objs, r.src, &r.up); err != nil {
			return st, err
		}
	}
	st.ContentHash = hash
	return st, nil
}

// readFile reads a local file within MaxBytes, gunzipping it when it is
// gzip.
func (r *run) readFile(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w: check the url", path, err)
	}
	defer fh.Close()
	b, err := r.readBody(fh, path)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// readBody reads at most MaxBytes of rd, gunzipping a gzip stream (a
// ".gz" file, or a server that sends gzip without saying so).
func (r *run) readBody(rd io.Reader, what string) ([]byte, error) {
	limit := r.src.MaxBytes
	b, err := readLimited(rd, limit, what)
	if err != nil {
		return nil, err
	}
	if len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("reading %s: a broken gzip stream: %w", what, err)
		}
		b, err = readLimited(zr, limit, what+" (decompressed)")
		if err != nil {
			return nil, err
		}
	}
	r.up.Bytes += int64(len(b))
	return b, nil
}

func readLimited(rd io.Reader, limit int64, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(rd, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: %s is larger than max_bytes (%d bytes): raise max_bytes (up to %d) or ask the publisher to split it",
			ErrTooBig, what, limit, DefaultMaxBytes)
	}
	return b, nil
}

// getOptions are the per-request settings of get.
type getOptions struct {
	etag, lastModified string // validators for a conditional request
	accept             string // zero: */*
	query              url.Values
}

// response is a read answer.
type response struct {
	notModified        bool
	body               []byte
	etag, lastModified string
	header             http.Header
	url                *url.URL // after redirects
}

// get sends one GET with the source's authentication and headers, bounded
// by Source.Timeout, and reads the body within MaxBytes.
func (r *run) get(ctx context.Context, u *url.URL, o getOptions) (*response, error) {
	ctx, cancel := context.WithTimeout(ctx, r.src.Timeout)
	defer cancel()
	target := *u
	if o.query != nil {
		q := target.Query()
		for k, vs := range o.query {
			q[k] = vs
		}
		target.RawQuery = q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", redact(u), err)
	}
	for k, v := range r.src.Headers {
		req.Header.Set(k, v)
	}
	ua := r.f.UserAgent
	if ua == "" {
		ua = "ward-import/1"
	}
	req.Header.Set("User-Agent", ua)
	if o.accept != "" {
		req.Header.Set("Accept", o.accept)
	}
	switch {
	case r.src.Token != "":
		req.Header.Set("Authorization", "Bearer "+r.src.Token)
	case r.src.Username != "":
		req.SetBasicAuth(r.src.Username, r.src.Password)
	}
	if o.etag != "" {
		req.Header.Set("If-None-Match", o.etag)
	}
	if o.lastModified != "" {
		req.Header.Set("If-Modified-Since", o.lastModified)
	}
	r.up.Requests++
	resp, err := r.client.Do(req)
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return nil, fmt.Errorf("GET %s: no answer within %v: raise timeout if the server is slow: %w", redact(u), r.src.Timeout, err)
		}
		return nil, fmt.Errorf("GET %s: %w", redact(u), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified && (o.etag != "" || o.lastModified != "") {
		return &response{notModified: true, header: resp.Header, url: resp.Request.URL}, nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil, r.statusError(resp, u)
	}
	body, err := r.readBody(resp.Body, "the answer of "+redact(u))
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return nil, fmt.Errorf("GET %s: the body took longer than %v: raise timeout if the server is slow: %w", redact(u), r.src.Timeout, err)
		}
		return nil, err
	}
	return &response{body: body, etag: clipHeader(resp.Header.Get("ETag")), lastModified: clipHeader(resp.Header.Get("Last-Modified")),
		header: resp.Header, url: resp.Request.URL}, nil
}

// clipHeader keeps a validator only when it is short and printable, so
// that a hostile one is not sent back or stored.
func clipHeader(v string) string {
	if len(v) > 256 {
		return ""
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] == 0x7f {
			return ""
		}
	}
	return v
}

// statusError builds the error of a non-200 answer.
func (r *run) statusError(resp *http.Response, u *url.URL) error {
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	e := &StatusError{URL: redact(u), Code: resp.StatusCode, Body: cleanSnippet(snippet, resp.Header.Get("Content-Type"))}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		switch {
		case r.src.Token != "":
			e.hint = "check the token"
		case r.src.Username != "":
			e.hint = "check the username and password"
		case len(r.src.Headers) > 0:
			e.hint = "check the authentication header in headers"
		default:
			e.hint = "the server wants credentials: set token, or username and password, or an API key header"
		}
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		e.hint = "check the url"
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), r.f.now())
		e.hint = "fetch less often (every)"
	case resp.StatusCode == http.StatusNotAcceptable || resp.StatusCode == http.StatusUnsupportedMediaType:
		e.hint = "the server does not speak this format: check format (and, for TAXII, that the server supports version 2.1)"
	case resp.StatusCode >= 500:
		e.hint = "the server failed: try later or tell its operator"
	}
	return e
}

// cleanSnippet returns the start of an error body for the message: text
// only, control characters replaced, at most 200 bytes.
func cleanSnippet(b []byte, contentType string) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "text/html" || len(b) == 0 {
		return ""
	}
	s := strings.Map(func(r rune) rune {
		if r == unicode.ReplacementChar || unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(string(b), ""))
	return clipText(strings.Join(strings.Fields(s), " "), 200)
}

// parseRetryAfter reads Retry-After: seconds or an HTTP date. It returns
// zero when absent or unreadable and caps the wait at a day.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
		if d <= 0 {
			return 0
		}
	} else {
		return 0
	}
	return min(d, maxRetryAfter)
}

// dedupe keeps one indicator per type and value: the newest version (by
// LastSeen, which is STIX "modified"), an active one on a tie, so that a
// bundle or page holding an indicator and its later revocation yields the
// revocation, and a value listed by several MISP events comes once. Order
// is that of first appearance.
func dedupe(inds []intel.Indicator) []intel.Indicator {
	type key struct {
		t intel.Type
		v string
	}
	at := make(map[key]int, len(inds))
	out := inds[:0]
	for _, in := range inds {
		k := key{in.Type, in.Value}
		i, seen := at[k]
		if !seen {
			at[k] = len(out)
			out = append(out, in)
			continue
		}
		old := out[i]
		if in.LastSeen.After(old.LastSeen) || in.LastSeen.Equal(old.LastSeen) && old.Revoked && !in.Revoked {
			out[i] = in
		}
	}
	return out
}
