// Package imports fetches the indicators that others share with ward: a
// plain list of phishing domains, a STIX 2.1 bundle, a MISP feed and a
// TAXII 2.1 collection, over HTTP(S) or from a local file or directory.
//
// Fetch is one round: it sends conditional requests, follows the source's
// paging within bounds and returns an Update (the indicators, whether they
// are a full snapshot or an increment) and the State to pass to the next
// round. Parsing is done by internal/intel; this package adds the network
// side: bounded bodies, timeouts, redirects, authentication, status codes
// with a fix in the message, Retry-After for the caller's back-off, the
// MISP manifest and the TAXII 2.1 client.
//
// The operator configures the URLs, so private addresses and local paths
// are allowed. What the servers send is hostile: every body, page, count
// and string is bounded, and a TAXII server cannot send ward's credentials
// to another host.
package imports

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/ward-health/ward/internal/intel"
)

// Formats of a Source.
const (
	FormatMISP  = "misp"  // a MISP feed directory: manifest.json and <uuid>.json per event
	FormatSTIX  = "stix"  // one STIX 2.1 bundle
	FormatTAXII = "taxii" // a TAXII 2.1 collection
	FormatList  = "list"  // one indicator per line (domains, URLs, IPs, hashes, hosts-file lines)
)

// Defaults and bounds of a Source.
const (
	DefaultMaxBytes      = intel.MaxDocumentSize // bytes of one response body or file
	DefaultMaxIndicators = 1_000_000             // indicators of one Fetch
	DefaultTimeout       = 2 * time.Minute       // one HTTP request, body included
	DefaultMaxPages      = 100                   // TAXII pages of one Fetch
	DefaultPageSize      = 1000                  // TAXII objects asked for per page
	MaxEvents            = 10_000                // MISP events read by one Fetch
	MaxIndicatorsLimit   = 10_000_000            // the most MaxIndicators may be
	maxNameLen           = 64
	maxHeaders           = 32
	maxHeaderLen         = 4096
)

// Source is one feed to import, as the operator configures it.
type Source struct {
	// Name identifies the feed in logs and in the indicators' Source
	// ("import <name>"): 1 to 64 letters, digits, '-', '_' or '.'.
	// Required.
	Name string `json:"name"`
	// URL is where the feed is: an http:// or https:// URL, a file:// URL
	// or an absolute path. For "misp", the feed directory (the one holding
	// manifest.json); for "taxii", the server (discovery at /taxii2/), its
	// discovery URL or an API root. Required.
	URL string `json:"url"`
	// Format is FormatMISP, FormatSTIX, FormatTAXII or FormatList.
	// Required.
	Format string `json:"format"`
	// Collection is the TAXII collection's id or title (exact, titles
	// case-insensitive). Required for "taxii", unused otherwise.
	Collection string `json:"collection,omitempty"`
	// APIRoot is the TAXII API root URL; zero: the discovery document's
	// default, or its only API root. An API root that discovery names on
	// another host is refused unless set here.
	APIRoot string `json:"api_root,omitempty"`
	// Token is sent as "Authorization: Bearer <token>"; zero: none. For a
	// MISP server, which expects the bare key, use Headers instead.
	Token string `json:"token,omitempty"`
	// Username and Password are sent with HTTP Basic authentication; zero:
	// none. Not together with Token.
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	// Headers are added to every request (an API key header, say); zero:
	// none. At most 32.
	Headers map[string]string `json:"headers,omitempty"`
	// TLP is given to indicators that carry none; zero: leave them
	// unmarked (exports treat unmarked as amber).
	TLP string `json:"tlp,omitempty"`
	// Scope is given to every indicator: intel.ScopePrivate or
	// intel.ScopeShared; zero: leave it to the caller.
	Scope string `json:"scope,omitempty"`
	// Org is given to every indicator (the organisation that keeps them
	// when Scope is private); zero: none.
	Org string `json:"org,omitempty"`
	// MaxBytes bounds one response body or file, after decompression;
	// zero: DefaultMaxBytes (64 MiB), which is also the most allowed.
	MaxBytes int64 `json:"max_bytes,omitempty"`
	// MaxIndicators bounds the indicators of one Fetch; zero:
	// DefaultMaxIndicators; at most MaxIndicatorsLimit. One document (a
	// list, a bundle, a MISP event) is also bounded by intel's readers at
	// intel.MaxIndicators. A snapshot over the bound fails; a TAXII
	// increment stops before the page that would pass it and sets
	// Update.More.
	MaxIndicators int `json:"max_indicators,omitempty"`
	// Timeout bounds one HTTP request, reading the body included; zero:
	// DefaultTimeout.
	Timeout time.Duration `json:"timeout,omitempty"`
	// MaxPages bounds the TAXII pages of one Fetch; zero: DefaultMaxPages.
	MaxPages int `json:"max_pages,omitempty"`
	// PageSize is the TAXII "limit" asked for; zero: DefaultPageSize.
	// Servers may send fewer (or, wrongly, more: those pages are still
	// bounded by MaxBytes).
	PageSize int `json:"page_size,omitempty"`
}

