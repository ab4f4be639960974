package mail

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/ward-health/ward/internal/brand"
	"github.com/ward-health/ward/internal/lookalike"
	"github.com/ward-health/ward/internal/mail/finding"
	"golang.org/x/net/idna"
)

// brandName is one way a display name can name a protected organisation.
type brandName struct {
	brand string
	// text is what is looked for; exact is true for short upper-case
	// acronyms that must match case and word ("WHO", "GGD"), otherwise
	// the match is case-insensitive on word boundaries.
	text  string
	exact bool
	// compact is true for names looked for with spaces and punctuation
	// removed ("worldhealthorganization").
	compact bool
	// domains are the organisation's own domains: mail from them (or
	// their subdomains) may use the name.
	domains []string
	own     bool
	// common is true for the commonly imitated organisations (Microsoft,
	// PayPal, DHL, ...) as opposed to the protected brands.
	common bool
}

// brandNames lists the names to look for in display names.
func brandNames(set *brand.Set, ownDomains, ownNames []string) []brandName {
	var out []brandName
	for _, b := range set.Brands {
		doms := append(append([]string(nil), b.Domains...), b.Allowlist...)
		add := func(text string, exact, compact bool) {
			if text != "" {
				out = append(out, brandName{brand: b.Name, text: text, exact: exact, compact: compact, domains: doms})
			}
		}
		name := strings.TrimSpace(b.Name)
		switch {
		case len(name) <= 6 && name == strings.ToUpper(name):
			add(name, true, false)
		case len(name) >= 4:
			add(strings.ToLower(name), false, false)
		}
		org := b.Organisation
		if i := strings.IndexByte(org, '('); i > 0 {
			org = org[:i]
		}
		if org = strings.ToLower(strings.TrimSpace(org)); len(org) >= 8 && org != strings.ToLower(name) {
			add(org, false, false)
		}
		for _, d := range b.Domains {
			add(d, false, false)
		}
		for _, n := range b.Names {
			if len(n) >= 10 {
				add(n, false, true)
			}
		}
	}
	for _, cb := range commonBrands {
		exact := len(cb.name) <= 4 && cb.name == strings.ToUpper(cb.name)
		text := cb.name
		if !exact {
			text = strings.ToLower(text)
		}
		out = append(out, brandName{brand: cb.name, text: text, exact: exact, domains: cb.domains, common: true})
	}
	for _, d := range ownDomains {
		out = append(out, brandName{brand: d, text: d, domains: ownDomains, own: true})
	}
	for _, n := range ownNames {
		out = append(out, brandName{brand: n, text: strings.ToLower(n), domains: ownDomains, own: true})
	}
	return out
}

// underAny reports whether domain is one of doms or a subdomain of one.
func underAny(domain string, doms []string) bool {
	for _, d := range doms {
		if domain == d || strings.HasSuffix(domain, "."+d) {
			return true
		}
	}
	return false
}

