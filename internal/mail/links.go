package mail

import (
	"encoding/base64"
	"net/netip"
	"net/url"
	"strings"
	"unicode"

	"github.com/ward-health/ward/internal/lookalike"
	"golang.org/x/net/idna"
)

// textURLs finds http(s) and www. links in plain text, at most max. Each
// pattern's next occurrence is remembered, so the text is read once per
// pattern however many links it holds.
func textURLs(text string, max int) []string {
	var out []string
	low := asciiLower(text)
	pats := [...]string{"http://", "https://", "www."}
	var next [len(pats)]int
	for k := range pats {
		next[k] = -2 // not searched yet
	}
	// find returns the next occurrence of pattern k at or after i that
	// starts a word (for "www."), or -1.
	find := func(k, i int) int {
		if next[k] == -1 || next[k] >= i {
			return next[k]
		}
		for off := i; ; {
			j := strings.Index(low[off:], pats[k])
			if j < 0 {
				next[k] = -1
				return -1
			}
			j += off
			if pats[k] != "www." || j == 0 || !isWordByte(low[j-1]) {
				next[k] = j
				return j
			}
			off = j + 1
		}
	}
	for i := 0; i < len(low) && len(out) < max; {
		start := -1
		for k := range pats {
			if j := find(k, i); j >= 0 && (start < 0 || j < start) {
				start = j
			}
		}
		if start < 0 {
			break
		}
		end := start
		for end < len(text) && !isURLStop(text[end]) {
			end++
		}
		u := strings.TrimRight(text[start:end], ".,;:!?)]}'\"*")
		rest := u
		if k := strings.Index(rest, "://"); k >= 0 {
			rest = rest[k+3:]
		}
		if len(rest) >= 4 && strings.Contains(rest, ".") {
			out = append(out, truncate(u, 2048))
		}
		i = max2(end, start+1)
	}
	return out
}

func max2(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '/' || c == '-'
}

func isURLStop(c byte) bool {
	return c <= ' ' || c == '<' || c == '>' || c == '"' || c == '`' || c == 0x7f
}

// unwrap removes the URL rewriters of mail security gateways (Microsoft
// Safe Links, Proofpoint URL Defense v1, v2 and v3), up to three layers, so
// that the real target is judged.
func unwrap(raw string) string {
	for i := 0; i < 3; i++ {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return raw
		}
		host := strings.ToLower(u.Hostname())
		var next string
		switch {
		case strings.HasSuffix(host, ".safelinks.protection.outlook.com"):
			next = u.Query().Get("url")
		case host == "urldefense.proofpoint.com" && strings.HasPrefix(u.Path, "/v2/url"):
			q := u.Query().Get("u")
			q = strings.NewReplacer("-", "%", "_", "/").Replace(q)
			if s, err := url.PathUnescape(q); err == nil {
				next = s
			}
		case host == "urldefense.proofpoint.com" && strings.HasPrefix(u.Path, "/v1/url"):
			next = u.Query().Get("u")
		case (host == "urldefense.com" || host == "urldefense.proofpoint.com") && strings.HasPrefix(u.Path, "/v3/"):
			next = unwrapProofpointV3(raw)
		}
		if next == "" || next == raw {
			return raw
		}
		raw = next
	}
	return raw
}