// withDefaults returns s with zero bounds replaced by their defaults.
func (s Source) withDefaults() Source {
	if s.MaxBytes == 0 {
		s.MaxBytes = DefaultMaxBytes
	}
	if s.MaxIndicators == 0 {
		s.MaxIndicators = DefaultMaxIndicators
	}
	if s.Timeout == 0 {
		s.Timeout = DefaultTimeout
	}
	if s.MaxPages == 0 {
		s.MaxPages = DefaultMaxPages
	}
	if s.PageSize == 0 {
		s.PageSize = DefaultPageSize
	}
	return s
}

// Validate checks a Source and returns an error that names the field and
// the fix.
func (s Source) Validate() error {
	if s.Name == "" {
		return errors.New("import: name is empty: give each import a short name such as cert-feed")
	}
	if len(s.Name) > maxNameLen || strings.Trim(s.Name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != "" {
		return fmt.Errorf("import %q: name: use 1 to %d letters, digits, '-', '_' or '.'", clipText(s.Name, 80), maxNameLen)
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("import %q: "+format, append([]any{s.Name}, args...)...)
	}
	switch s.Format {
	case FormatMISP, FormatSTIX, FormatTAXII, FormatList:
	case "":
		return fail("format is empty: use misp, stix, taxii or list")
	default:
		return fail("format %q: use misp, stix, taxii or list", clipText(s.Format, 40))
	}
	if s.URL == "" {
		return fail("url is empty: give an https:// URL or an absolute file path")
	}
	loc, err := parseLocation(s.URL)
	if err != nil {
		return fail("url: %v", err)
	}
	if loc.path != "" && s.Format == FormatTAXII {
		return fail("url %q is a local path: a TAXII collection needs the server's https:// URL", clipText(s.URL, 200))
	}
	if s.Format == FormatTAXII && strings.TrimSpace(s.Collection) == "" {
		return fail("collection is empty: give the TAXII collection's id or title (the server lists them at <api root>/collections/)")
	}
	if s.Format != FormatTAXII && (s.Collection != "" || s.APIRoot != "") {
		return fail("collection and api_root are for format taxii: remove them or set format: taxii")
	}
	if s.APIRoot != "" {
		u, err := url.Parse(s.APIRoot)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fail("api_root %q: give the API root's full http(s) URL, such as https://taxii.example/api1/", clipText(s.APIRoot, 200))
		}
	}
	if s.Token != "" && (s.Username != "" || s.Password != "") {
		return fail("both token and username/password are set: keep the one the server expects")
	}
	if s.Password != "" && s.Username == "" {
		return fail("password without username: set username too")
	}
	if loc.path != "" && (s.Token != "" || s.Username != "" || len(s.Headers) > 0) {
		return fail("token, username and headers are for HTTP sources: remove them for a local path")
	}
	if len(s.Headers) > maxHeaders {
		return fail("headers: %d, at most %d", len(s.Headers), maxHeaders)
	}
	for k, v := range s.Headers {
		if !validHeaderName(k) {
			return fail("header name %q: use letters, digits and '-' only", clipText(k, 60))
		}
		if len(v) > maxHeaderLen || strings.ContainsAny(v, "\r\n\x00") {
			return fail("header %s: the value has a line break or is longer than %d bytes", k, maxHeaderLen)
		}
		switch http.CanonicalHeaderKey(k) {
		case "Host", "Content-Length", "Transfer-Encoding", "Connection", "Accept-Encoding":
			return fail("header %s is set by ward itself: remove it", k)
		}
	}
	if strings.ContainsAny(s.Token, "\r\n\x00") || strings.ContainsAny(s.Username, ":\r\n\x00") {
		return fail("token or username has a line break or (username) a colon: check for a copy-paste error")
	}
	switch s.TLP {
	case "", intel.TLPClear, intel.TLPGreen, intel.TLPAmber, intel.TLPAmberStrict, intel.TLPRed:
	default:
		return fail("tlp %q: use clear, green, amber, amber+strict or red", clipText(s.TLP, 40))
	}
	switch s.Scope {
	case "", intel.ScopePrivate, intel.ScopeShared:
	default:
		return fail("scope %q: use private or shared", clipText(s.Scope, 40))
	}
	switch {
	case s.MaxBytes < 0 || s.MaxBytes > DefaultMaxBytes:
		return fail("max_bytes %d: use 1 to %d (the readers' limit), or 0 for the default", s.MaxBytes, DefaultMaxBytes)
	case s.MaxIndicators < 0 || s.MaxIndicators > MaxIndicatorsLimit:
		return fail("max_indicators %d: use 1 to %d, or 0 for the default", s.MaxIndicators, MaxIndicatorsLimit)
	case len(s.Org) > intel.MaxTextLen:
		return fail("org of %d bytes: at most %d", len(s.Org), intel.MaxTextLen)
	case s.Timeout < 0:
		return fail("timeout %v is negative: use a duration such as 60s, or 0 for the default", s.Timeout)
	case s.MaxPages < 0 || s.MaxPages > 10_000:
		return fail("max_pages %d: use 1 to 10000, or 0 for the default", s.MaxPages)
	case s.PageSize < 0 || s.PageSize > 100_000:
		return fail("page_size %d: use 1 to 100000, or 0 for the default", s.PageSize)
	}
	return nil
}

