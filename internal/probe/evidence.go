package probe

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Reference fingerprints a brand's real site, for comparison with
// look-alikes. Build it once with [Prober.Reference] (or by hand) and keep
// it: it does not change between probes.
type Reference struct {
	// Domain is the official domain fetched.
	Domain string `json:"domain"`
	// Names are the brand's names looked for in a page's text ("RIVM",
	// "Rijksinstituut voor Volksgezondheid en Milieu"); matched as whole
	// words, case-insensitive.
	Names []string `json:"names,omitempty"`
	// Domains are the brand's official domains, looked for the same way.
	Domains []string `json:"domains,omitempty"`
	// Title is the real site's page title.
	Title string `json:"title,omitempty"`
	// SimHash and Features fingerprint the real site's page.
	SimHash  SimHash `json:"simhash"`
	Features int     `json:"features"`
	// Favicon is the real site's icon; nil when it has none.
	Favicon *Favicon `json:"favicon,omitempty"`
	// FetchedAt is when the page was fetched.
	FetchedAt time.Time `json:"fetched_at"`
}

// mentions returns the names and domains of r that appear in text as whole
// words (bounded by non-alphanumerics), in r's order.
func (r *Reference) mentions(text string) []string {
	text = strings.ToLower(text)
	var out []string
	for _, n := range append(append([]string(nil), r.Names...), r.Domains...) {
		n = strings.ToLower(strings.TrimSpace(n))
		if len(n) < 2 || len(out) >= 32 {
			continue
		}
		if containsWord(text, n) && !containsString(out, n) {
			out = append(out, n)
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// containsWord reports whether word occurs in text with no letter or digit
// right before or after it.
func containsWord(text, word string) bool {
	for off := 0; off < len(text); {
		i := strings.Index(text[off:], word)
		if i < 0 {
			return false
		}
		start, end := off+i, off+i+len(word)
		before, _ := utf8.DecodeLastRuneInString(text[:start])
		after, _ := utf8.DecodeRuneInString(text[end:])
		if (start == 0 || !isWordRune(before)) && (end == len(text) || !isWordRune(after)) {
			return true
		}
		off = start + 1
	}
	return false
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// Similarity compares a page with a Reference.
type Similarity struct {
	// Reference is the official domain compared with.
	Reference string `json:"reference"`
	// Score is the SimHash similarity, 1 - hamming/64: 1 for the same
	// page, about 0.5 for unrelated ones. 0 when either side has no
	// features.
	Score float64 `json:"score"`
	// SameFavicon is set when both icons have the same SHA-256.
	SameFavicon bool `json:"same_favicon"`
	// SameTitle is set when both titles are equal, ignoring case and
	// white space, and not empty.
	SameTitle bool `json:"same_title"`
}

// Compare returns how similar c is to ref.
func Compare(c *Content, ref *Reference) *Similarity {
	if c == nil || ref == nil {
		return nil
	}
	s := &Similarity{Reference: ref.Domain}
	if c.Features > 0 && ref.Features > 0 {
		s.Score = c.SimHash.Similarity(ref.SimHash)
	}
	s.SameFavicon = c.Favicon != nil && ref.Favicon != nil && c.Favicon.SHA256 == ref.Favicon.SHA256
	t1, t2 := strings.ToLower(collapse(c.Title)), strings.ToLower(collapse(ref.Title))
	s.SameTitle = t1 != "" && t1 == t2
	return s
}

// Evidence is everything probed about one name at one time, kept as a
// JSON snapshot and shown to analysts.
type Evidence struct {
	// Name is the name probed.
	Name string `json:"name"`
	// CheckedAt is when the probe started, UTC.
	CheckedAt time.Time `json:"checked_at"`
	// DNS is what DNS says.
	DNS DNSResult `json:"dns"`
	// Web is the HTTPS and HTTP fetches.
	Web WebResult `json:"web"`
	// Content is the final page's content; nil when no page was live.
	Content *Content `json:"content,omitempty"`
	// Similarity compares Content with the Reference; nil without either.
	Similarity *Similarity `json:"similarity,omitempty"`
	// RDAP is the registration data; nil when RDAP is off.
	RDAP *RDAP `json:"rdap,omitempty"`
	// Errors lists steps that could not be completed.
	Errors []string `json:"errors,omitempty"`
}

// Probe runs every step on name: DNS, the guarded web fetch, content
// extraction with the favicon, the comparison with ref (may be nil) and
// RDAP when configured. It never fails; what could not be done is in
// Errors and in each step's own fields.
func (p *Prober) Probe(ctx context.Context, name string, ref *Reference) Evidence {
	ev := Evidence{Name: name, CheckedAt: time.Now().UTC()}
	ev.DNS = p.DNS(ctx, name)
	ev.Name = ev.DNS.Name
	ev.Web = p.Web(ctx, ev.DNS.Name, ev.DNS)
	ev.Content = p.content(ctx, ev.DNS, ev.Web, ref)
	ev.Similarity = Compare(ev.Content, ref)
	ev.RDAP = p.RDAP(ctx, ev.DNS.Name)
	if ev.DNS.Status != OutcomeOK && ev.DNS.Status != OutcomeNXDomain && ev.DNS.Status != OutcomeNoData {
		ev.Errors = append(ev.Errors, "dns: "+ev.DNS.Status)
	}
	if ev.RDAP != nil && ev.RDAP.Error != "" {
		ev.Errors = append(ev.Errors, "rdap: "+ev.RDAP.Error)
	}
	if err := ctx.Err(); err != nil {
		ev.Errors = append(ev.Errors, "probe cut short: "+err.Error())
	}
	return ev
}

// content extracts the final page of w, fetches its favicon through the
// guard, and records non-HTML final responses and attachments as
// downloads. It returns nil when no fetch was live.
func (p *Prober) content(ctx context.Context, d DNSResult, w WebResult, ref *Reference) *Content {
	f := w.Final()
	if f == nil {
		return nil
	}
	var c *Content
	if isHTML(f) {
		c = ExtractContent(f.body, f.FinalURL, ref)
	} else {
		c = &Content{URL: f.FinalURL}
		if len(f.body) > 0 {
			mt, _, _ := mime.ParseMediaType(f.ContentType)
			if mt == "" {
				mt = http.DetectContentType(f.body)
			}
			c.Downloads = append(c.Downloads, Download{URL: f.FinalURL, Reason: "not html: " + truncate(mt, 64)})
		}
	}
	if f.Attachment {
		c.Downloads = append(c.Downloads, Download{URL: f.FinalURL, Reason: "attachment"})
	}
	if c.IconURL != "" {
		c.Favicon = p.fetchFavicon(ctx, d, c.IconURL)
	}
	return c
}

// isHTML reports whether a response is an HTML page, by its Content-Type
// or, without one, by sniffing.
func isHTML(f *Fetch) bool {
	ct := f.ContentType
	if ct == "" {
		ct = http.DetectContentType(f.body)
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return strings.Contains(strings.ToLower(ct), "html")
	}
	return mt == "text/html" || mt == "application/xhtml+xml"
}

// fetchFavicon fetches an icon through the guard, at most 100 KiB. It
// returns nil when there is no usable icon: an error, an empty body, or an
// HTML page (a soft 404, whose hash would match unrelated sites).
func (p *Prober) fetchFavicon(ctx context.Context, d DNSResult, iconURL string) *Favicon {
	s := p.newSession(d.Name, d.Addrs())
	defer s.close()
	f := s.fetch(ctx, iconURL, maxFavicon)
	if f.Status != http.StatusOK || len(f.body) == 0 || f.Truncated || isHTML(f) {
		return nil
	}
	sum := sha256.Sum256(f.body)
	return &Favicon{URL: f.FinalURL, Bytes: len(f.body), MMH3: FaviconHash(f.body), SHA256: hex.EncodeToString(sum[:])}
}

// ErrNoReferencePage is returned by Reference when the official site
// serves no live page.
var ErrNoReferencePage = errors.New("no live page")

// Reference fetches the brand's real site and fingerprints it. Names gets
// the first label of the domain ("rivm" for rivm.nl); callers add the
// brand's other names. The result is meant to be cached: compute it once
// per brand, not per probe.
func (p *Prober) Reference(ctx context.Context, officialDomain string) (*Reference, error) {
	d := p.DNS(ctx, officialDomain)
	if d.Status != OutcomeOK {
		return nil, fmt.Errorf("probe: reference %s: DNS %s: check the domain and the Resolvers", officialDomain, d.Status)
	}
	w := p.Web(ctx, d.Name, d)
	c := p.content(ctx, d, w, nil)
	if c == nil || c.Features == 0 {
		why := w.HTTPS.Error
		if why == "" {
			why = w.HTTP.Error
		}
		return nil, fmt.Errorf("probe: reference %s: %w (%s)", officialDomain, ErrNoReferencePage, why)
	}
	ref := &Reference{
		Domain:    d.Name,
		Domains:   []string{d.Name},
		Title:     c.Title,
		SimHash:   c.SimHash,
		Features:  c.Features,
		Favicon:   c.Favicon,
		FetchedAt: time.Now().UTC(),
	}
	if label, _, _ := strings.Cut(registrableOf(d.Name), "."); len(label) >= 3 {
		ref.Names = []string{label}
	}
	return ref, nil
}
