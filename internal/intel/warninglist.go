package intel

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/ward-health/ward/internal/lookalike"
)

// Warninglist holds names and addresses that ward never exports or blocks,
// whatever an indicator says: the protected brands' official domains,
// infrastructure whose blocking would take a hospital offline, and popular
// benign domains. Build it with NewWarninglist; the zero value is empty.
// Public suffixes (com, co.uk, gov.uk, github.io, ...) are always on the
// list: blocking one would block every name under it.
type Warninglist struct {
	tree     map[string]bool // the name and every subdomain
	exact    map[string]bool // the name only
	prefixes []netip.Prefix
}

// BuiltinTree are names that ward never blocks, with all their subdomains:
// the DNS root and top-level servers, the big public resolvers, and the
// update and certificate-revocation hosts that machines must reach. Kept
// short on purpose: every entry is a place where a real phishing page could
// hide unseen.
var BuiltinTree = []string{
	// DNS infrastructure.
	"root-servers.net", "gtld-servers.net", "iana-servers.net", "iana.org", "icann.org", "in-addr.arpa", "ip6.arpa",
	// Public resolvers.
	"dns.google", "cloudflare-dns.com", "one.one.one.one", "quad9.net", "opendns.com",
	// Operating system updates, time and certificate status.
	"windowsupdate.com", "update.microsoft.com", "ocsp.digicert.com", "crl.microsoft.com", "ocsp.pki.goog",
	"letsencrypt.org", "lencr.org", "pool.ntp.org", "time.windows.com", "time.apple.com",
}

// BuiltinExact are names that ward never blocks, while their subdomains may
// be blocked: shared hosting and CDN apexes, where phishing pages live on
// customer subdomains (evil.azurewebsites.net) but the apex serves everyone.
var BuiltinExact = []string{
	"amazonaws.com", "cloudfront.net", "akamaihd.net", "akamaiedge.net", "edgekey.net", "fastly.net",
	"azureedge.net", "azurewebsites.net", "windows.net", "googleusercontent.com", "appspot.com",
	"cloudflare.com", "google.com", "microsoft.com", "apple.com", "office.com", "live.com", "outlook.com",
	"sharepoint.com", "github.com", "github.io", "wordpress.com", "blogspot.com", "wixsite.com", "weebly.com",
	"firebaseapp.com", "web.app", "pages.dev", "workers.dev", "netlify.app", "vercel.app", "herokuapp.com",
}

// BuiltinPrefixes are addresses ward never blocks: the public resolvers'
// service addresses and every private, loopback, link-local, shared or
// unspecified range (blocking those in RPZ would break hospital networks).
var BuiltinPrefixes = []string{
	"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16",
	"8.8.8.8/32", "8.8.4.4/32", "1.1.1.1/32", "1.0.0.1/32", "9.9.9.9/32", "149.112.112.112/32",
	"208.67.222.222/32", "208.67.220.220/32",
	"::/128", "::1/128", "fc00::/7", "fe80::/10",
	"2001:4860:4860::8888/128", "2001:4860:4860::8844/128", "2606:4700:4700::1111/128", "2606:4700:4700::1001/128",
	"2620:fe::fe/128", "2620:fe::9/128",
}

// Bounds on LoadWarninglist.
const (
	MaxWarninglistLines = 2_000_000
	maxLineLen          = 4096
)