// location is a parsed Source.URL: an HTTP URL or a local path.
type location struct {
	url  *url.URL // http or https
	path string   // absolute local path
}

// parseLocation reads an http(s) URL, a file:// URL or an absolute path.
func parseLocation(raw string) (location, error) {
	if strings.ContainsAny(raw, "\x00\r\n") {
		return location{}, fmt.Errorf("%q has a control character", clipText(raw, 200))
	}
	if filepath.IsAbs(raw) {
		return location{path: filepath.Clean(raw)}, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return location{}, fmt.Errorf("%q is not a URL: %v", clipText(raw, 200), err)
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return location{}, fmt.Errorf("%q has no host: write it as https://host/path", clipText(raw, 200))
		}
		if u.User != nil {
			return location{}, fmt.Errorf("%q has credentials in it: move them to username and password (or token)", redact(u))
		}
		return location{url: u}, nil
	case "file":
		if u.Host != "" && u.Host != "localhost" || !filepath.IsAbs(u.Path) {
			return location{}, fmt.Errorf("%q: write a local file as file:///absolute/path", clipText(raw, 200))
		}
		return location{path: filepath.Clean(u.Path)}, nil
	case "":
		return location{}, fmt.Errorf("%q is neither a URL nor an absolute path: write https://..., file:///... or /path", clipText(raw, 200))
	}
	return location{}, fmt.Errorf("scheme %q is not supported: use https, http or file", clipText(u.Scheme, 20))
}

// fingerprint identifies what a State belongs to: a State fetched from
// another URL, format, collection or API root is not reused.
func (s Source) fingerprint() string {
	h := sha256.Sum256([]byte(s.Format + "\x00" + s.URL + "\x00" + s.Collection + "\x00" + s.APIRoot))
	return hex.EncodeToString(h[:8])
}