func compactLower(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// containsExactWord reports whether w occurs in s, same case, on word
// boundaries.
func containsExactWord(s, w string) bool {
	return containsWord(s, w, false)
}

// addrInName finds e-mail addresses written inside a display name.
var addrInName = regexp.MustCompile(`[A-Za-z0-9._%+\-]{1,64}@([A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63}){1,8})`)

// displayName looks at the From display name: an address of another domain
// inside it, or a protected brand or the recipient's own organisation
// named by an outside sender.
func (a *Analyzer) displayName(from address, rcpts []address, add func(finding.Finding)) {
	name := strings.TrimSpace(stripInvisible(from.name))
	if name == "" || len(name) > 1000 {
		return
	}
	if len(a.ownDomains) == 0 && recipientOrgNamed(name, from.domain, rcpts, add) {
		return
	}
	for _, m := range addrInName.FindAllStringSubmatch(name, 3) {
		d := strings.ToLower(m[1])
		if !aligned(d, from.domain) {
			add(finding.Finding{Signal: sigDisplayNameAddress, Score: 30, Class: finding.Weak,
				Detail: fmt.Sprintf("the sender's name shows the address %s but the mail comes from %s", m[0], from.addr)})
			break
		}
	}
	low := strings.ToLower(name)
	compact := compactLower(name)
	// A name that names the sender's own organisation ("Lockergnome
	// Apple Core" from lockergnome.com) uses a brand as its topic.
	selfNamed := false
	if org := lookalike.Registrable(from.domain); org != "" {
		label := org[:strings.IndexByte(org, '.')]
		selfNamed = len(label) >= 4 && containsWord(low, label, false)
	}
	for _, bn := range a.names {
		var hit bool
		switch {
		case bn.exact:
			hit = containsExactWord(name, bn.text)
		case bn.compact:
			hit = strings.Contains(compact, bn.text)
		default:
			hit = containsWord(low, bn.text, false)
		}
		if !hit || underAny(from.domain, bn.domains) || selfNamed && !bn.own {
			continue
		}
		sig, what, score := sigDisplayNameBrand, "the protected organisation "+bn.brand, 45
		switch {
		case bn.own:
			sig, what = sigDisplayNameOwnOrg, "your own organisation ("+bn.brand+")"
		case bn.common:
			what, score = bn.brand, 40
		}
		extra := ""
		if freemail[lookalike.Registrable(from.domain)] {
			extra = ", a free mail service"
		}
		add(finding.Finding{Signal: sig, Score: score, Class: finding.Weak,
			Detail: fmt.Sprintf("the sender's name %q names %s, but the mail comes from %s%s", truncate(name, 80), what, from.domain, extra)})
		return
	}
	if freemail[lookalike.Registrable(from.domain)] {
		for _, w := range roleWords {
			if containsWord(low, w, false) {
				add(finding.Finding{Signal: sigFreemailRole, Score: 20, Class: finding.Weak,
					Detail: fmt.Sprintf("the sender's name %q claims a service desk, but the mail comes from the free mail address %s", truncate(name, 80), from.addr)})
				return
			}
		}
	}
}

// lookalikeDomain reports a domain that imitates a protected brand.
// Matches scoring 90 or more are Phishing-class on their own.
func (a *Analyzer) lookalikeDomain(signal, role, domain string, add func(finding.Finding)) bool {
	if domain == "" {
		return false
	}
	m, ok, err := a.matcher.Match(domain)
	if err != nil || !ok || m.Score < lookalike.AlertThreshold {
		return false
	}
	class := finding.Weak
	if m.Score >= 90 {
		class = finding.Phishing
	}
	add(finding.Finding{Signal: signal, Score: m.Score / 2, Class: class,
		Detail: fmt.Sprintf("the %s %s imitates %s (%s; look-alike score %d)", role, m.Domain, m.Brand, strings.Join(m.Reasons, "; "), m.Score)})
	return true
}

// senderSignals looks at From, Reply-To and Return-Path.
func (a *Analyzer) senderSignals(from address, rcpts, replyTo []address, returnPath address, add func(finding.Finding)) {
	a.displayName(from, rcpts, add)
	senderHosting(from, add)
	if look, ok := homograph(from.domain); ok {
		add(finding.Finding{Signal: sigSenderHomograph, Score: 35, Class: finding.Weak,
			Detail: fmt.Sprintf("the sender domain %s is written with look-alike characters to read as %s", from.domain, look)})
	}
	a.senderBrandWord(from, add)
	a.lookalikeDomain(sigLookalikeSender, "sender domain", from.domain, add)
	fromOrg := lookalike.Registrable(from.domain)
	for _, rt := range replyTo {
		if rt.domain == "" || aligned(rt.domain, from.domain) {
			continue
		}
		if a.lookalikeDomain(sigLookalikeReplyTo, "Reply-To domain", rt.domain, add) {
			break
		}
		rtOrg := lookalike.Registrable(rt.domain)
		if freemail[rtOrg] && !freemail[fromOrg] {
			add(finding.Finding{Signal: sigReplyToFreemail, Score: 25, Class: finding.Weak,
				Detail: fmt.Sprintf("replies go to %s, a free mail address, not to the sender's domain %s", rt.addr, from.domain)})
		} else {
			add(finding.Finding{Signal: sigReplyToDiffers, Score: 10, Class: finding.Weak,
				Detail: fmt.Sprintf("replies go to %s, another domain than the sender's %s", rt.addr, from.domain)})
		}
		break
	}
	if rp := returnPath.domain; rp != "" && !aligned(rp, from.domain) {
		if !a.lookalikeDomain(sigLookalikeReturnPath, "bounce address (Return-Path) domain", rp, add) &&
			freemail[lookalike.Registrable(rp)] && !freemail[fromOrg] {
			add(finding.Finding{Signal: sigReturnPathFreemail, Score: 10, Class: finding.Weak,
				Detail: fmt.Sprintf("the bounce address %s is a free mail address while the sender claims %s", returnPath.addr, from.domain)})
		}
	}
}

// stripInvisible removes the invisible characters that split a name to
// dodge filters ("Mi\U000E0139cr\U000E0139osoft").
func stripInvisible(s string) string {
	if !obfuscated(s) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if invisible(r) {
			return -1
		}
		return r
	}, s)
}