// unwrapProofpointV3 decodes ".../v3/__URL__;ENCODED!!...": characters that
// the rewriter replaced by "*" are given back, in order, from the base64url
// text after the ";".
func unwrapProofpointV3(raw string) string {
	i := strings.Index(raw, "/v3/__")
	if i < 0 {
		return ""
	}
	rest := raw[i+6:]
	j := strings.Index(rest, "__;")
	if j < 0 {
		if j = strings.Index(rest, "__"); j < 0 {
			return ""
		}
		return rest[:j]
	}
	target, enc := rest[:j], rest[j+3:]
	if k := strings.Index(enc, "!!"); k >= 0 {
		enc = enc[:k]
	}
	if !strings.Contains(target, "*") {
		return target
	}
	dec, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(enc, "="))
	if err != nil {
		return target
	}
	runes := []rune(string(dec))
	var b strings.Builder
	for _, c := range target {
		if c == '*' && len(runes) > 0 {
			b.WriteRune(runes[0])
			runes = runes[1:]
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// linkInfo is a link's target taken apart.
type linkInfo struct {
	raw, target string // as found; after unwrapping
	scheme      string
	host        string // lower-case, punycode for IDN, no port or brackets
	ip          bool
	userinfo    bool
}

// parseLink takes a link's target apart. ok is false for links that lead
// nowhere worth judging (relative, mailto, tel, cid, anchors).
func parseLink(raw string) (linkInfo, bool) {
	li := linkInfo{raw: raw, target: unwrap(strings.TrimSpace(raw))}
	t := li.target
	low := strings.ToLower(t)
	if strings.HasPrefix(low, "www.") {
		t = "http://" + t
		low = "http://" + low
	}
	switch {
	case strings.HasPrefix(low, "javascript:"):
		li.scheme = "javascript"
		return li, true
	case strings.HasPrefix(low, "data:"):
		li.scheme = "data"
		return li, true
	case strings.HasPrefix(low, "vbscript:"):
		li.scheme = "javascript"
		return li, true
	}
	u, err := url.Parse(t)
	if err != nil || u.Host == "" {
		return li, false
	}
	li.scheme = strings.ToLower(u.Scheme)
	if li.scheme != "http" && li.scheme != "https" && li.scheme != "ftp" {
		return li, false
	}
	li.userinfo = u.User != nil
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if addr, err := netip.ParseAddr(host); err == nil {
		li.ip = true
		li.host = addr.String()
		return li, true
	}
	if isDecimalIP(host) {
		li.ip = true
		li.host = host
		return li, true
	}
	if a, err := idna.Lookup.ToASCII(host); err == nil {
		host = a
	}
	li.host = host
	return li, host != ""
}

// isDecimalIP reports hosts like 3232235777 or 0x7f000001 that browsers
// read as IPv4 addresses.
func isDecimalIP(h string) bool {
	if h == "" || len(h) > 12 {
		return false
	}
	if strings.HasPrefix(h, "0x") {
		h = h[2:]
		for _, c := range h {
			if !unicode.Is(unicode.ASCII_Hex_Digit, c) {
				return false
			}
		}
		return h != ""
	}
	for _, c := range h {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// mixedScript reports whether a host has a label that mixes letters of
// Latin with Cyrillic or Greek, the classic homograph.
func mixedScript(host string) bool {
	if !strings.Contains(host, "xn--") {
		return false
	}
	u, err := idna.ToUnicode(host)
	if err != nil {
		return false
	}
	for _, label := range strings.Split(u, ".") {
		var latin, other bool
		for _, r := range label {
			switch {
			case r < 0x80 && unicode.IsLetter(r):
				latin = true
			case unicode.Is(unicode.Cyrillic, r), unicode.Is(unicode.Greek, r), unicode.Is(unicode.Armenian, r):
				other = true
			}
		}
		if latin && other {
			return true
		}
	}
	return false
}

// shownHost returns the domain that an anchor's visible text shows
// ("www.rivm.nl", "https://rivm.nl/login"), or "" when the text does not
// look like a web address.
func shownHost(text string) string {
	t := strings.TrimSpace(text)
	if t == "" || len(t) > 300 || strings.ContainsAny(t, " \t\n") || strings.Contains(t, "@") && !strings.Contains(t, "/") {
		return ""
	}
	low := strings.ToLower(t)
	if !strings.HasPrefix(low, "http://") && !strings.HasPrefix(low, "https://") && !strings.HasPrefix(low, "www.") {
		// A bare domain such as "rivm.nl": require a common top-level
		// domain, so that "report.pdf" or "Mr.Smith" are not taken for one.
		tld := low[strings.LastIndexByte(low, '.')+1:]
		if !commonTLD[strings.TrimRight(tld, "/")] {
			return ""
		}
	}
	h, err := lookalike.ParseHost(t)
	if err != nil {
		return ""
	}
	if lookalike.Registrable(h.ASCII) == "" {
		return ""
	}
	return h.ASCII
}