// NewWarninglist returns a list holding the built-in entries and the given
// domains (each with its subdomains): pass the protected brands' official
// domains here. It fails on a domain that does not parse, naming it.
func NewWarninglist(domains ...string) (*Warninglist, error) {
	w := &Warninglist{tree: map[string]bool{}, exact: map[string]bool{}}
	for _, d := range BuiltinTree {
		w.tree[d] = true
	}
	for _, d := range BuiltinExact {
		w.exact[d] = true
	}
	for _, p := range BuiltinPrefixes {
		w.prefixes = append(w.prefixes, netip.MustParsePrefix(p))
	}
	for _, d := range domains {
		if err := w.AddTree(d); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// AddTree adds a domain and all its subdomains.
func (w *Warninglist) AddTree(domain string) error {
	d, err := normDomain(strings.TrimSpace(domain))
	if err != nil {
		return fmt.Errorf("warninglist domain: %w", err)
	}
	if w.tree == nil {
		w.tree = map[string]bool{}
	}
	w.tree[d] = true
	return nil
}

// AddExact adds a domain but not its subdomains.
func (w *Warninglist) AddExact(domain string) error {
	d, err := normDomain(strings.TrimSpace(domain))
	if err != nil {
		return fmt.Errorf("warninglist domain: %w", err)
	}
	if w.exact == nil {
		w.exact = map[string]bool{}
	}
	w.exact[d] = true
	return nil
}

// AddPrefix adds an IP address or network ("192.0.2.1", "2001:db8::/32").
func (w *Warninglist) AddPrefix(s string) error {
	s = strings.TrimSpace(s)
	p, err := netip.ParsePrefix(s)
	if err != nil {
		a, aerr := netip.ParseAddr(s)
		if aerr != nil {
			return fmt.Errorf("warninglist address %q: not an IP address or network", s)
		}
		p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
	}
	w.prefixes = append(w.prefixes, p.Masked())
	return nil
}

// Load adds the domains of a top-domain list to w and returns how many it
// added and how many lines it skipped. Accepted line forms: "example.org", "rank,example.org" (Tranco,
// Umbrella), "0.0.0.0 example.org" (hosts); "#" starts a comment; lines that
// do not parse are skipped and counted. Popular domains are added exactly,
// not with their subdomains: a top list holds hosting apexes whose customer
// subdomains are real phishing sites.
func (w *Warninglist) Load(r io.Reader) (added, skipped int, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLineLen)
	lines := 0
	for sc.Scan() {
		lines++
		if lines > MaxWarninglistLines {
			return added, skipped, fmt.Errorf("warninglist: more than %d lines: split the list", MaxWarninglistLines)
		}
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if _, rest, ok := strings.Cut(line, ","); ok {
			line = strings.TrimSpace(rest)
		} else if f := strings.Fields(line); len(f) == 2 {
			line = f[1]
		}
		if w.AddExact(line) != nil {
			skipped++
			continue
		}
		added++
	}
	if err := sc.Err(); err != nil {
		return added, skipped, fmt.Errorf("warninglist line %d: %w (lines are limited to %d bytes)", lines+1, err, maxLineLen)
	}
	return added, skipped, nil
}

// LoadWarninglist builds a list from the built-in entries plus the domains
// of a top-domain list (see (*Warninglist).Load).
func LoadWarninglist(r io.Reader) (*Warninglist, error) {
	w, _ := NewWarninglist()
	if _, _, err := w.Load(r); err != nil {
		return nil, err
	}
	return w, nil
}

// ContainsDomain reports whether a normalised domain must never be blocked:
// it or a parent is on the tree list, it is on the exact list, or it is a
// public suffix.
func (w *Warninglist) ContainsDomain(d string) bool {
	if w == nil {
		return false
	}
	if w.exact[d] || lookalike.Registrable(d) == "" {
		return true
	}
	for s := d; ; {
		if w.tree[s] {
			return true
		}
		i := strings.IndexByte(s, '.')
		if i < 0 {
			return false
		}
		s = s[i+1:]
	}
}

// DomainAndParents returns d and each of its parents that still has two
// labels or more (a.b.example → a.b.example, b.example): the names a
// domain indicator covering d could be on.
func DomainAndParents(d string) []string {
	var out []string
	for ; strings.Contains(d, "."); d = d[strings.IndexByte(d, '.')+1:] {
		out = append(out, d)
	}
	return out
}

// ContainsURLHost reports whether the host of a URL indicator must not be
// blocked as a name: it is on the list, or its registrable domain is (the
// URL is a page on a popular service, such as docs.google.com/forms/...,
// and blocking the host would take the whole service away; the URL still
// goes to the feeds that carry URLs). A customer's own name under a public
// suffix (evil.blogspot.com, x.web.app) is its own registrable domain and
// stays blockable.
func (w *Warninglist) ContainsURLHost(h string) bool {
	if w.ContainsDomain(h) {
		return true
	}
	r := lookalike.Registrable(h)
	return r != "" && r != h && w.ContainsDomain(r)
}

// ContainsIP reports whether an address must never be blocked.
func (w *Warninglist) ContainsIP(a netip.Addr) bool {
	if w == nil {
		return false
	}
	a = a.Unmap()
	for _, p := range w.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Contains reports whether an indicator touches the list: a domain on it, a
// URL or e-mail address whose domain is on it, an address on it. A URL is
// dropped too: a URL on an official brand domain is the brand's own page,
// and on a hosting apex (github.com/...) blocking feeds would turn it into a
// block of the host. File hashes and names never match.
func (w *Warninglist) Contains(in Indicator) bool {
	switch in.Type {
	case TypeDomain:
		return w.ContainsDomain(in.Value)
	case TypeURL:
		if h := in.host(); h != "" {
			return w.ContainsDomain(h)
		}
		if a, err := netip.ParseAddr(strings.Trim(urlHost(in.Value), "[]")); err == nil {
			return w.ContainsIP(a)
		}
	case TypeEmail:
		if i := strings.LastIndexByte(in.Value, '@'); i >= 0 {
			return w.ContainsDomain(in.Value[i+1:])
		}
	case TypeIP:
		if a, err := netip.ParseAddr(in.Value); err == nil {
			return w.ContainsIP(a)
		}
	}
	return false
}

// Select returns the indicators fit for export at now: valid (see
// Validate), not revoked, not expired (ValidUntil zero or after now) and not on the
// warninglist (nil: no list). The result is sorted by type (in the order of
// Types), value and organisation, so that writers produce the same output
// for the same set.
func Select(inds []Indicator, now time.Time, warn *Warninglist) []Indicator {
	out := make([]Indicator, 0, len(inds))
	for _, in := range inds {
		if in.Revoked || Validate(in) != nil {
			continue
		}
		if !in.ValidUntil.IsZero() && !in.ValidUntil.After(now) {
			continue
		}
		if warn.Contains(in) {
			continue
		}
		out = append(out, in)
	}
	sortIndicators(out)
	return out
}

// UpToTLP returns the indicators whose TLP is max or wider (an empty TLP
// counts as amber): UpToTLP(inds, TLPGreen) is what a community feed may
// carry.
func UpToTLP(inds []Indicator, max string) []Indicator {
	var out []Indicator
	for _, in := range inds {
		t := in.TLP
		if t == "" {
			t = TLPAmber
		}
		if tlpRank(t) <= tlpRank(max) {
			out = append(out, in)
		}
	}
	return out
}

func typeRank(t Type) int {
	if i := slices.Index(Types[:], t); i >= 0 {
		return i
	}
	return len(Types)
}

func sortIndicators(s []Indicator) {
	slices.SortStableFunc(s, func(a, b Indicator) int {
		return cmp.Or(cmp.Compare(typeRank(a.Type), typeRank(b.Type)), strings.Compare(a.Value, b.Value),
			strings.Compare(a.Org, b.Org), a.FirstSeen.Compare(b.FirstSeen))
	})
}

// urlHost returns the host part of a normalised URL.
func urlHost(u string) string {
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	if strings.HasPrefix(rest, "[") {
		if i := strings.IndexByte(rest, ']'); i >= 0 {
			return rest[:i+1]
		}
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		rest = rest[:i]
	}
	return rest
}