// senderHosting reports a sender whose domain is on a free hosting
// service (noreply@x-1234.firebaseapp.com): no organisation sends so.
func senderHosting(from address, add func(finding.Finding)) {
	if from.domain != "" && underSet(from.domain, freeHosting) {
		add(finding.Finding{Signal: sigSenderFreeHosting, Score: 25, Class: finding.Weak,
			Detail: "the mail comes from " + from.domain + ", a free hosting service, not an organisation's own domain"})
	}
}

// recipientOrgNamed flags an outside sender whose display name names the
// recipient's organisation ("mijnziekenhuis IT-servicedesk" to
// jan@mijnziekenhuis.nl), when no own domains are configured: the
// recipients' organisational domains stand in for them.
func recipientOrgNamed(name, fromDomain string, rcpts []address, add func(finding.Finding)) bool {
	low := strings.ToLower(name)
	for _, r := range rcpts {
		org := lookalike.Registrable(r.domain)
		if org == "" || freemail[org] || aligned(org, fromDomain) {
			continue
		}
		label := org[:strings.IndexByte(org, '.')]
		if len(label) < 5 || !containsWord(low, label, false) && !strings.Contains(low, org) {
			continue
		}
		// 30, not 45: the organisation is inferred from the recipients,
		// and partners do write its name; it counts with other signs.
		add(finding.Finding{Signal: sigDisplayNameOwnOrg, Score: 30, Class: finding.Weak,
			Detail: fmt.Sprintf("the sender's name %q names your own organisation (%s), but the mail comes from %s", truncate(name, 80), org, fromDomain)})
		return true
	}
	return false
}

// homograph reports an internationalised domain whose every character
// looks like a plain Latin letter or digit ("robınhood.com" with a dotless
// ı reads as robinhood.com), and what it reads as.
func homograph(host string) (string, bool) {
	if !strings.Contains(host, "xn--") {
		return "", false
	}
	u, err := idna.ToUnicode(host)
	if err != nil || u == host {
		return "", false
	}
	skel := lookalike.Skeleton(u)
	for i := 0; i < len(skel); i++ {
		c := skel[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return "", false
		}
	}
	return skel, true
}

// senderBrandWord reports a sender domain that joins the name of a
// commonly imitated organisation to other words with hyphens
// ("deliver-fedex.com", "abuse-twitter.com") without being its domain.
func (a *Analyzer) senderBrandWord(from address, add func(finding.Finding)) {
	org := lookalike.Registrable(from.domain)
	if org == "" || a.isKnownGood(from.domain) {
		return
	}
	label := org[:strings.IndexByte(org, '.')]
	if !strings.Contains(label, "-") {
		return
	}
	for _, piece := range strings.Split(label, "-") {
		if len(piece) < 4 {
			continue
		}
		for _, cb := range commonBrands {
			if cb.domains != nil && strings.EqualFold(strings.ReplaceAll(cb.name, " ", ""), piece) {
				add(finding.Finding{Signal: sigSenderBrandWord, Score: 30, Class: finding.Weak,
					Detail: fmt.Sprintf("the sender domain %s borrows the name %s without being its domain", from.domain, cb.name)})
				return
			}
		}
	}
}