func validHeaderName(k string) bool {
	if k == "" || len(k) > 128 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// redact writes a URL for messages and logs: no credentials, no query
// (where API keys hide), no fragment.
func redact(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User, c.RawQuery, c.ForceQuery, c.Fragment, c.RawFragment = nil, "", false, "", ""
	return clipText(c.String(), 300)
}

// clipText shortens s to at most n bytes on a rune boundary, for messages.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// State is what one Fetch remembers for the next. The caller persists it
// as JSON after it has stored the Update, and passes it back; the zero
// State fetches everything.
type State struct {
	// Source fingerprints the URL, format, collection and API root the
	// State was fetched with; a State of another configuration is ignored.
	Source string `json:"source,omitempty"`
	// ETag and LastModified are the validators of the last full response
	// (for MISP, of manifest.json), sent back as If-None-Match and
	// If-Modified-Since.
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	// ContentHash is the SHA-256 of the last body or file read (for MISP,
	// of manifest.json), so that an unchanged feed is recognised even
	// when the server ignores conditional requests.
	ContentHash string `json:"content_hash,omitempty"`
	// AddedAfter is the X-TAXII-Date-Added-Last of the last page read:
	// the next Fetch asks for objects added after it.
	AddedAfter time.Time `json:"added_after,omitzero"`
	// Events maps each MISP event UUID already read to its manifest
	// timestamp.
	Events map[string]string `json:"events,omitempty"`
}

// MaxSkipExamples is how many skipped items an Update lists.
const MaxSkipExamples = 10

// Update is what one Fetch found.
type Update struct {
	// Source is the source's name.
	Source string `json:"source"`
	// Indicators are the indicators read, with Source "import <name>"
	// and the source's TLP (when they carry none) and scope. Revoked ones
	// (a STIX or TAXII indicator with revoked true) have Revoked set: the
	// caller withdraws them. Each type and value comes once: its newest
	// version (by LastSeen, STIX "modified"), the active one on a tie.
	Indicators []intel.Indicator `json:"indicators"`
	// Snapshot is true when Indicators are the whole feed (a list, a STIX
	// bundle, a MISP feed read whole): the caller withdraws the
	// indicators of this source that are absent. When false, they are an
	// increment (TAXII objects added since the last Fetch, new MISP
	// events): only adds and updates.
	Snapshot bool `json:"snapshot"`
	// Unchanged is true when the source has not changed since the State
	// passed in (304 Not Modified, the same content, no new TAXII
	// objects or MISP events): Indicators is empty and the caller keeps
	// what it has.
	Unchanged bool `json:"unchanged"`
	// More is true when an increment stopped at a bound (max_pages,
	// max_indicators) with more to read: fetch again soon.
	More bool `json:"more,omitempty"`
	// Skipped counts the items the readers left out; SkipExamples lists
	// the first MaxSkipExamples with their reason.
	Skipped      int          `json:"skipped"`
	SkipExamples []intel.Skip `json:"skip_examples,omitempty"`
	// Requests and Bytes count the HTTP requests made and the body bytes
	// read (after decompression).
	Requests int   `json:"requests"`
	Bytes    int64 `json:"bytes"`
	// Fetched is when the Fetch started, by Fetcher.Now.
	Fetched time.Time `json:"fetched"`
}

// addResult appends a reader's result to u, marking the indicators for src
// and enforcing max. revoked marks them revoked.
func (u *Update) addResult(src Source, r intel.Result, revoked bool) error {
	u.Skipped += r.SkippedCount
	for _, s := range r.Skipped {
		if len(u.SkipExamples) >= MaxSkipExamples {
			break
		}
		u.SkipExamples = append(u.SkipExamples, s)
	}
	if len(u.Indicators)+len(r.Indicators) > src.MaxIndicators {
		return fmt.Errorf("%w: more than %d indicators: raise max_indicators (up to %d) or ask the publisher for a smaller feed",
			ErrTooBig, src.MaxIndicators, MaxIndicatorsLimit)
	}
	for _, in := range r.Indicators {
		in.Source = intel.SourceImport + " " + src.Name
		if in.TLP == "" {
			in.TLP = src.TLP
		}
		if src.Scope != "" {
			in.Scope = src.Scope
		}
		if src.Org != "" {
			in.Org = src.Org
		}
		in.Revoked = in.Revoked || revoked
		u.Indicators = append(u.Indicators, in)
	}
	return nil
}
